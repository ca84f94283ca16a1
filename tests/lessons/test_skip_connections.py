"""rnn_helpers.lessons.skip_connections against independent computations and numerical gradients."""
import numpy as np
import pytest

from conftest import assert_gradients_match
from rnn_helpers.rnn import rnn_forward
from rnn_helpers.lessons.skip_connections import (decay_rate, decay_rate_vs_delay, gradient_norms_vs_distance,
                                          skip_rnn_backward, skip_rnn_forward)


def inputs(rng, T=7, N=2, D=3, H=4):
    return [rng.normal(size=(T, N, D)), rng.normal(size=(N, H)), 0.5 * rng.normal(size=(H, D)),
            0.5 * rng.normal(size=(H, H)), 0.5 * rng.normal(size=(H, H)), rng.normal(size=H)]


@pytest.mark.parametrize("d", [1, 2, 3, 10])
def test_forward_matches_the_equations_one_sample_at_a_time(d):
    x, h0, U, W, Ws, b = inputs(np.random.default_rng(d))
    hs, _ = skip_rnn_forward(x, h0, U, W, Ws, b, d)
    for n in range(x.shape[1]):
        history = [h0[n]]  # history[t + 1] = h_t; everything before the start is h0
        for t in range(x.shape[0]):
            h_skip = history[t + 1 - d] if t - d >= 0 else h0[n]
            history.append(np.tanh(b + W @ history[t] + Ws @ h_skip + U @ x[t, n]))
        np.testing.assert_allclose(hs[:, n], np.array(history[1:]), rtol=1e-12)


def test_zero_skip_weights_give_the_vanilla_rnn():
    x, h0, U, W, Ws, b = inputs(np.random.default_rng(0))
    hs, _ = skip_rnn_forward(x, h0, U, W, np.zeros_like(Ws), b, 3)
    np.testing.assert_allclose(hs, rnn_forward(x, h0, U, W, b)[0], rtol=1e-12)


@pytest.mark.parametrize("d", [1, 2, 3, 9])
def test_backward_matches_numerical_gradients(d):
    rng = np.random.default_rng(10 + d)
    args = inputs(rng)
    hs, cache = skip_rnn_forward(*args, d)
    dhs = rng.normal(size=hs.shape)
    grads = skip_rnn_backward(dhs, cache)
    assert_gradients_match(lambda *a: skip_rnn_forward(*a, d), args, grads, dhs)


def test_gradient_travels_only_along_delay_paths_when_one_step_links_are_removed():
    # Linear regime (tiny inputs), W = 0, W_skip = 0.5 I: x_{T-1-k} reaches h_{T-1} only if d | k,
    # with a factor 0.5 per hop.
    T, H, d = 13, 2, 3
    x = np.zeros((T, 1, H))
    norms = gradient_norms_vs_distance(x, np.zeros((1, H)), np.eye(H), np.zeros((H, H)),
                                       0.5 * np.eye(H), np.zeros(H), d)
    k = np.arange(T)
    np.testing.assert_allclose(norms, np.where(k % d == 0, 0.5 ** (k // d), 0.0), atol=1e-15)
    assert decay_rate(norms) == pytest.approx(np.log(2) / d, rel=1e-9)


def test_decay_rate_fits_an_exponential_and_ignores_zeros():
    k = np.arange(30)
    norms = 3.0 * np.exp(-0.2 * k)
    norms[1::2] = 0.0
    assert decay_rate(norms) == pytest.approx(0.2, rel=1e-10)
    assert decay_rate(norms, min_distance=10) == pytest.approx(0.2, rel=1e-10)
    with pytest.raises(ValueError, match="norms"):
        decay_rate(np.zeros(5))


def test_measured_decay_rate_falls_like_one_over_d():
    rates = decay_rate_vs_delay([1, 2, 4], np.random.default_rng(0))
    np.testing.assert_allclose(rates[0] / rates, [1, 2, 4], rtol=0.15)


def test_inputs_are_not_modified_and_bad_inputs_raise():
    args = inputs(np.random.default_rng(1))
    copies = [a.copy() for a in args]
    hs, cache = skip_rnn_forward(*args, 2)
    skip_rnn_backward(np.ones_like(hs), cache)
    for a, c in zip(args, copies):
        np.testing.assert_array_equal(a, c)
    x, h0, U, W, Ws, b = args
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="d should"):
            skip_rnn_forward(x, h0, U, W, Ws, b, bad)
    with pytest.raises(ValueError, match="W_skip"):
        skip_rnn_forward(x, h0, U, W, Ws[:, :2], b, 2)
    with pytest.raises(ValueError, match="cache"):
        skip_rnn_backward(np.ones_like(hs), (1, 2))
