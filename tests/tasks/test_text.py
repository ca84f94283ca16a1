"""rnn_helpers.tasks.text: vocabulary, one-hot vectors, the first-names corpus."""
import numpy as np
import pytest

from rnn_helpers.tasks.text import CharVocab, load_first_names, names_corpus, one_hot, unigram_entropy


def test_vocab_is_sorted_and_round_trips():
    vocab = CharVocab("hello\nworld\n")
    assert vocab.chars == sorted(set("helowrd\n"))
    assert vocab.size == len(vocab) == 8
    idx = vocab.encode("world\nhello")
    assert idx.dtype == np.int64 and idx.shape == (11,)
    assert [vocab.chars[i] for i in idx] == list("world\nhello")
    assert vocab.decode(idx) == "world\nhello"
    assert vocab.decode(np.array([], dtype=np.int64)) == ""


def test_vocab_rejects_unknown_characters_and_bad_indices():
    vocab = CharVocab("abc")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        vocab.encode("abd")
    with pytest.raises(ValueError, match="indices"):
        vocab.decode(np.array([0, 3]))
    with pytest.raises(ValueError, match="integer"):
        vocab.decode(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="text"):
        CharVocab("")


def test_one_hot_values_and_shape():
    idx = np.array([[2, 0], [1, 2]])
    out = one_hot(idx, 4)
    assert out.shape == (2, 2, 4) and out.dtype == np.float64
    np.testing.assert_array_equal(out, np.eye(4)[idx])
    assert one_hot(idx, 3, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="indices"):
        one_hot(np.array([3]), 3)
    with pytest.raises(ValueError, match="integer"):
        one_hot(np.array([0.5]), 3)
    with pytest.raises(ValueError, match="size"):
        one_hot(np.array([0]), 0)


def test_first_names_are_lowercase_unique_letters():
    names = load_first_names()
    assert len(names) > 5000
    assert names[:2] == ["mary", "patricia"]          # most frequent female names first
    assert "james" in names and "john" in names
    assert len(set(names)) == len(names)
    assert all(name.isalpha() and name.islower() and name.isascii() for name in names)


def test_names_corpus_split_is_a_fixed_shuffle_of_all_names():
    names = [f"n{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(100)]
    train, valid = names_corpus(names, validation_fraction=0.2, seed=3)
    assert train.endswith("\n") and valid.endswith("\n")
    train_names, valid_names = train.split("\n")[:-1], valid.split("\n")[:-1]
    assert len(valid_names) == 20 and len(train_names) == 80
    assert sorted(train_names + valid_names) == sorted(names)
    assert (train, valid) == names_corpus(names, validation_fraction=0.2, seed=3)
    assert train_names != names[:80]                      # shuffled
    assert names_corpus(names, 0.2, seed=4) != (train, valid)


def test_names_corpus_rejects_bad_input():
    with pytest.raises(ValueError, match="separator"):
        names_corpus(["ann", "bo\nb"])
    with pytest.raises(ValueError, match="validation_fraction"):
        names_corpus(["ann", "bob"], validation_fraction=1.0)
    with pytest.raises(ValueError, match="at least 2"):
        names_corpus(["ann"])


def test_unigram_entropy_against_the_formula():
    idx = np.array([0, 0, 1, 2, 0, 1])
    p = np.array([3, 2, 1]) / 6
    assert unigram_entropy(idx, 5) == pytest.approx(-(p * np.log(p)).sum(), rel=1e-12)
    assert unigram_entropy(np.zeros(7, dtype=int), 3) == 0.0
    assert unigram_entropy(np.arange(8), 8) == pytest.approx(np.log(8))
    with pytest.raises(ValueError, match="indices"):
        unigram_entropy(np.array([3]), 3)
