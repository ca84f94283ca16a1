"""Tests of rnn_helpers.tasks.future_context: the "followed by the marker within k steps" task."""
import numpy as np
import pytest

from rnn_helpers.tasks import future_context as fc


def tags_by_brute_force(tokens, k, marker):
    T, N = tokens.shape
    tags = np.zeros((T, N), dtype=np.int64)
    for t in range(T):
        for n in range(N):
            tags[t, n] = int(any(tokens[s, n] == marker for s in range(t + 1, min(T, t + k + 1))))
    return tags


@pytest.mark.parametrize("k", [1, 2, 3, 7, 20])
def test_tags_match_brute_force(k):
    tokens = np.random.default_rng(k).integers(0, 5, size=(9, 6))
    np.testing.assert_array_equal(fc.followed_by_marker(tokens, k, marker=4), tags_by_brute_force(tokens, k, 4))


def test_tags_by_hand():
    tokens = np.array([[0, 4, 1, 2, 4, 3]]).T          # a X b c X d
    np.testing.assert_array_equal(fc.followed_by_marker(tokens, 2, marker=4).ravel(), [1, 0, 1, 1, 0, 0])
    np.testing.assert_array_equal(fc.followed_by_marker(tokens, 1, marker=4).ravel(), [1, 0, 0, 1, 0, 0])


def test_task_shapes_one_hot_and_consistency():
    x, y = fc.make_future_context_task(50, 12, np.random.default_rng(0))
    assert x.shape == (12, 50, 5) and y.shape == (12, 50)
    assert x.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_array_equal(x.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(y, fc.followed_by_marker(x.argmax(-1), 3))
    assert not y[-1].any()                               # nothing follows the last token


def test_default_task_is_balanced_and_seeded():
    x, y = fc.make_future_context_task(4000, 20, np.random.default_rng(1))
    assert abs(x[..., fc.MARKER].mean() - 0.2) < 0.01
    assert abs(y[:-3].mean() - (1 - 0.8 ** 3)) < 0.01
    x2, y2 = fc.make_future_context_task(4000, 20, np.random.default_rng(1))
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)


def test_decode_and_one_hot():
    tokens = np.array([[0, 4], [1, 3]])
    x = fc.one_hot(tokens)
    assert fc.decode(x) == ["ab", "Xd"]
    assert fc.decode(x[:, 1]) == "Xd"
    with pytest.raises(ValueError, match="tokens should be integers"):
        fc.one_hot(np.array([[5]]))


def test_input_checks():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="k should be a positive integer"):
        fc.make_future_context_task(3, 4, rng, k=0)
    with pytest.raises(ValueError, match="p_marker"):
        fc.make_future_context_task(3, 4, rng, p_marker=1.5)
    with pytest.raises(ValueError, match="rng should be a numpy Generator"):
        fc.make_future_context_task(3, 4, 0)
    with pytest.raises(ValueError, match=r"tokens should be a \(T, N\) integer array"):
        fc.followed_by_marker(np.zeros((3, 2)), 2)
