"""Leaky units: a linear self-connection that keeps a running average of the past.

The leaky unit (an exponential moving average of its inputs)::

    h_t = alpha * h_{t-1} + (1 - alpha) * x_t

remembers an input for about tau = 1 / (1 - alpha) steps: the weight of the input seen
k steps ago is (1 - alpha) * alpha^k = (1 - alpha) * exp(k * ln(alpha)) ~ exp(-k / tau)
for alpha close to 1. alpha may differ per unit (shape (H,)), which gives a layer with
several time scales at once.

The leaky RNN puts the vanilla recurrence inside the average::

    g_t = tanh(x_t @ U.T + h_{t-1} @ W.T + b),   h_t = alpha * h_{t-1} + (1 - alpha) * g_t

so that dh_t/dh_{t-1} = alpha * I + (1 - alpha) * diag(1 - g_t^2) W. As the tanh path fades
(1 - g_t^2 -> 0, or a small W) the Jacobian tends to alpha * I and the gradient decays like
alpha^k: alpha sets the decay time. The two terms add as matrices and can interfere, so
alpha^k is no floor (alpha = 0.8, W = -4 I and g_t = 0 give the Jacobian 0).
Shapes: x (T, N, D), h0 (N, H), U (H, D), W (H, H), b (H,), alpha () or (H,), hs (T, N, H).
"""
from typing import NamedTuple

import numpy as np

from ..validation import as_float_array, check_cache


class LeakyRNNCache(NamedTuple):
    x: np.ndarray
    h0: np.ndarray
    U: np.ndarray
    W: np.ndarray
    alpha: np.ndarray
    gs: np.ndarray
    hs: np.ndarray


def _as_alpha(alpha, dims):
    """alpha as a float array of shape () or (H,), every value in [0, 1]."""
    alpha = np.asarray(alpha)
    if alpha.dtype.kind not in "fi":
        raise ValueError(f"alpha should be a number or a float array of shape (H,), but got dtype {alpha.dtype}")
    alpha = alpha.astype(np.float64)
    if alpha.ndim != 0:
        alpha = as_float_array("alpha", alpha, ("H",), dims)
    if not np.all((alpha >= 0.0) & (alpha <= 1.0)):
        raise ValueError(f"alpha should lie in [0, 1] (the fraction of the old state kept), but got {alpha}")
    return alpha


def time_constant(alpha):
    """tau = 1 / (1 - alpha): the number of steps a leaky unit remembers (inf for alpha = 1)."""
    alpha = _as_alpha(alpha, {})
    with np.errstate(divide="ignore"):
        tau = 1.0 / (1.0 - alpha)
    return float(tau) if tau.ndim == 0 else tau


def reaction_delay(alpha, steps_before):
    """Steps a leaky unit needs to change sign after its input flips from +1 to -1.

    The unit starts at h_0 = 0, reads x_t = +1 for t = 1..m (m = ``steps_before``) and -1
    afterwards. Unrolled, h_m = 1 - alpha^m and h_{m+k} = alpha^k (2 - alpha^m) - 1, which is
    negative once alpha^k < 1 / (2 - alpha^m). Returns the smallest such k >= 1 (an int), or
    None for alpha = 1 (the unit never moves). For alpha close to 1 and m >> tau: about tau ln 2.
    """
    alpha = float(_as_alpha(alpha, {}))
    if isinstance(steps_before, bool) or not isinstance(steps_before, (int, np.integer)) or steps_before < 0:
        raise ValueError(f"steps_before should be a non-negative integer, but got {steps_before!r}")
    if alpha == 1.0:
        return None
    if alpha == 0.0:
        return 1
    return int(np.floor(np.log(2.0 - alpha ** steps_before) / -np.log(alpha))) + 1


def leaky_unit_forward(x, h0, alpha):
    """Leaky units driven directly by x: x (T, N, H), h0 (N, H), alpha () or (H,) -> hs (T, N, H)."""
    dims = {}
    x = as_float_array("x", x, ("T", "N", "H"), dims)
    h0 = as_float_array("h0", h0, ("N", "H"), dims)
    alpha = _as_alpha(alpha, dims)
    return _leaky_recurrence(x, h0, np.broadcast_to(alpha, x.shape), np.result_type(x, h0))


def gated_leaky_unit_forward(x, h0, keep):
    """Leaky units whose leak changes at every step: h_t = keep_t * h_{t-1} + (1 - keep_t) * x_t.

    x and keep (T, N, H), every keep in [0, 1]; h0 (N, H) -> hs (T, N, H). With keep_t = 1 - z_t
    and the candidate as x_t this is the state update of a GRU (notebook 06).
    """
    dims = {}
    x = as_float_array("x", x, ("T", "N", "H"), dims)
    h0 = as_float_array("h0", h0, ("N", "H"), dims)
    keep = as_float_array("keep", keep, ("T", "N", "H"), dims)
    if not np.all((keep >= 0.0) & (keep <= 1.0)):
        raise ValueError("keep should lie in [0, 1] (the fraction of the old state kept at each step)")
    return _leaky_recurrence(x, h0, keep, np.result_type(x, h0, keep))


def _leaky_recurrence(x, h0, keep, dtype):
    """h_t = keep_t * h_{t-1} + (1 - keep_t) * x_t for t = 1..T; keep (T, N, H) or broadcast to it."""
    hs = np.empty(x.shape, dtype=dtype)
    h = h0
    for t in range(x.shape[0]):
        h = keep[t] * h + (1.0 - keep[t]) * x[t]
        hs[t] = h
    return hs


def _check_rnn(x, h0, U, W, b, alpha):
    dims, origin = {}, {}
    x = as_float_array("x", x, ("T", "N", "D"), dims, origin)
    h0 = as_float_array("h0", h0, ("N", "H"), dims, origin)
    U = as_float_array("U", U, ("H", "D"), dims, origin)
    W = as_float_array("W", W, ("H", "H"), dims, origin)
    b = as_float_array("b", b, ("H",), dims, origin)
    return x, h0, U, W, b, _as_alpha(alpha, dims)


def leaky_rnn_forward(x, h0, U, W, b, alpha):
    """Leaky RNN over a sequence: x (T, N, D), h0 (N, H) -> hs (T, N, H), cache."""
    x, h0, U, W, b, alpha = _check_rnn(x, h0, U, W, b, alpha)
    projected = x @ U.T + b
    gs = np.empty(projected.shape, dtype=projected.dtype)
    hs = np.empty_like(gs)
    h = h0
    for t in range(x.shape[0]):
        gs[t] = np.tanh(projected[t] + h @ W.T)
        h = alpha * h + (1.0 - alpha) * gs[t]
        hs[t] = h
    return hs, LeakyRNNCache(x, h0, U, W, alpha, gs, hs)


def leaky_rnn_backward(dhs, cache):
    """Backpropagation through time: dhs (T, N, H) -> dx, dh0, dU, dW, db."""
    check_cache("cache", cache, LeakyRNNCache, "leaky_rnn_forward")
    x, h0, U, W, alpha, gs, hs = cache
    dhs = as_float_array("dhs", dhs, hs.shape, {})
    T, N, H = hs.shape
    das = np.empty(hs.shape, dtype=np.result_type(hs, dhs))
    dh = np.zeros((N, H), dtype=das.dtype)
    for t in reversed(range(T)):
        dh = dhs[t] + dh
        da = dh * (1.0 - alpha) * (1.0 - gs[t] ** 2)
        das[t] = da
        dh = alpha * dh + da @ W
    h_prevs = np.concatenate([h0[None], hs[:-1]], axis=0)
    flat_da = das.reshape(T * N, H)
    dx = das @ U
    dU = flat_da.T @ x.reshape(T * N, -1)
    dW = flat_da.T @ h_prevs.reshape(T * N, H)
    db = flat_da.sum(axis=0)
    return dx, dh, dU, dW, db


def gradient_norms_vs_distance(x, h0, U, W, b, alpha):
    """How strongly the last state h_{T-1} depends on the input k steps before it.

    Backpropagates the upstream gradient 1/sqrt(H) (a unit vector) from the last state and
    returns norms (T,) with norms[k] = mean over the batch of ||dL/dx_{T-1-k}||.
    """
    hs, cache = leaky_rnn_forward(x, h0, U, W, b, alpha)
    dhs = np.zeros_like(hs)
    dhs[-1] = 1.0 / np.sqrt(hs.shape[2])
    dx = leaky_rnn_backward(dhs, cache)[0]
    return np.linalg.norm(dx, axis=2).mean(axis=1)[::-1]
