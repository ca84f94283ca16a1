"""Tests of rnn_helpers.lstm: values, gradients, step/sequence agreement, dtypes, errors."""
import warnings

import numpy as np
import pytest

from rnn_helpers.gradcheck import numerical_gradient, rel_error
from rnn_helpers.lstm import (lstm_backward, lstm_forward, lstm_step_backward,
                              lstm_step_forward, sigmoid)

T, N, D, H = 4, 3, 5, 6


def make_inputs(seed=0, dtype=np.float64, T=T, N=N, D=D, H=H):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, N, D))
    h0, c0 = rng.normal(size=(N, H)), rng.normal(size=(N, H))
    U, W = rng.normal(scale=0.5, size=(4 * H, D)), rng.normal(scale=0.5, size=(4 * H, H))
    b = rng.normal(size=4 * H)
    return [a.astype(dtype) for a in (x, h0, c0, U, W, b)]


def naive_step(x_t, h_prev, c_prev, U, W, b):
    """An independent implementation: one gate at a time, with explicit weight blocks."""
    def block(k):
        rows = slice(k * H_, (k + 1) * H_)
        return x_t @ U[rows].T + h_prev @ W[rows].T + b[rows]

    H_ = h_prev.shape[1]
    logistic = lambda a: 1.0 / (1.0 + np.exp(-a))  # noqa: E731
    i, f, g, o = logistic(block(0)), logistic(block(1)), np.tanh(block(2)), logistic(block(3))
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t


def naive_forward(x, h0, c0, U, W, b):
    h, c, hs, cs = h0, c0, [], []
    for x_t in x:
        h, c = naive_step(x_t, h, c, U, W, b)
        hs.append(h)
        cs.append(c)
    return np.array(hs), np.array(cs)


# ---------------------------------------------------------------- forward values

def test_step_forward_matches_per_gate_implementation():
    x, h0, c0, U, W, b = make_inputs()
    h_t, c_t, _ = lstm_step_forward(x[0], h0, c0, U, W, b)
    want_h, want_c = naive_step(x[0], h0, c0, U, W, b)
    assert rel_error(h_t, want_h) < 1e-12
    assert rel_error(c_t, want_c) < 1e-12


def test_forward_matches_per_gate_implementation():
    x, h0, c0, U, W, b = make_inputs(seed=1)
    hs, cs, _ = lstm_forward(x, h0, c0, U, W, b)
    want_hs, want_cs = naive_forward(x, h0, c0, U, W, b)
    assert hs.shape == cs.shape == (T, N, H)
    assert rel_error(hs, want_hs) < 1e-12
    assert rel_error(cs, want_cs) < 1e-12


def test_gate_order_is_i_f_g_o():
    # Forget gate fully open, input gate shut: the cell state is carried unchanged.
    x, h0, c0, U, W, _ = make_inputs(seed=2)
    U, W = np.zeros_like(U), np.zeros_like(W)
    b = np.concatenate([np.full(H, -50.0), np.full(H, 50.0), np.zeros(H), np.full(H, 50.0)])
    h_t, c_t, _ = lstm_step_forward(x[0], h0, c0, U, W, b)
    np.testing.assert_allclose(c_t, c0, atol=1e-15)
    np.testing.assert_allclose(h_t, np.tanh(c0), atol=1e-15)


def test_step_and_sequence_agree():
    x, h0, c0, U, W, b = make_inputs(seed=3)
    hs, cs, cache = lstm_forward(x, h0, c0, U, W, b)
    rng = np.random.default_rng(30)
    dhs, dcs = rng.normal(size=hs.shape), rng.normal(size=cs.shape)
    h, c, caches = h0, c0, []
    for t in range(T):
        h, c, step_cache = lstm_step_forward(x[t], h, c, U, W, b)
        np.testing.assert_allclose(h, hs[t], rtol=1e-13)
        np.testing.assert_allclose(c, cs[t], rtol=1e-13)
        caches.append(step_cache)
    dx, dh0, dc0, dU, dW, db = lstm_backward(dhs, cache, dcs)
    dh, dc = np.zeros((N, H)), np.zeros((N, H))
    sums = [np.zeros_like(U), np.zeros_like(W), np.zeros_like(b)]
    for t in reversed(range(T)):
        dx_t, dh, dc, *param_grads = lstm_step_backward(dhs[t] + dh, dcs[t] + dc, caches[t])
        np.testing.assert_allclose(dx_t, dx[t], rtol=1e-10, atol=1e-12)
        sums = [s + g for s, g in zip(sums, param_grads)]
    for got, want in zip((dh0, dc0, dU, dW, db), (dh, dc, *sums)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- gradient checks

def test_step_backward_gradients():
    x, h0, c0, U, W, b = make_inputs(seed=4)
    x_t = x[0]
    rng = np.random.default_rng(40)
    dh, dc = rng.normal(size=(N, H)), rng.normal(size=(N, H))

    def loss(*args):
        h_t, c_t, _ = lstm_step_forward(*args)
        return np.sum(h_t * dh) + np.sum(c_t * dc)

    args = [x_t, h0, c0, U, W, b]
    _, _, cache = lstm_step_forward(*args)
    grads = lstm_step_backward(dh, dc, cache)
    for k, (name, grad) in enumerate(zip(["x_t", "h_prev", "c_prev", "U", "W", "b"], grads)):
        def f(value, k=k):
            return loss(*(args[:k] + [value] + args[k + 1:]))
        numerical = numerical_gradient(f, args[k].copy())
        assert rel_error(grad, numerical) < 1e-6, name


@pytest.mark.parametrize("with_dcs", [False, True])
def test_sequence_backward_gradients(with_dcs):
    x, h0, c0, U, W, b = make_inputs(seed=5)
    rng = np.random.default_rng(50)
    dhs = rng.normal(size=(T, N, H))
    dcs = rng.normal(size=(T, N, H)) if with_dcs else None

    def loss(*args):
        hs, cs, _ = lstm_forward(*args)
        return np.sum(hs * dhs) + (np.sum(cs * dcs) if with_dcs else 0.0)

    args = [x, h0, c0, U, W, b]
    _, _, cache = lstm_forward(*args)
    grads = lstm_backward(dhs, cache, dcs)
    for k, (name, grad) in enumerate(zip(["x", "h0", "c0", "U", "W", "b"], grads)):
        def f(value, k=k):
            return loss(*(args[:k] + [value] + args[k + 1:]))
        numerical = numerical_gradient(f, args[k].copy())
        assert grad.shape == args[k].shape, name
        assert rel_error(grad, numerical) < 1e-6, name


def test_gradient_only_on_cell_states():
    # dhs = 0 and dcs on the last cell state only: the gradient must still reach c0.
    x, h0, c0, U, W, b = make_inputs(seed=6)
    _, _, cache = lstm_forward(x, h0, c0, U, W, b)
    dcs = np.zeros((T, N, H))
    dcs[-1] = 1.0
    _, _, dc0, _, _, _ = lstm_backward(np.zeros((T, N, H)), cache, dcs)

    def f(c0_value):
        return lstm_forward(x, h0, c0_value, U, W, b)[1][-1].sum()

    assert np.abs(dc0).max() > 1e-3
    assert rel_error(dc0, numerical_gradient(f, c0.copy())) < 1e-6


# ---------------------------------------------------------------- numerics, dtypes

def test_sigmoid_is_stable_and_correct():
    a = np.array([-1e4, -750.0, -30.0, -1.0, 0.0, 1.0, 30.0, 750.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise", under="ignore"):
            s = sigmoid(a)
            s32 = sigmoid(a.astype(np.float32))
    np.testing.assert_allclose(s[2:-2], 1.0 / (1.0 + np.exp(-a[2:-2])), rtol=1e-14, atol=1e-15)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[4] == 0.5
    assert s32.dtype == np.float32 and np.all(np.isfinite(s32))


def test_large_preactivations_give_no_warnings():
    x, h0, c0, U, W, b = make_inputs(seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            hs, cs, cache = lstm_forward(1e4 * x, h0, c0, U, W, b)
            lstm_backward(np.ones_like(hs), cache, np.ones_like(cs))
    assert np.all(np.isfinite(hs))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_follows_inputs(dtype):
    x, h0, c0, U, W, b = make_inputs(seed=8, dtype=dtype)
    hs, cs, cache = lstm_forward(x, h0, c0, U, W, b)
    grads = lstm_backward(np.ones_like(hs), cache, np.ones_like(cs))
    h_t, c_t, step_cache = lstm_step_forward(x[0], h0, c0, U, W, b)
    step_grads = lstm_step_backward(np.ones_like(h_t), np.ones_like(c_t), step_cache)
    for array in (hs, cs, h_t, c_t, *grads, *step_grads):
        assert array.dtype == dtype


def test_float32_agrees_with_float64():
    args64 = make_inputs(seed=9)
    args32 = [a.astype(np.float32) for a in args64]
    hs64, cs64, cache64 = lstm_forward(*args64)
    hs32, cs32, cache32 = lstm_forward(*args32)
    np.testing.assert_allclose(hs32, hs64, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(cs32, cs64, rtol=1e-4, atol=1e-5)
    g64 = lstm_backward(np.ones_like(hs64), cache64)
    g32 = lstm_backward(np.ones_like(hs32), cache32)
    for a, b in zip(g32, g64):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)


def test_inputs_are_not_mutated():
    args = make_inputs(seed=10)
    copies = [a.copy() for a in args]
    hs, cs, cache = lstm_forward(*args)
    dhs, dcs = np.ones_like(hs), np.ones_like(cs)
    lstm_backward(dhs, cache, dcs)
    h_t, c_t, step_cache = lstm_step_forward(args[0][0], *args[1:])
    dh, dc = np.ones_like(h_t), np.ones_like(c_t)
    lstm_step_backward(dh, dc, step_cache)
    for a, c in zip(args, copies):
        np.testing.assert_array_equal(a, c)
    assert np.all(dhs == 1) and np.all(dcs == 1) and np.all(dh == 1) and np.all(dc == 1)


# ---------------------------------------------------------------- errors

def test_wrong_shapes_name_the_argument():
    x, h0, c0, U, W, b = make_inputs()
    cases = {
        "x_t": (x, h0, c0, U, W, b),
        "h_prev": (x[0], h0[:-1], c0, U, W, b),
        "c_prev": (x[0], h0, c0[:, :-1], U, W, b),
        "U": (x[0], h0, c0, U[:-1], W, b),
        "W": (x[0], h0, c0, U, W[:, :-1], b),
        "b": (x[0], h0, c0, U, W, b[:H]),
    }
    for name, args in cases.items():
        with pytest.raises(ValueError, match=rf"^{name} should"):
            lstm_step_forward(*args)
    with pytest.raises(ValueError, match=r"U should have shape \(4H, D\) = \(24, 5\)"):
        lstm_forward(x, h0, c0, U[:H], W, b)
    with pytest.raises(ValueError, match=r"D = 4 comes from x\)"):
        lstm_forward(x[..., :-1], h0, c0, U, W, b)
    with pytest.raises(ValueError, match="^x should"):
        lstm_forward(x[0], h0, c0, U, W, b)
    with pytest.raises(ValueError, match="^c0 should"):
        lstm_forward(x, h0, c0[:, :2], U, W, b)
    with pytest.raises(ValueError, match="^W should"):
        lstm_forward(x, h0, c0, U, W.T, b)


def test_backward_checks_its_arguments():
    x, h0, c0, U, W, b = make_inputs()
    hs, cs, cache = lstm_forward(x, h0, c0, U, W, b)
    h_t, c_t, step_cache = lstm_step_forward(x[0], h0, c0, U, W, b)
    with pytest.raises(ValueError, match="^dhs should"):
        lstm_backward(hs[:-1], cache)
    with pytest.raises(ValueError, match="^dcs should"):
        lstm_backward(hs, cache, cs[:, :-1])
    with pytest.raises(ValueError, match="cache should be the cache returned by lstm_forward"):
        lstm_backward(hs, step_cache)
    with pytest.raises(ValueError, match="^dh_t should"):
        lstm_step_backward(h_t.T, c_t, step_cache)
    with pytest.raises(ValueError, match="^dc_t should"):
        lstm_step_backward(h_t, c_t[:1], step_cache)
    with pytest.raises(ValueError, match="lstm_step_forward"):
        lstm_step_backward(h_t, c_t, cache)
    with pytest.raises(ValueError, match="floating-point"):
        lstm_forward(x.astype(int), h0, c0, U, W, b)


def test_cell_jacobian_matches_centred_differences():
    from rnn_helpers.lstm import cell_jacobian
    rng = np.random.default_rng(7)
    D_, H_ = 3, 5
    x_t, c_prev, o_prev = rng.normal(size=D_), rng.normal(size=H_), rng.random(H_)
    U, W, b = rng.normal(size=(4 * H_, D_)), rng.normal(size=(4 * H_, H_)), rng.normal(size=4 * H_)

    def next_cell(c):
        return lstm_step_forward(x_t[None], (o_prev * np.tanh(c))[None], c[None], U, W, b)[1][0]

    numeric = np.stack([(next_cell(c_prev + e) - next_cell(c_prev - e)) / 2e-6
                        for e in 1e-6 * np.eye(H_)], axis=1)
    inputs = [a.copy() for a in (x_t, c_prev, o_prev)]
    assert rel_error(cell_jacobian(x_t, c_prev, o_prev, U, W, b), numeric) < 1e-7
    for before, after in zip(inputs, (x_t, c_prev, o_prev)):
        np.testing.assert_array_equal(before, after)


def test_cell_jacobian_splits_into_direct_and_gate_paths():
    from rnn_helpers.lstm import cell_jacobian
    rng = np.random.default_rng(8)
    D_, H_ = 2, 4
    x_t, c_prev, o_prev = rng.normal(size=D_), rng.normal(size=H_), rng.random(H_)
    U, W, b = rng.normal(size=(4 * H_, D_)), rng.normal(size=(4 * H_, H_)), rng.normal(size=4 * H_)
    f = sigmoid(U[H_:2 * H_] @ x_t + W[H_:2 * H_] @ (o_prev * np.tanh(c_prev)) + b[H_:2 * H_])
    direct = cell_jacobian(x_t, c_prev, o_prev, U, W, b, through="")
    np.testing.assert_allclose(direct, np.diag(f), atol=1e-12)
    paths = [cell_jacobian(x_t, c_prev, o_prev, U, W, b, through=gate) - direct for gate in "ifg"]
    np.testing.assert_allclose(direct + sum(paths), cell_jacobian(x_t, c_prev, o_prev, U, W, b), atol=1e-12)
    assert all(np.abs(path).max() > 1e-3 for path in paths)


def test_cell_jacobian_with_respect_to_h_prev():
    from rnn_helpers.lstm import cell_jacobian
    rng = np.random.default_rng(9)
    D_, H_ = 2, 3
    x_t, c_prev, o_prev = rng.normal(size=D_), rng.normal(size=H_), rng.random(H_)
    U, W, b = rng.normal(size=(4 * H_, D_)), rng.normal(size=(4 * H_, H_)), rng.normal(size=4 * H_)
    h_prev = o_prev * np.tanh(c_prev)

    def next_cell(h):
        return lstm_step_forward(x_t[None], h[None], c_prev[None], U, W, b)[1][0]

    numeric = np.stack([(next_cell(h_prev + e) - next_cell(h_prev - e)) / 2e-6
                        for e in 1e-6 * np.eye(H_)], axis=1)
    assert rel_error(cell_jacobian(x_t, c_prev, o_prev, U, W, b, wrt="h_prev"), numeric) < 1e-7


def test_cell_jacobian_names_a_wrong_shape():
    from rnn_helpers.lstm import cell_jacobian
    U, W, b = np.zeros((8, 3)), np.zeros((8, 2)), np.zeros(8)
    with pytest.raises(ValueError, match="c_prev"):
        cell_jacobian(np.zeros(3), np.zeros(3), np.zeros(2), U, W, b)
    with pytest.raises(ValueError, match="through"):
        cell_jacobian(np.zeros(3), np.zeros(2), np.zeros(2), U, W, b, through="o")
    with pytest.raises(ValueError, match="wrt"):
        cell_jacobian(np.zeros(3), np.zeros(2), np.zeros(2), U, W, b, wrt="x_t")
