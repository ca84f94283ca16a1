"""rnn_helpers.lessons.ngram: add-k and interpolated Kneser-Ney n-gram models."""
import numpy as np
import pytest

from rnn_helpers.lessons.ngram import AddKNGram, KneserNeyNGram, estimate_discounts

#: A stream small enough to count by hand: tokens 0, 1, 2, with the pad 2 before it.
#: Its bigrams (context, token): (2, 0), (0, 1), (1, 0), (0, 0), (0, 1).
STREAM = np.array([0, 1, 0, 0, 1])


def every_distribution(model, contexts):
    """p(w | context) for every w, one row per context (a list of n-1 tokens)."""
    rows = []
    for context in contexts:
        rows.append([model.probabilities(np.array(list(context) + [w]))[-1] for w in range(model.V)])
    return np.array(rows)


def test_add_k_probabilities_are_the_smoothed_counts():
    stream = np.array([0, 1, 0, 1, 0, 2])
    model = AddKNGram(stream, 2, 3, k=0.5, pad=0)
    # contexts with the pad: (0)->0, 0->1, 1->0, 0->1, 1->0, 0->2; count(0) = 4, count(0, 1) = 2
    p = model.probabilities(np.array([1, 2]))                  # p(1 | pad 0), p(2 | 1)
    np.testing.assert_allclose(p, [(2 + 0.5) / (4 + 1.5), (0 + 0.5) / (2 + 1.5)])


def test_kneser_ney_discounts_are_estimated_from_the_counts_of_counts():
    model = KneserNeyNGram(STREAM, 2, 3, pad=2)
    # bigram counts 1, 2, 1, 1: n1 = 3, n2 = 1, D = 3 / (3 + 2); continuation counts of the
    # unigrams: token 0 follows 2, 1 and 0 (3), token 1 follows 0 only (1): n1 = 1, n2 = 0, D = 1
    assert model.discounts == pytest.approx([1.0, 0.6])
    assert estimate_discounts(np.array([5, 7])) == 0.5               # no count of 1: the fallback


def test_kneser_ney_matches_hand_computed_probabilities():
    model = KneserNeyNGram(STREAM, 2, 3, pad=2)
    # 1-gram order, continuation counts {0: 3, 1: 1} (total 4, 2 types), D = 1, uniform 1/3 below:
    # p1(0) = (3 - 1 + 1 * 2 / 3) / 4 = 2/3, p1(1) = (1 - 1 + 2/3) / 4 = 1/6, p1(2) = (2/3) / 4 = 1/6
    p1 = np.array([2 / 3, 1 / 6, 1 / 6])
    # 2-gram order, D = 0.6; context 0: counts {1: 2, 0: 1}, total 3, 2 types:
    # p(w | 0) = (c(0 w) - 0.6 [if seen] + 0.6 * 2 * p1(w)) / 3
    after_0 = (np.array([1 - 0.6, 2 - 0.6, 0]) + 0.6 * 2 * p1) / 3
    # context 1: counts {0: 1}: p(w | 1) = (c(1 w) - 0.6 [if seen] + 0.6 * 1 * p1(w)) / 1
    after_1 = np.array([1 - 0.6, 0, 0]) + 0.6 * p1
    np.testing.assert_allclose(after_0, [0.4, 1.6 / 3, 0.2 / 3])
    np.testing.assert_allclose(every_distribution(model, [[0], [1], [2]]), [after_0, after_1, after_1])
    # a stream of three tokens: p(1 | pad 2), p(0 | 1), p(2 | 0)
    np.testing.assert_allclose(model.probabilities(np.array([1, 0, 2])), [after_1[1], after_1[0], after_0[2]])


def test_an_unseen_context_passes_all_its_mass_to_the_shorter_one():
    stream = np.array([0, 1, 0, 1, 1, 0, 3, 1])
    model = KneserNeyNGram(stream, 3, 4, pad=2, discounts=[0.5, 0.5, 0.5])
    # neither (3, 3) nor (2, 3) occurs: both give the bigram order's p(w | 3); (0, 3) occurs
    unseen, other_unseen, seen = every_distribution(model, [[3, 3], [2, 3], [0, 3]])
    np.testing.assert_allclose(unseen, other_unseen)
    assert not np.allclose(unseen, seen)
    assert seen.argmax() == 1 and seen[1] > unseen[1]              # (0, 3) was followed by 1


@pytest.mark.parametrize("modified", [False, True])
@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_kneser_ney_distributions_sum_to_one_for_every_context(n, modified):
    rng = np.random.default_rng(n)
    V = 5
    stream = rng.integers(0, V, size=300) * (rng.random(300) < 0.7)     # skewed, with repeats
    model = KneserNeyNGram(stream, n, V, pad=0, modified=modified)
    contexts = [rng.integers(0, V, size=n - 1) for _ in range(12)] + [np.full(n - 1, V - 1)]
    probs = every_distribution(model, contexts)
    assert np.all(probs > 0)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)


def test_modified_discounts_follow_chen_and_goodman():
    counts = np.array([1] * 10 + [2] * 4 + [3] * 3 + [4] * 2 + [9])
    D = 10 / (10 + 2 * 4)
    assert estimate_discounts(counts, modified=True) == pytest.approx(
        (1 - 2 * D * 4 / 10, 2 - 3 * D * 3 / 4, 3 - 4 * D * 2 / 3))
    assert estimate_discounts(np.array([1, 1, 2]), modified=True) == (0.5, 1.0, 1.5)   # no count of 3


def test_kneser_ney_beats_add_k_on_held_out_text_of_a_repetitive_source():
    rng = np.random.default_rng(0)
    words = [rng.integers(0, 6, size=rng.integers(2, 6)) for _ in range(30)]
    stream = np.concatenate([np.append(words[i], 6) for i in rng.integers(0, 30, size=800)])
    train, held_out = stream[:3000], stream[3000:]
    kn = KneserNeyNGram(train, 4, 7, pad=6).perplexity(held_out)
    assert kn < AddKNGram(train, 4, 7, k=0.1, pad=6).perplexity(held_out)
    assert KneserNeyNGram(train, 4, 7, pad=6, modified=True).perplexity(held_out) < kn * 1.02


def test_unigram_perplexity_of_a_uniform_stream_is_the_vocabulary_size():
    stream = np.tile(np.arange(5), 40)
    assert AddKNGram(stream, 1, 5, k=1.0).perplexity(stream) == pytest.approx(5.0)
    assert AddKNGram(stream, 2, 5, k=0.01).perplexity(stream) < 1.1   # the next token is determined
    assert KneserNeyNGram(stream, 1, 5).perplexity(stream) == pytest.approx(5.0)


def test_bad_arguments_are_rejected():
    for model in (AddKNGram, KneserNeyNGram):
        with pytest.raises(ValueError, match="stream should hold token ids in \\[0, 2\\]"):
            model(np.array([0, 3]), 2, 3)
        with pytest.raises(ValueError, match="n should be a positive int"):
            model(np.array([0, 1]), 0, 3)
    with pytest.raises(ValueError, match="k should be a positive"):
        AddKNGram(np.array([0, 1]), 2, 3, k=0)
    with pytest.raises(ValueError, match="discounts should be None or one entry per order"):
        KneserNeyNGram(np.array([0, 1]), 2, 3, discounts=[0.5])


def test_stored_ngrams_counts_the_distinct_ngrams_of_every_order():
    # STREAM with the pad 2: bigrams (2, 0), (0, 1), (1, 0), (0, 0) distinct; unigrams 0, 1
    assert KneserNeyNGram(STREAM, 2, 3, pad=2).stored_ngrams() == 4 + 2
    assert AddKNGram(STREAM, 2, 3, pad=2).stored_ngrams() == 4
