"""rnn_helpers.embedding: lookup forward, index-add backward, validation."""
import numpy as np
import pytest

from rnn_helpers.embedding import embedding_backward, embedding_forward
from rnn_helpers.gradcheck import numerical_gradient, rel_error


def test_forward_looks_up_rows_and_equals_one_hot_product():
    rng = np.random.default_rng(0)
    E = rng.normal(size=(7, 3))
    tokens = np.array([[0, 6], [3, 3], [5, 0]])
    out, _ = embedding_forward(tokens, E)
    assert out.shape == (3, 2, 3)
    np.testing.assert_array_equal(out[1, 0], E[3])
    np.testing.assert_allclose(out, np.eye(7)[tokens] @ E)


def test_backward_sums_the_gradient_of_repeated_tokens():
    E = np.zeros((4, 2))
    tokens = np.array([[1, 1], [1, 2]])
    dout = np.arange(8.0).reshape(2, 2, 2)
    _, cache = embedding_forward(tokens, E)
    dE = embedding_backward(dout, cache)
    np.testing.assert_array_equal(dE[1], dout[0, 0] + dout[0, 1] + dout[1, 0])
    np.testing.assert_array_equal(dE[2], dout[1, 1])
    np.testing.assert_array_equal(dE[[0, 3]], 0.0)


def test_gradient_check():
    rng = np.random.default_rng(1)
    E = rng.normal(size=(5, 4))
    tokens = rng.integers(0, 5, size=(6, 3))          # 18 positions over 5 tokens: repeats
    dout = rng.normal(size=(6, 3, 4))
    _, cache = embedding_forward(tokens, E)
    analytic = embedding_backward(dout, cache)
    numeric = numerical_gradient(lambda e: embedding_forward(tokens, e)[0], E, dout)
    assert rel_error(analytic, numeric) < 1e-8


def test_inputs_are_not_modified_and_float32_is_kept():
    E = np.random.default_rng(2).normal(size=(3, 2)).astype(np.float32)
    tokens = np.array([[2], [0]])
    E_before, tokens_before = E.copy(), tokens.copy()
    out, cache = embedding_forward(tokens, E)
    out[...] = 99.0                                   # the output is a new array, not a view of E
    tokens[0, 0] = 1                                  # the cache keeps its own copy
    dE = embedding_backward(np.ones((2, 1, 2), dtype=np.float32), cache)
    np.testing.assert_array_equal(E, E_before)
    assert out.dtype == np.float32 and dE.dtype == np.float32
    np.testing.assert_array_equal(dE[:, 0], [1.0, 0.0, 1.0])
    assert tokens_before[0, 0] == 2


@pytest.mark.parametrize("tokens, E, message", [
    (np.array([[0.0, 1.0]]), np.ones((3, 2)), "tokens should be an integer array"),
    (np.array([0, 1]), np.ones((3, 2)), "tokens should have 2 dimensions"),
    (np.array([[0, 3]]), np.ones((3, 2)), r"tokens should lie in \[0, 2\]"),
    (np.array([[-1, 0]]), np.ones((3, 2)), r"tokens should lie in \[0, 2\]"),
    (np.array([[0, 1]]), np.ones(3), "E should have 2 dimensions"),
    (np.array([[0, 1]]), np.ones((3, 2), dtype=int), "E should be a floating-point array"),
])
def test_forward_rejects_bad_input(tokens, E, message):
    with pytest.raises(ValueError, match=message):
        embedding_forward(tokens, E)


def test_backward_rejects_bad_input():
    _, cache = embedding_forward(np.array([[0, 1]]), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"dout should have shape \(1, 2, 2\)"):
        embedding_backward(np.ones((1, 2, 3)), cache)
    with pytest.raises(ValueError, match="cache should be the cache returned by embedding_forward"):
        embedding_backward(np.ones((1, 2, 2)), (np.array([[0, 1]]), (3, 2)))
