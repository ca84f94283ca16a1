"""rnn_helpers.tasks.binary_addition: the encoding, decoding and exact-match accuracy."""
import numpy as np
import pytest

from rnn_helpers.tasks.binary_addition import (addition_sequences, exact_match_accuracy, from_bits,
                                         make_binary_addition, predicted_sums, random_pairs, to_bits)


def test_to_bits_is_little_endian_and_round_trips():
    bits = to_bits(np.array([6, 1, 0]), 4)
    np.testing.assert_array_equal(bits, [[0, 1, 0], [1, 0, 0], [1, 0, 0], [0, 0, 0]])
    values = np.random.default_rng(0).integers(0, 2 ** 40, size=50)
    np.testing.assert_array_equal(from_bits(to_bits(values, 40)), values)
    for v in (0, 5, 2 ** 20 - 1):
        assert "".join(map(str, to_bits(np.array([v]), 20)[::-1, 0])) == format(v, "020b")


def test_addition_sequences_match_python_integers():
    rng = np.random.default_rng(1)
    a, b = random_pairs(30, 12, rng)
    x, y = addition_sequences(a, b, 12)
    assert x.shape == (13, 30, 2) and x.dtype == np.float64
    assert y.shape == (13, 30) and y.dtype == np.int64
    for n in range(30):
        assert int("".join(str(int(v)) for v in x[::-1, n, 0]), 2) == a[n]
        assert int("".join(str(int(v)) for v in x[::-1, n, 1]), 2) == b[n]
        assert int("".join(str(v) for v in y[::-1, n]), 2) == int(a[n]) + int(b[n])
    np.testing.assert_array_equal(x[-1], 0)           # the last step only emits the carry


def test_make_binary_addition_is_seeded_and_in_range():
    x1, y1 = make_binary_addition(20, 8, np.random.default_rng(2))
    x2, y2 = make_binary_addition(20, 8, np.random.default_rng(2))
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert set(np.unique(x1)) <= {0.0, 1.0} and from_bits(y1).max() < 2 ** 9


def test_predicted_sums_and_exact_match():
    a, b = np.array([3, 7, 200]), np.array([5, 9, 100])
    _, y = addition_sequences(a, b, 8)
    logits = np.where(np.eye(2, dtype=bool)[y], 2.0, -1.0)  # (T, n, 2), argmax = target
    np.testing.assert_array_equal(predicted_sums(logits), a + b)
    assert exact_match_accuracy(logits, y) == 1.0
    logits[4, 1] = logits[4, 1, ::-1]                   # one wrong bit in sequence 1
    assert exact_match_accuracy(logits, y) == pytest.approx(2 / 3)
    assert predicted_sums(logits)[1] == (a + b)[1] ^ (1 << 4)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="values"):
        to_bits(np.array([16]), 4)
    with pytest.raises(ValueError, match="values"):
        to_bits(np.array([-1]), 4)
    with pytest.raises(ValueError, match="n_bits"):
        to_bits(np.array([1]), 0)
    with pytest.raises(ValueError, match="n_bits"):
        make_binary_addition(3, 63, np.random.default_rng(0))
    with pytest.raises(ValueError, match="0s and 1s"):
        from_bits(np.array([[2]]))
    with pytest.raises(ValueError, match="b should have shape"):
        addition_sequences(np.array([1, 2]), np.array([1]), 4)
    with pytest.raises(ValueError, match="y should have shape"):
        exact_match_accuracy(np.zeros((3, 2, 2)), np.zeros((3, 4), dtype=int))
    with pytest.raises(ValueError, match="rng"):
        random_pairs(3, 4, 0)
