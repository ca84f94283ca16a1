"""rnn_helpers.training.sampling: temperature softmax, sampling statistics, name generation."""
import numpy as np
import pytest

from rnn_helpers.training.sequence_model import SequenceModel
from rnn_helpers.training.sampling import generate_names, sample_from_logits, temperature_softmax
from rnn_helpers.tasks.text import CharVocab


def test_temperature_softmax_against_the_formula():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]])
    for T in (0.3, 1.0, 4.0):
        e = np.exp(logits / T)
        np.testing.assert_allclose(temperature_softmax(logits, T), e / e.sum(-1, keepdims=True), rtol=1e-12)
    np.testing.assert_allclose(temperature_softmax(np.array([1000.0, 0.0]), 1e-6), [1.0, 0.0])
    assert np.all(np.isfinite(temperature_softmax(np.array([1e300, -1e300]), 1e-300)))


def test_low_temperature_gives_the_argmax():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(200, 6))
    picks = sample_from_logits(logits, 1e-3, rng)
    assert picks.shape == (200,) and picks.dtype == np.int64
    np.testing.assert_array_equal(picks, logits.argmax(axis=1))


def test_frequencies_match_the_softmax_at_temperature_one():
    logits = np.array([2.0, 1.0, 0.0, -1.0, 0.5])
    p = np.exp(logits) / np.exp(logits).sum()
    n = 20000
    picks = sample_from_logits(np.tile(logits, (n, 1)), 1.0, np.random.default_rng(1))
    freq = np.bincount(picks, minlength=5) / n
    # each frequency within 4 standard errors of its probability
    assert np.all(np.abs(freq - p) < 4 * np.sqrt(p * (1 - p) / n))
    # chi-square goodness of fit, 4 degrees of freedom: 18.5 is the 0.999 quantile
    assert np.sum((freq - p) ** 2 / p) * n < 18.5


def test_high_temperature_flattens_and_zero_probability_never_drawn():
    logits = np.array([3.0, 0.0, -np.inf])
    picks = sample_from_logits(np.tile(logits, (5000, 1)), 100.0, np.random.default_rng(2))
    freq = np.bincount(picks, minlength=3) / 5000
    assert freq[2] == 0 and abs(freq[0] - 0.5) < 0.05


def test_sampling_is_seeded():
    logits = np.random.default_rng(3).normal(size=(4, 7, 5))
    a = sample_from_logits(logits, 0.8, np.random.default_rng(9))
    b = sample_from_logits(logits, 0.8, np.random.default_rng(9))
    assert a.shape == (4, 7)
    np.testing.assert_array_equal(a, b)


def test_bad_temperature_and_rng():
    with pytest.raises(ValueError, match="temperature"):
        sample_from_logits(np.zeros((2, 3)), 0.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="temperature"):
        temperature_softmax(np.zeros(3), -1.0)
    with pytest.raises(ValueError, match="rng"):
        sample_from_logits(np.zeros((2, 3)), 1.0, 42)
    with pytest.raises(ValueError, match="logits"):
        sample_from_logits(np.zeros((2, 3), dtype=int), 1.0, np.random.default_rng(0))


def test_generate_names_shapes_and_vocabulary():
    vocab = CharVocab("abc\n")
    model = SequenceModel("rnn", vocab.size, 8, vocab.size, rng=np.random.default_rng(0))
    names = generate_names(model, vocab, 12, 1.0, np.random.default_rng(0), max_len=5)
    assert len(names) == 12
    assert all(isinstance(n, str) and len(n) <= 5 and set(n) <= set("abc") for n in names)
    assert names == generate_names(model, vocab, 12, 1.0, np.random.default_rng(0), max_len=5)
    with pytest.raises(ValueError, match="vocabulary"):
        generate_names(model, CharVocab("ab\n"), 3, 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="temperature"):
        generate_names(model, vocab, 3, 0, np.random.default_rng(0))


def test_generate_names_follows_a_model_that_always_writes_ab():
    # Hand-set weights: the hidden state is a one-hot copy of the input character and the
    # read-out maps '\n' -> 'a', 'a' -> 'b', 'b' -> '\n'.
    vocab = CharVocab("ab\n")                      # chars: '\n', 'a', 'b'
    model = SequenceModel("rnn", 3, 3, 3, rng=np.random.default_rng(0))
    model.params.update(U=10.0 * np.eye(3), W=np.zeros((3, 3)), b=np.zeros(3),
                        V=20.0 * np.eye(3)[[2, 0, 1]], c=np.zeros(3))
    names = generate_names(model, vocab, 4, 0.5, np.random.default_rng(0))
    assert names == ["ab"] * 4


def test_sample_from_probs_draws_every_row_from_its_own_distribution():
    from rnn_helpers.training.sampling import sample_from_probs
    probs = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]])
    picks = sample_from_probs(np.repeat(probs, 4000, axis=0), np.random.default_rng(5)).reshape(2, 4000)
    assert np.all(picks[0] == 1) and set(np.unique(picks[1])) == {0, 2}
    assert abs(np.mean(picks[1] == 0) - 0.5) < 0.03
    with pytest.raises(ValueError, match="rng"):
        sample_from_probs(probs, None)
