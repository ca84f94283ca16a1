"""rnn_helpers.tasks.agreement: the long-range agreement data."""
import numpy as np
import pytest

from rnn_helpers.tasks import agreement as ag

SINGULAR = {ag.WORD_TO_INDEX[w] for w in ag.SINGULAR_NOUNS}
PLURAL = {ag.WORD_TO_INDEX[w] for w in ag.PLURAL_NOUNS}


@pytest.mark.parametrize("distance", [0, 1, 7, 30])
def test_shapes_and_structure(distance):
    tokens, labels = ag.make_agreement_data(200, distance, np.random.default_rng(distance))
    assert tokens.shape == (distance + 2, 200) and tokens.dtype == np.int64
    assert labels.shape == (200,) and labels.dtype == np.int64
    assert set(np.unique(labels)) == {0, 1}
    assert np.all(tokens[0] == ag.WORD_TO_INDEX["the"])
    assert tokens.min() >= 0 and tokens.max() < ag.VOCAB_SIZE
    verbs = {ag.WORD_TO_INDEX[v] for v in ag.VERBS}
    assert not verbs & set(np.unique(tokens)), "the verb must not be part of the input"


def test_label_is_the_number_of_the_subject():
    tokens, labels = ag.make_agreement_data(300, 5, np.random.default_rng(0))
    subject_plural = np.array([t in PLURAL for t in tokens[1]])
    subject_singular = np.array([t in SINGULAR for t in tokens[1]])
    np.testing.assert_array_equal(subject_plural, labels == 1)
    np.testing.assert_array_equal(subject_singular, labels == 0)


def test_the_nearest_noun_says_nothing_about_the_verb():
    tokens, labels = ag.make_agreement_data(3000, 12, np.random.default_rng(1))
    agree, counted = 0, 0
    for i in range(tokens.shape[1]):
        nouns = [t for t in tokens[2:, i] if t in SINGULAR or t in PLURAL]
        if nouns:
            counted += 1
            agree += (nouns[-1] in PLURAL) == (labels[i] == 1)
    assert counted > 1500                    # distractors do contain nouns (attractors) ...
    assert abs(agree / counted - 0.5) < 0.05  # ... of either number, independent of the subject


def test_same_seed_same_data_and_text():
    a = ag.make_agreement_data(20, 6, np.random.default_rng(3))
    b = ag.make_agreement_data(20, 6, np.random.default_rng(3))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    text = ag.sentences(*a)
    assert len(text) == 20
    for sentence, label in zip(text, a[1]):
        words = sentence.split()
        assert len(words) == 6 + 3 and words[0] == "the"
        assert words[-1] == ("were" if label else "was")
        assert (words[1] in ag.PLURAL_NOUNS) == bool(label)


def test_encode_is_one_hot():
    tokens, _ = ag.make_agreement_data(4, 3, np.random.default_rng(0))
    x = ag.encode(tokens)
    assert x.shape == (5, 4, ag.VOCAB_SIZE) and x.dtype == np.float64
    np.testing.assert_array_equal(x.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(x.argmax(axis=-1), tokens)
    assert ag.CHANCE_ACCURACY == 0.5


def test_bad_inputs():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="distance"):
        ag.make_agreement_data(10, -1, rng)
    with pytest.raises(ValueError, match="n"):
        ag.make_agreement_data(0, 3, rng)
    with pytest.raises(ValueError, match="rng"):
        ag.make_agreement_data(10, 3, 0)
    with pytest.raises(ValueError, match="tokens"):
        ag.encode(np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="labels"):
        ag.sentences(np.zeros((3, 2), dtype=int), np.zeros(3, dtype=int))
