"""Tests of rnn_helpers.gru: values, gradients, consistency, input checks."""
import warnings

import numpy as np
import pytest

from rnn_helpers import gru
from rnn_helpers.gradcheck import numerical_gradient, rel_error


def make_inputs(seed=0, T=4, N=3, D=4, H=5, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, N, D)).astype(dtype)
    h0 = rng.normal(size=(N, H)).astype(dtype)
    U = (rng.normal(size=(3 * H, D)) / np.sqrt(D)).astype(dtype)
    W = (rng.normal(size=(3 * H, H)) / np.sqrt(H)).astype(dtype)
    b = rng.normal(size=3 * H).astype(dtype)
    return x, h0, U, W, b


def gru_per_gate(x, h0, U, W, b):
    """Independent GRU: one sample at a time, column vectors, separate gate matrices."""
    H = h0.shape[1]
    U_r, U_z, U_n = U[:H], U[H:2 * H], U[2 * H:]
    W_r, W_z, W_n = W[:H], W[H:2 * H], W[2 * H:]
    b_r, b_z, b_n = b[:H], b[H:2 * H], b[2 * H:]

    def logistic(a):
        return 1.0 / (1.0 + np.exp(-a))

    T, N, _ = x.shape
    hs = np.zeros((T, N, H))
    for i in range(N):
        h = h0[i].astype(np.float64)
        for t in range(T):
            xt = x[t, i]
            r = logistic(U_r @ xt + W_r @ h + b_r)
            z = logistic(U_z @ xt + W_z @ h + b_z)
            n = np.tanh(U_n @ xt + W_n @ (r * h) + b_n)
            h = (1 - z) * h + z * n
            hs[t, i] = h
    return hs


# ---------------------------------------------------------------- forward values

def test_step_forward_matches_per_gate_implementation():
    x, h0, U, W, b = make_inputs(1)
    h_t, _ = gru.gru_step_forward(x[0], h0, U, W, b)
    expected = gru_per_gate(x[:1], h0, U, W, b)[0]
    assert h_t.shape == (3, 5)
    np.testing.assert_allclose(h_t, expected, rtol=1e-12, atol=1e-12)


def test_sequence_forward_matches_per_gate_implementation():
    x, h0, U, W, b = make_inputs(2, T=6, N=2, D=3, H=4)
    hs, _ = gru.gru_forward(x, h0, U, W, b)
    np.testing.assert_allclose(hs, gru_per_gate(x, h0, U, W, b), rtol=1e-12, atol=1e-12)


def test_step_and_sequence_agree_forward_and_backward():
    x, h0, U, W, b = make_inputs(3)
    hs, cache = gru.gru_forward(x, h0, U, W, b)
    rng = np.random.default_rng(30)
    dhs = rng.normal(size=hs.shape)
    dx, dh0, dU, dW, db = gru.gru_backward(dhs, cache)

    h, caches = h0, []
    for t in range(x.shape[0]):
        h, c = gru.gru_step_forward(x[t], h, U, W, b)
        np.testing.assert_allclose(h, hs[t], rtol=1e-12, atol=1e-14)
        caches.append(c)
    dh_next = np.zeros_like(h0)
    sums = [np.zeros_like(U), np.zeros_like(W), np.zeros_like(b)]
    for t in reversed(range(x.shape[0])):
        dx_t, dh_next, dU_t, dW_t, db_t = gru.gru_step_backward(dhs[t] + dh_next, caches[t])
        np.testing.assert_allclose(dx_t, dx[t], rtol=1e-10, atol=1e-12)
        for total, part in zip(sums, (dU_t, dW_t, db_t)):
            total += part
    np.testing.assert_allclose(dh_next, dh0, rtol=1e-10, atol=1e-12)
    for got, want in zip((dU, dW, db), sums):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_update_gate_closed_keeps_state_exactly():
    """Leaky-unit view: with z = 0 the unit copies h_{t-1}, and its gradient passes unchanged."""
    x, h0, U, W, b = make_inputs(4)
    H = h0.shape[1]
    b = b.copy()
    b[H:2 * H] = -1000.0                     # sigmoid(-1000) == 0 in float64
    hs, cache = gru.gru_forward(x, h0, U, W, b)
    for t in range(x.shape[0]):
        np.testing.assert_array_equal(hs[t], h0)
    dhs = np.zeros_like(hs)
    dhs[-1] = np.random.default_rng(40).normal(size=h0.shape)
    _, dh0, _, _, _ = gru.gru_backward(dhs, cache)
    np.testing.assert_allclose(dh0, dhs[-1], rtol=1e-12, atol=1e-12)


def test_update_gate_open_takes_candidate():
    x, h0, U, W, b = make_inputs(5)
    H = h0.shape[1]
    b = b.copy()
    b[H:2 * H] = 1000.0                      # z = 1: h_t is the candidate n_t
    h_t, cache = gru.gru_step_forward(x[0], h0, U, W, b)
    np.testing.assert_array_equal(h_t, cache.n)


def test_gate_sigmoid_is_stable_and_correct():
    a = np.array([-1e4, -50.0, -1.0, 0.0, 2.0, 50.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = gru.sigmoid(a)
        s32 = gru.sigmoid(a.astype(np.float32))
    assert s32.dtype == np.float32
    assert s[0] == 0.0 and s[-1] == 1.0
    np.testing.assert_allclose(s[1:-1], 1.0 / (1.0 + np.exp(-a[1:-1])), rtol=1e-12, atol=1e-15)


def test_large_preactivations_give_no_warnings():
    x, h0, U, W, b = make_inputs(13)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            hs, cache = gru.gru_forward(1e4 * x, h0, U, W, b)
            gru.gru_backward(np.ones_like(hs), cache)
    assert np.all(np.isfinite(hs))
    with np.errstate(over="ignore"):                 # the plain logistic of the reference overflows
        expected = gru_per_gate(1e4 * x, h0, U, W, b)
    np.testing.assert_allclose(hs, expected, atol=1e-12)


def test_parameter_count():
    D, H = 7, 11
    _, _, U, W, b = make_inputs(6, D=D, H=H)
    assert U.size + W.size + b.size == 3 * (D * H + H * H + H)


# ---------------------------------------------------------------- gradients

def test_step_backward_gradients():
    x, h0, U, W, b = make_inputs(7)
    x_t = x[0]
    h_t, cache = gru.gru_step_forward(x_t, h0, U, W, b)
    dh_t = np.random.default_rng(70).normal(size=h_t.shape)
    grads = gru.gru_step_backward(dh_t, cache)
    args = [x_t.copy(), h0.copy(), U.copy(), W.copy(), b.copy()]
    for k, name in enumerate(["dx_t", "dh_prev", "dU", "dW", "db"]):
        def f(v, k=k):
            a = list(args)
            a[k] = v
            return gru.gru_step_forward(*a)[0]
        num = numerical_gradient(f, args[k], dh_t)
        assert rel_error(grads[k], num) < 1e-6, name


def test_sequence_backward_gradients():
    x, h0, U, W, b = make_inputs(8, T=5, N=2, D=3, H=4)
    hs, cache = gru.gru_forward(x, h0, U, W, b)
    dhs = np.random.default_rng(80).normal(size=hs.shape)
    grads = gru.gru_backward(dhs, cache)
    args = [x.copy(), h0.copy(), U.copy(), W.copy(), b.copy()]
    for k, name in enumerate(["dx", "dh0", "dU", "dW", "db"]):
        def f(v, k=k):
            a = list(args)
            a[k] = v
            return gru.gru_forward(*a)[0]
        num = numerical_gradient(f, args[k], dhs)
        assert grads[k].shape == args[k].shape, name
        assert rel_error(grads[k], num) < 1e-6, name


def test_gradient_only_from_last_state():
    """Loss on h_T only (many-to-one): dhs zero except at the last step."""
    x, h0, U, W, b = make_inputs(9, T=8, N=2, D=2, H=3)
    hs, cache = gru.gru_forward(x, h0, U, W, b)
    dhs = np.zeros_like(hs)
    dhs[-1] = 1.0
    dx, dh0, dU, dW, db = gru.gru_backward(dhs, cache)
    x_copy = x.copy()
    num = numerical_gradient(lambda v: gru.gru_forward(v, h0, U, W, b)[0][-1].sum(), x_copy)
    assert rel_error(dx, num) < 1e-6
    num_W = numerical_gradient(lambda v: gru.gru_forward(x, h0, U, v, b)[0][-1].sum(), W.copy())
    assert rel_error(dW, num_W) < 1e-6


# ---------------------------------------------------------------- dtypes, mutation

def test_float32_works_and_stays_float32():
    x, h0, U, W, b = make_inputs(10, dtype=np.float32)
    hs, cache = gru.gru_forward(x, h0, U, W, b)
    assert hs.dtype == np.float32
    grads = gru.gru_backward(np.ones_like(hs), cache)
    assert all(g.dtype == np.float32 for g in grads)
    hs64, cache64 = gru.gru_forward(*(a.astype(np.float64) for a in (x, h0, U, W, b)))
    np.testing.assert_allclose(hs, hs64, rtol=1e-4, atol=1e-5)
    grads64 = gru.gru_backward(np.ones_like(hs64), cache64)
    for g, g64 in zip(grads, grads64):
        np.testing.assert_allclose(g, g64, rtol=1e-3, atol=1e-4)
    h_t, step_cache = gru.gru_step_forward(x[0], h0, U, W, b)
    assert h_t.dtype == np.float32
    assert all(g.dtype == np.float32 for g in gru.gru_step_backward(np.ones_like(h_t), step_cache))


def test_inputs_are_not_modified():
    inputs = make_inputs(11)
    before = [a.copy() for a in inputs]
    hs, cache = gru.gru_forward(*inputs)
    dhs = np.ones_like(hs)
    gru.gru_backward(dhs, cache)
    x, h0, U, W, b = inputs
    h_t, step_cache = gru.gru_step_forward(x[0], h0, U, W, b)
    dh_t = np.ones_like(h_t)
    gru.gru_step_backward(dh_t, step_cache)
    for a, a0 in zip(inputs, before):
        np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(dhs, 1.0)
    np.testing.assert_array_equal(dh_t, 1.0)


def test_lists_are_accepted():
    x, h0, U, W, b = make_inputs(12)
    hs, _ = gru.gru_forward(x.tolist(), h0.tolist(), U.tolist(), W.tolist(), b.tolist())
    np.testing.assert_allclose(hs, gru.gru_forward(x, h0, U, W, b)[0])


# ---------------------------------------------------------------- input checks

@pytest.mark.parametrize("name, shape", [
    ("x_t", (3, 4, 1)), ("x_t", (4,)), ("h_prev", (2, 5)), ("h_prev", (3, 5, 1)),
    ("U", (5, 4)), ("U", (15, 3)), ("W", (15, 4)), ("W", (5, 5)), ("b", (5,)), ("b", (15, 1)),
])
def test_step_forward_rejects_bad_shapes(name, shape):
    x, h0, U, W, b = make_inputs(13)
    args = {"x_t": x[0], "h_prev": h0, "U": U, "W": W, "b": b}
    args[name] = np.zeros(shape)
    with pytest.raises(ValueError, match=rf"^{name} should have"):
        gru.gru_step_forward(**args)


@pytest.mark.parametrize("name, shape", [
    ("x", (3, 4)), ("h0", (2, 5)), ("U", (15, 5)), ("W", (12, 4)), ("b", (16,)),
])
def test_sequence_forward_rejects_bad_shapes(name, shape):
    x, h0, U, W, b = make_inputs(14)
    args = {"x": x, "h0": h0, "U": U, "W": W, "b": b}
    args[name] = np.zeros(shape)
    with pytest.raises(ValueError, match=rf"^{name} should have"):
        gru.gru_forward(**args)


def test_messages_give_expected_and_received_shape():
    x, h0, U, W, b = make_inputs(15)
    with pytest.raises(ValueError, match=r"U should have shape \(3H, D\) = \(15, 4\).*got shape \(5, 4\)"):
        gru.gru_step_forward(x[0], h0, U[:5], W, b)


def test_integer_input_is_rejected():
    x, h0, U, W, b = make_inputs(16)
    with pytest.raises(ValueError, match="x_t should be a floating-point array"):
        gru.gru_step_forward(np.ones((3, 4), dtype=int), h0, U, W, b)


def test_backward_checks_cache_and_upstream_gradient():
    x, h0, U, W, b = make_inputs(17)
    hs, cache = gru.gru_forward(x, h0, U, W, b)
    h_t, step_cache = gru.gru_step_forward(x[0], h0, U, W, b)
    with pytest.raises(ValueError, match="dhs should have shape"):
        gru.gru_backward(hs[:-1], cache)
    with pytest.raises(ValueError, match="dh_t should have shape"):
        gru.gru_step_backward(h_t[:, :-1], step_cache)
    with pytest.raises(ValueError, match="cache should be the cache returned by gru_forward"):
        gru.gru_backward(hs, step_cache)
    with pytest.raises(ValueError, match="cache should be the cache returned by gru_step_forward"):
        gru.gru_step_backward(h_t, cache)
