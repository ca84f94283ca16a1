"""Tests of rnn_helpers.bidirectional: values, the output convention, gradients, input checks."""
import numpy as np
import pytest

from rnn_helpers import bidirectional
from rnn_helpers.gradcheck import numerical_gradient, rel_error

PARAM_NAMES = ("U_fwd", "W_fwd", "b_fwd", "U_rev", "W_rev", "b_rev")


def make_inputs(seed=0, T=5, N=3, D=4, H=6):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, N, D))
    h0 = rng.normal(size=(2, N, H))
    params = []
    for _ in range(2):
        params += [rng.normal(size=(H, D)) / np.sqrt(D), rng.normal(size=(H, H)) / np.sqrt(H),
                   0.3 * rng.normal(size=H)]
    return x, h0, params


def directions_by_hand(x, h0, U_fwd, W_fwd, b_fwd, U_rev, W_rev, b_rev):
    """Independent implementation: one sample at a time, column vectors, explicit loops."""
    T, N, _ = x.shape
    H = h0.shape[2]
    forward = np.zeros((T, N, H))
    backward = np.zeros((T, N, H))
    for i in range(N):
        h = h0[0, i]
        for t in range(T):
            h = np.tanh(U_fwd @ x[t, i] + W_fwd @ h + b_fwd)
            forward[t, i] = h
        g = h0[1, i]
        for t in range(T - 1, -1, -1):
            g = np.tanh(U_rev @ x[t, i] + W_rev @ g + b_rev)
            backward[t, i] = g
    return forward, backward


def test_forward_matches_the_two_directions_run_by_hand():
    x, h0, params = make_inputs(1)
    hs, _ = bidirectional.birnn_forward(x, h0, *params)
    forward, backward = directions_by_hand(x, h0, *params)
    assert hs.shape == (5, 3, 12)
    np.testing.assert_allclose(hs[..., :6], forward, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hs[..., 6:], backward, rtol=1e-12, atol=1e-12)


def test_halves_see_the_past_and_the_future():
    """Changing x at step s changes the forward half at t >= s and the backward half at t <= s."""
    x, h0, params = make_inputs(2, T=7)
    hs, _ = bidirectional.birnn_forward(x, h0, *params)
    s, H = 3, 6
    x2 = x.copy()
    x2[s] += 1.0
    hs2, _ = bidirectional.birnn_forward(x2, h0, *params)
    changed = np.abs(hs2 - hs).max(axis=(1,)) > 1e-12        # (T, 2H)
    assert not changed[:s, :H].any() and changed[s:, :H].any(axis=1).all()
    assert not changed[s + 1:, H:].any() and changed[:s + 1, H:].any(axis=1).all()


def test_final_states_of_both_directions_are_at_opposite_ends():
    x, h0, params = make_inputs(3)
    hs, cache = bidirectional.birnn_forward(x, h0, *params)
    forward, backward = directions_by_hand(x, h0, *params)
    np.testing.assert_allclose(hs[-1, :, :6], forward[-1], rtol=1e-12)
    np.testing.assert_allclose(hs[0, :, 6:], backward[0], rtol=1e-12)
    np.testing.assert_allclose(cache.reverse.hs[-1], backward[0], rtol=1e-12)


def test_single_step_sequence():
    x, h0, params = make_inputs(4, T=1)
    hs, cache = bidirectional.birnn_forward(x, h0, *params)
    forward, backward = directions_by_hand(x, h0, *params)
    np.testing.assert_allclose(hs, np.concatenate([forward, backward], axis=-1), rtol=1e-12)
    dx, dh0, *_ = bidirectional.birnn_backward(np.ones_like(hs), cache)
    assert dx.shape == x.shape and dh0.shape == h0.shape


@pytest.mark.parametrize("seed", [0, 5])
def test_backward_matches_numerical_gradient_of_every_input(seed):
    x, h0, params = make_inputs(seed, T=4, N=2, D=3, H=4)
    hs, cache = bidirectional.birnn_forward(x, h0, *params)
    dhs = np.random.default_rng(seed + 100).normal(size=hs.shape)
    grads = bidirectional.birnn_backward(dhs, cache)
    inputs = [x, h0] + params
    names = ("x", "h0") + PARAM_NAMES
    for name, value, grad in zip(names, inputs, grads):
        numerical = numerical_gradient(lambda _: bidirectional.birnn_forward(*inputs)[0], value, dhs)
        assert grad.shape == value.shape, name
        assert rel_error(numerical, grad) < 1e-6, name


def test_gradient_reaches_only_the_direction_it_was_sent_to():
    x, h0, params = make_inputs(6)
    hs, cache = bidirectional.birnn_forward(x, h0, *params)
    dhs = np.zeros_like(hs)
    dhs[..., :6] = 1.0                     # only the forward half feeds the loss
    _, dh0, dU_fwd, dW_fwd, db_fwd, dU_rev, dW_rev, db_rev = bidirectional.birnn_backward(dhs, cache)
    assert np.abs(dU_fwd).sum() > 0 and np.abs(db_fwd).sum() > 0 and np.abs(dh0[0]).sum() > 0
    assert not dU_rev.any() and not dW_rev.any() and not db_rev.any() and not dh0[1].any()


def test_inputs_are_not_modified():
    x, h0, params = make_inputs(7)
    copies = [a.copy() for a in [x, h0] + params]
    hs, cache = bidirectional.birnn_forward(x, h0, *params)
    dhs = np.ones_like(hs)
    dhs_copy = dhs.copy()
    bidirectional.birnn_backward(dhs, cache)
    for before, after in zip(copies, [x, h0] + params):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(dhs, dhs_copy)


def test_float32_inputs_give_float32_outputs():
    x, h0, params = make_inputs(8)
    hs, cache = bidirectional.birnn_forward(x.astype(np.float32), h0.astype(np.float32),
                                            *[p.astype(np.float32) for p in params])
    assert hs.dtype == np.float32
    assert bidirectional.birnn_backward(np.ones_like(hs), cache)[0].dtype == np.float32


def test_h0_needs_one_state_per_direction():
    x, h0, params = make_inputs()
    with pytest.raises(ValueError, match=r"h0 should have 3 dimensions \(2, N, H\).*\(3, 6\)"):
        bidirectional.birnn_forward(x, h0[0], *params)
    with pytest.raises(ValueError, match="h0"):
        bidirectional.birnn_forward(x, np.concatenate([h0, h0]), *params)


def test_mismatched_direction_parameters_are_named():
    x, h0, params = make_inputs()
    bad = list(params)
    bad[3] = params[3][:, :2]                      # U_rev with the wrong input size
    with pytest.raises(ValueError, match="U_rev"):
        bidirectional.birnn_forward(x, h0, *bad)
    bad = list(params)
    bad[4] = np.zeros((5, 5))                      # W_rev with another hidden size
    with pytest.raises(ValueError, match="W_rev"):
        bidirectional.birnn_forward(x, h0, *bad)
    with pytest.raises(ValueError, match="x should be a floating-point"):
        bidirectional.birnn_forward(x.astype(int), h0, *params)


def test_backward_checks_dhs_and_cache():
    x, h0, params = make_inputs()
    hs, cache = bidirectional.birnn_forward(x, h0, *params)
    with pytest.raises(ValueError, match=r"dhs should have shape \(5, 3, 12\)"):
        bidirectional.birnn_backward(hs[..., :6], cache)
    with pytest.raises(ValueError, match="cache returned by birnn_forward"):
        bidirectional.birnn_backward(hs, cache.forward)
