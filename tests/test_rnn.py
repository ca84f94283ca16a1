"""rnn_helpers.rnn against independent computations and numerical gradients."""
import numpy as np
import pytest

from conftest import assert_gradients_match
from rnn_helpers.gradcheck import numerical_gradient, rel_error
from rnn_helpers.rnn import (rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward,
                             softmax, softmax_cross_entropy)


def params(rng, T=4, N=3, D=5, H=6, scale=0.5):
    return (rng.normal(size=(T, N, D)), rng.normal(size=(N, H)), scale * rng.normal(size=(H, D)),
            scale * rng.normal(size=(H, H)), rng.normal(size=H))


def test_step_forward_matches_the_column_vector_equations():
    rng = np.random.default_rng(0)
    x, h0, U, W, b = params(rng)
    h_t, _ = rnn_step_forward(x[0], h0, U, W, b)
    for n in range(x.shape[1]):  # one sample at a time, as column vectors
        a = b + W @ h0[n] + U @ x[0, n]
        np.testing.assert_allclose(h_t[n], np.tanh(a), rtol=1e-12)


def test_sequence_forward_equals_repeated_steps():
    rng = np.random.default_rng(1)
    x, h, U, W, b = params(rng)
    hs, _ = rnn_forward(x, h, U, W, b)
    for t in range(x.shape[0]):
        h, _ = rnn_step_forward(x[t], h, U, W, b)
        np.testing.assert_allclose(hs[t], h, rtol=1e-12)


def test_step_backward_matches_numerical_gradients():
    rng = np.random.default_rng(2)
    x, h0, U, W, b = params(rng)
    inputs = [x[0], h0, U, W, b]
    h_t, cache = rnn_step_forward(*inputs)
    dh = rng.normal(size=h_t.shape)
    grads = rnn_step_backward(dh, cache)
    assert_gradients_match(rnn_step_forward, inputs, grads, dh)


def test_sequence_backward_matches_numerical_gradients():
    rng = np.random.default_rng(3)
    inputs = list(params(rng))
    hs, cache = rnn_forward(*inputs)
    dhs = rng.normal(size=hs.shape)
    grads = rnn_backward(dhs, cache)
    assert_gradients_match(rnn_forward, inputs, grads, dhs)


def test_float32_inputs_give_float32_results():
    rng = np.random.default_rng(4)
    x, h0, U, W, b = (a.astype(np.float32) for a in params(rng))
    hs, cache = rnn_forward(x, h0, U, W, b)
    assert hs.dtype == np.float32
    assert all(g.dtype == np.float32 for g in rnn_backward(np.ones_like(hs), cache))


def test_inputs_are_not_modified():
    rng = np.random.default_rng(5)
    inputs = params(rng)
    copies = [a.copy() for a in inputs]
    hs, cache = rnn_forward(*inputs)
    dhs = np.ones_like(hs)
    rnn_backward(dhs, cache)
    for a, c in zip(inputs, copies):
        np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(dhs, 1.0)


@pytest.mark.parametrize("position, bad, message", [
    (2, np.zeros((5, 6)), r"U should have shape \(H, D\) = \(6, 5\).*got shape \(5, 6\)"),
    (3, np.zeros((6, 5)), r"W should have shape \(H, H\) = \(6, 6\).*got shape \(6, 5\)"),
    (4, np.zeros(5), r"b should have shape \(H,\) = \(6,\).*got shape \(5,\)"),
    (1, np.zeros((2, 6)), r"h0 should have shape \(N, H\).*got shape \(2, 6\)"),
    (0, np.zeros((3, 5)), r"x should have 3 dimensions"),
    (0, np.zeros((4, 3, 5), dtype=int), r"x should be a floating-point array.*int"),
])
def test_bad_input_names_the_argument(position, bad, message):
    args = list(params(np.random.default_rng(6)))
    args[position] = bad
    with pytest.raises(ValueError, match=message):
        rnn_forward(*args)


def test_backward_rejects_a_foreign_cache_and_wrong_gradient_shape():
    rng = np.random.default_rng(7)
    x, h0, U, W, b = params(rng)
    hs, cache = rnn_forward(x, h0, U, W, b)
    with pytest.raises(ValueError, match="cache returned by rnn_forward"):
        rnn_backward(hs, (x, h0))
    with pytest.raises(ValueError, match="dhs should have shape"):
        rnn_backward(hs[:-1], cache)
    _, step_cache = rnn_step_forward(x[0], h0, U, W, b)
    with pytest.raises(ValueError, match="cache returned by rnn_step_forward"):
        rnn_step_backward(hs[0], cache)


def test_softmax_cross_entropy_values_against_direct_formula():
    rng = np.random.default_rng(8)
    logits = rng.normal(size=(3, 4, 5))
    y = rng.integers(0, 5, size=(3, 4))
    loss, _ = softmax_cross_entropy(logits, y)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    expected = -sum(np.log(p[t, n, y[t, n]]) for t in range(3) for n in range(4)) / 4
    assert loss == pytest.approx(expected, rel=1e-12)


def test_softmax_cross_entropy_gradient_and_mask():
    rng = np.random.default_rng(9)
    logits = rng.normal(size=(3, 4, 5))
    y = rng.integers(0, 5, size=(3, 4))
    mask = rng.random((3, 4)) > 0.4
    loss, dlogits = softmax_cross_entropy(logits, y, mask)
    numeric = numerical_gradient(lambda a: softmax_cross_entropy(a, y, mask)[0], logits.copy())
    assert rel_error(dlogits, numeric) < 1e-7
    assert np.all(dlogits[~mask] == 0)
    changed = logits.copy()
    changed[~mask] += 100.0  # masked-out positions do not matter
    assert softmax_cross_entropy(changed, y, mask)[0] == pytest.approx(loss, rel=1e-12)


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[[1000.0, 0.0, -1000.0]], [[1e300, -1e300, 0.0]]])
    y = np.array([[0], [0]])
    with np.errstate(all="raise"):
        loss, dlogits = softmax_cross_entropy(logits, y)
    assert loss == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.isfinite(dlogits))
    loss_wrong, _ = softmax_cross_entropy(np.array([[[1000.0, 0.0]]]), np.array([[1]]))
    assert loss_wrong == pytest.approx(1000.0)


def test_softmax_cross_entropy_rejects_bad_labels():
    logits = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match=r"y should hold class indices in \[0, 3\]"):
        softmax_cross_entropy(logits, np.full((2, 3), 4))
    with pytest.raises(ValueError, match="y should be an integer array"):
        softmax_cross_entropy(logits, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"mask should have shape"):
        softmax_cross_entropy(logits, np.zeros((2, 3), dtype=int), np.ones((3, 2), dtype=bool))


def test_softmax_rows_sum_to_one():
    p = softmax(np.array([[1e4, 0.0], [1.0, 2.0]]))
    np.testing.assert_allclose(p.sum(-1), 1.0)
    assert p[0, 0] == 1.0


def test_log_softmax_is_the_log_of_softmax_and_stable():
    from rnn_helpers.rnn import log_softmax, softmax
    logits = np.array([[1.0, 2.0, -3.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(log_softmax(logits), np.log(softmax(logits)), rtol=1e-12)
    np.testing.assert_allclose(log_softmax(logits, axis=0), np.log(softmax(logits, axis=0)), rtol=1e-12)
    huge = log_softmax(np.array([1e4, 0.0]))
    assert np.all(np.isfinite(huge)) and huge[0] == 0.0 and huge[1] == -1e4
