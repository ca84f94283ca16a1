"""rnn_helpers.lessons.ngram: the add-k smoothed n-gram baseline."""
import numpy as np
import pytest

from rnn_helpers.lessons.ngram import NGramModel


def test_probabilities_are_the_smoothed_counts():
    stream = np.array([0, 1, 0, 1, 0, 2])
    model = NGramModel(stream, 2, 3, k=0.5, pad=0)
    # contexts with the pad: (0)->0, 0->1, 1->0, 0->1, 1->0, 0->2; count(0) = 4, count(0, 1) = 2
    p = model.probabilities(np.array([1, 2]))                  # p(1 | pad 0), p(2 | 1)
    np.testing.assert_allclose(p, [(2 + 0.5) / (4 + 1.5), (0 + 0.5) / (2 + 1.5)])


def test_distribution_sums_to_one_for_every_context():
    rng = np.random.default_rng(0)
    stream = rng.integers(0, 4, size=200)
    model = NGramModel(stream, 3, 4, k=0.1)
    for context in ([0, 0], [1, 3], [3, 3]):
        total = sum(model.probabilities(np.array(context + [x]))[-1] for x in range(4))
        assert total == pytest.approx(1.0)


def test_unigram_perplexity_of_a_uniform_stream_is_the_vocabulary_size():
    stream = np.tile(np.arange(5), 40)
    assert NGramModel(stream, 1, 5, k=1.0).perplexity(stream) == pytest.approx(5.0)
    assert NGramModel(stream, 2, 5, k=0.01).perplexity(stream) < 1.1   # the next token is determined


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="stream should hold token ids in \\[0, 2\\]"):
        NGramModel(np.array([0, 3]), 2, 3)
    with pytest.raises(ValueError, match="n should be a positive int"):
        NGramModel(np.array([0, 1]), 0, 3)
    with pytest.raises(ValueError, match="k should be a positive"):
        NGramModel(np.array([0, 1]), 2, 3, k=0)
