"""An RNN with skip connections through time: h_t sees h_{t-1} and h_{t-d}.

    h_t = tanh(x_t @ U.T + h_{t-1} @ W.T + h_{t-d} @ W_skip.T + b)

States before the start of the sequence are h0 (so h_{t-1} = h0 at t = 0 and
h_{t-d} = h0 for t < d). A gradient that has to travel k steps back can take k/d skip
connections instead of k one-step connections, so it shrinks like lambda^(k/d) instead
of lambda^k: it decays over d times as many steps. With W = 0 the one-step connections
are removed and only the delay-d paths remain.
Shapes: x (T, N, D), h0 (N, H), U (H, D), W (H, H), W_skip (H, H), b (H,), hs (T, N, H).
"""
from typing import NamedTuple

import numpy as np

from ..training.initialisation import orthogonal, scaled_normal
from ..validation import as_float_array, check_cache


class SkipRNNCache(NamedTuple):
    x: np.ndarray
    h0: np.ndarray
    U: np.ndarray
    W: np.ndarray
    W_skip: np.ndarray
    d: int
    hs: np.ndarray


def _check_delay(d):
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ValueError(f"d should be a positive integer (the delay of the skip connection), but got {d!r}")
    return int(d)


def skip_rnn_forward(x, h0, U, W, W_skip, b, d):
    """x (T, N, D), h0 (N, H), delay d >= 1 -> hs (T, N, H), cache."""
    dims, origin = {}, {}
    x = as_float_array("x", x, ("T", "N", "D"), dims, origin)
    h0 = as_float_array("h0", h0, ("N", "H"), dims, origin)
    U = as_float_array("U", U, ("H", "D"), dims, origin)
    W = as_float_array("W", W, ("H", "H"), dims, origin)
    W_skip = as_float_array("W_skip", W_skip, ("H", "H"), dims, origin)
    b = as_float_array("b", b, ("H",), dims, origin)
    d = _check_delay(d)
    projected = x @ U.T + b
    hs = np.empty(projected.shape, dtype=projected.dtype)
    for t in range(x.shape[0]):
        h_prev = hs[t - 1] if t >= 1 else h0
        h_skip = hs[t - d] if t >= d else h0
        hs[t] = np.tanh(projected[t] + h_prev @ W.T + h_skip @ W_skip.T)
    return hs, SkipRNNCache(x, h0, U, W, W_skip, d, hs)


def skip_rnn_backward(dhs, cache):
    """Backpropagation through time: dhs (T, N, H) -> dx, dh0, dU, dW, dW_skip, db."""
    check_cache("cache", cache, SkipRNNCache, "skip_rnn_forward")
    x, h0, U, W, W_skip, d, hs = cache
    dhs = as_float_array("dhs", dhs, hs.shape, {})
    T, N, H = hs.shape
    # dh[t] accumulates the gradient on h_t from the loss and from both later users of h_t.
    dh = np.array(dhs, dtype=np.result_type(hs, dhs))
    dh0 = np.zeros((N, H), dtype=dh.dtype)
    das = np.empty_like(dh)
    for t in reversed(range(T)):
        da = dh[t] * (1.0 - hs[t] ** 2)
        das[t] = da
        if t >= 1:
            dh[t - 1] += da @ W
        else:
            dh0 += da @ W
        if t >= d:
            dh[t - d] += da @ W_skip
        else:
            dh0 += da @ W_skip
    h_prevs = np.concatenate([h0[None], hs[:-1]], axis=0)
    h_skips = np.concatenate([np.broadcast_to(h0, (min(d, T), N, H)), hs[:max(T - d, 0)]], axis=0)
    flat_da = das.reshape(T * N, H)
    dx = das @ U
    dU = flat_da.T @ x.reshape(T * N, -1)
    dW = flat_da.T @ h_prevs.reshape(T * N, H)
    dW_skip = flat_da.T @ h_skips.reshape(T * N, H)
    db = flat_da.sum(axis=0)
    return dx, dh0, dU, dW, dW_skip, db


def gradient_norms_vs_distance(x, h0, U, W, W_skip, b, d):
    """How strongly the last state h_{T-1} depends on the input k steps before it.

    Backpropagates the upstream gradient 1/sqrt(H) (a unit vector) from the last state and
    returns norms (T,) with norms[k] = mean over the batch of ||dL/dx_{T-1-k}||.
    """
    hs, cache = skip_rnn_forward(x, h0, U, W, W_skip, b, d)
    dhs = np.zeros_like(hs)
    dhs[-1] = 1.0 / np.sqrt(hs.shape[2])
    dx = skip_rnn_backward(dhs, cache)[0]
    return np.linalg.norm(dx, axis=2).mean(axis=1)[::-1]


def decay_rate(norms, min_distance=0):
    """Fit norms[k] ~ C exp(-rate * k) over k >= min_distance; return the rate per step.

    Entries that are exactly zero (distances no path reaches, e.g. k not a multiple of d
    when W = 0) are left out. 1 / rate is the number of steps over which the gradient
    falls by a factor e.
    """
    norms = as_float_array("norms", norms, ("T",), {})
    distances = np.arange(norms.size)
    keep = (distances >= min_distance) & (norms > 0) & np.isfinite(norms)
    if keep.sum() < 2:
        raise ValueError(f"norms should have at least two positive entries at distances >= {min_distance}")
    slope = np.polyfit(distances[keep], np.log(norms[keep]), 1)[0]
    return float(-slope)


def decay_rate_vs_delay(delays, rng, *, T=120, hidden_size=32, input_size=4, batch=8,
                        step_gain=0.0, skip_gain=0.8, input_scale=0.5, min_distance=20):
    """Measured gradient decay rate (per step) for each delay d in ``delays``.

    For each d a fresh network: W = step_gain * orthogonal (W = 0 by default: one-step
    connections removed), W_skip = skip_gain * orthogonal, U ~ N(0, input_scale^2 / D),
    b = 0, x ~ N(0, 1), h0 = 0. Returns rates (len(delays),), see ``decay_rate``.
    """
    rates = []
    for d in delays:
        _check_delay(d)
        H, D = hidden_size, input_size
        W = orthogonal(H, rng, gain=step_gain) if step_gain else np.zeros((H, H))
        W_skip = orthogonal(H, rng, gain=skip_gain)
        U = scaled_normal((H, D), rng, gain=input_scale)
        x = rng.normal(size=(T, batch, D))
        norms = gradient_norms_vs_distance(x, np.zeros((batch, H)), U, W, W_skip, np.zeros(H), d)
        rates.append(decay_rate(norms, min_distance))
    return np.array(rates)
