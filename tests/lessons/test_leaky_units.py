"""rnn_helpers.lessons.leaky_units against independent computations and numerical gradients."""
import numpy as np
import pytest

from conftest import assert_gradients_match
from rnn_helpers.lessons.leaky_units import (gated_leaky_unit_forward, gradient_norms_vs_distance, leaky_rnn_backward,
                                     leaky_rnn_forward, leaky_unit_forward, reaction_delay, time_constant)


def test_leaky_unit_is_an_exponential_moving_average():
    rng = np.random.default_rng(0)
    T, N, H, alpha = 6, 2, 3, 0.7
    x, h0 = rng.normal(size=(T, N, H)), rng.normal(size=(N, H))
    hs = leaky_unit_forward(x, h0, alpha)
    # closed form: h_t = alpha^(t+1) h0 + sum_s (1 - alpha) alpha^(t-s) x_s
    for t in range(T):
        expected = alpha ** (t + 1) * h0 + sum((1 - alpha) * alpha ** (t - s) * x[s] for s in range(t + 1))
        np.testing.assert_allclose(hs[t], expected, rtol=1e-12)


def test_leaky_unit_edge_cases_and_per_unit_alpha():
    rng = np.random.default_rng(1)
    x, h0 = rng.normal(size=(4, 2, 3)), rng.normal(size=(2, 3))
    np.testing.assert_array_equal(leaky_unit_forward(x, h0, 0.0), x)
    np.testing.assert_array_equal(leaky_unit_forward(x, h0, 1.0), np.broadcast_to(h0, x.shape))
    alphas = np.array([0.0, 0.5, 1.0])
    hs = leaky_unit_forward(x, h0, alphas)
    for j, a in enumerate(alphas):
        np.testing.assert_allclose(hs[:, :, j], leaky_unit_forward(x[:, :, j:j + 1], h0[:, j:j + 1], a)[:, :, 0])


def test_gated_leaky_unit_stores_at_open_steps_and_holds_between():
    x = np.arange(1.0, 7.0).reshape(6, 1, 1)
    keep = np.ones((6, 1, 1))
    keep[[1, 4]] = 0.0                                  # write x at steps 1 and 4, hold otherwise
    hs = gated_leaky_unit_forward(x, np.zeros((1, 1)), keep)
    np.testing.assert_array_equal(hs[:, 0, 0], [0.0, 2.0, 2.0, 2.0, 5.0, 5.0])
    constant = gated_leaky_unit_forward(x, np.zeros((1, 1)), np.full((6, 1, 1), 0.7))
    np.testing.assert_allclose(constant, leaky_unit_forward(x, np.zeros((1, 1)), 0.7))
    with pytest.raises(ValueError, match="keep"):
        gated_leaky_unit_forward(x, np.zeros((1, 1)), np.full((6, 1, 1), 1.5))


def test_impulse_response_decays_with_the_time_constant():
    alpha, T = 0.9, 40
    x = np.zeros((T, 1, 1))
    x[0] = 1.0
    hs = leaky_unit_forward(x, np.zeros((1, 1)), alpha)[:, 0, 0]
    np.testing.assert_allclose(hs, (1 - alpha) * alpha ** np.arange(T), rtol=1e-12)
    assert time_constant(alpha) == pytest.approx(10.0)
    assert time_constant(1.0) == np.inf
    np.testing.assert_allclose(time_constant(np.array([0.0, 0.5])), [1.0, 2.0])


def rnn_inputs(rng, T=5, N=2, D=3, H=4):
    return [rng.normal(size=(T, N, D)), rng.normal(size=(N, H)), 0.5 * rng.normal(size=(H, D)),
            0.5 * rng.normal(size=(H, H)), rng.normal(size=H)]


def test_leaky_rnn_forward_matches_the_equations():
    rng = np.random.default_rng(2)
    x, h, U, W, b = rnn_inputs(rng)
    alpha = np.array([0.0, 0.3, 0.8, 1.0])
    hs, _ = leaky_rnn_forward(x, h, U, W, b, alpha)
    for t in range(x.shape[0]):
        for n in range(x.shape[1]):
            g = np.tanh(b + W @ h[n] + U @ x[t, n])
            np.testing.assert_allclose(hs[t, n], alpha * h[n] + (1 - alpha) * g, rtol=1e-12)
        h = hs[t]


@pytest.mark.parametrize("alpha", [0.0, 0.6, np.array([0.1, 0.5, 0.9, 0.99])])
def test_leaky_rnn_backward_matches_numerical_gradients(alpha):
    rng = np.random.default_rng(3)
    inputs = rnn_inputs(rng)
    hs, cache = leaky_rnn_forward(*inputs, alpha)
    dhs = rng.normal(size=hs.shape)
    grads = leaky_rnn_backward(dhs, cache)
    assert_gradients_match(lambda *a: leaky_rnn_forward(*a, alpha), inputs, grads, dhs)


def test_leaky_rnn_with_alpha_zero_is_the_vanilla_rnn():
    from rnn_helpers.rnn import rnn_forward
    inputs = rnn_inputs(np.random.default_rng(4))
    np.testing.assert_allclose(leaky_rnn_forward(*inputs, 0.0)[0], rnn_forward(*inputs)[0], rtol=1e-12)


def test_gradient_norms_keep_at_least_alpha_per_step():
    # With W = 0 and U = I the Jacobian is exactly alpha I: norms[k] = (1 - alpha) alpha^k (1 - g^2).
    T, H, alpha = 12, 3, 0.8
    x = np.zeros((T, 1, H))
    norms = gradient_norms_vs_distance(x, np.zeros((1, H)), np.eye(H), np.zeros((H, H)), np.zeros(H), alpha)
    np.testing.assert_allclose(norms, (1 - alpha) * alpha ** np.arange(T), rtol=1e-12)


def test_inputs_are_not_modified_and_bad_inputs_raise():
    rng = np.random.default_rng(5)
    x, h0 = rng.normal(size=(3, 2, 4)), rng.normal(size=(2, 4))
    before = (x.copy(), h0.copy())
    leaky_unit_forward(x, h0, 0.5)
    np.testing.assert_array_equal(x, before[0])
    np.testing.assert_array_equal(h0, before[1])
    with pytest.raises(ValueError, match="alpha"):
        leaky_unit_forward(x, h0, 1.5)
    with pytest.raises(ValueError, match="alpha"):
        leaky_unit_forward(x, h0, np.full(3, 0.5))
    with pytest.raises(ValueError, match="h0"):
        leaky_unit_forward(x, h0[:, :3], 0.5)
    with pytest.raises(ValueError, match="x"):
        leaky_unit_forward(x[0], h0, 0.5)
    with pytest.raises(ValueError, match="cache"):
        leaky_rnn_backward(np.zeros((3, 2, 4)), None)


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.5, 0.8, 0.9, 0.97, 0.995])
@pytest.mark.parametrize("steps_before", [0, 1, 7, 60, 500])
def test_reaction_delay_matches_the_simulated_unit(alpha, steps_before):
    x = np.concatenate([np.ones(steps_before), -np.ones(3000)])[:, None, None]
    hs = leaky_unit_forward(x, np.zeros((1, 1)), alpha)[steps_before:, 0, 0]
    assert reaction_delay(alpha, steps_before) == int(np.argmax(hs < 0)) + 1


def test_reaction_delay_edge_cases():
    assert reaction_delay(1.0, 10) is None
    with pytest.raises(ValueError, match="steps_before"):
        reaction_delay(0.5, -1)
