"""The vanilla (Elman) RNN: forward and backward, one step and a whole sequence.

Notation (column vectors in the maths, the same matrices in code)::

    a_t = b + W h_{t-1} + U x_t,   h_t = tanh(a_t)

Shapes: x_t (N, D), h (N, H), U (H, D), W (H, H), b (H,); sequences are time-major,
x (T, N, D) and hs (T, N, H). One step computes ``tanh(x_t @ U.T + h_prev @ W.T + b)``.
"""
from typing import NamedTuple

import numpy as np

from .validation import as_bool_array, as_float_array, as_int_array, check_cache


class RNNStepCache(NamedTuple):
    x_t: np.ndarray
    h_prev: np.ndarray
    U: np.ndarray
    W: np.ndarray
    h_t: np.ndarray


class RNNCache(NamedTuple):
    x: np.ndarray
    h0: np.ndarray
    U: np.ndarray
    W: np.ndarray
    hs: np.ndarray


def _check_params(x_name, x, h_name, h, U, W, b, time_major):
    dims, origin = {}, {}
    spec_x = ("T", "N", "D") if time_major else ("N", "D")
    x = as_float_array(x_name, x, spec_x, dims, origin)
    h = as_float_array(h_name, h, ("N", "H"), dims, origin)
    U = as_float_array("U", U, ("H", "D"), dims, origin)
    W = as_float_array("W", W, ("H", "H"), dims, origin)
    b = as_float_array("b", b, ("H",), dims, origin)
    return x, h, U, W, b


def rnn_step_forward(x_t, h_prev, U, W, b):
    """One step: x_t (N, D), h_prev (N, H) -> h_t (N, H), cache."""
    x_t, h_prev, U, W, b = _check_params("x_t", x_t, "h_prev", h_prev, U, W, b, False)
    h_t = np.tanh(x_t @ U.T + h_prev @ W.T + b)
    return h_t, RNNStepCache(x_t, h_prev, U, W, h_t)


def rnn_step_backward(dh_t, cache):
    """Backward of one step: dh_t (N, H) -> dx_t, dh_prev, dU, dW, db."""
    check_cache("cache", cache, RNNStepCache, "rnn_step_forward")
    dh_t = as_float_array("dh_t", dh_t, cache.h_t.shape, {})
    da = dh_t * (1.0 - cache.h_t ** 2)
    dx_t = da @ cache.U
    dh_prev = da @ cache.W
    dU = da.T @ cache.x_t
    dW = da.T @ cache.h_prev
    db = da.sum(axis=0)
    return dx_t, dh_prev, dU, dW, db


def rnn_forward(x, h0, U, W, b):
    """A whole sequence: x (T, N, D), h0 (N, H) -> hs (T, N, H), cache.

    The input projection of every step does not depend on the recurrence, so it is one
    matmul over the whole sequence; only ``h_prev @ W.T`` stays inside the time loop,
    which works in place in the output array (no allocation per step).
    """
    x, h0, U, W, b = _check_params("x", x, "h0", h0, U, W, b, True)
    T, N, D = x.shape
    H = h0.shape[1]
    # hs starts as the input part x_t @ U.T + b of every step; the loop adds the
    # recurrent part and applies tanh, in place.
    hs = (x.reshape(T * N, D) @ U.T).astype(np.result_type(x, U, b), copy=False)
    hs += b
    hs = hs.reshape(T, N, H)
    recurrent = np.empty((N, H), dtype=hs.dtype)
    # A contiguous copy of W.T: BLAS is faster on it than on the transposed view.
    W_T = np.ascontiguousarray(W.T)
    h = h0
    for t in range(T):
        np.matmul(h, W_T, out=recurrent)
        hs[t] += recurrent
        np.tanh(hs[t], out=hs[t])
        h = hs[t]
    return hs, RNNCache(x, h0, U, W, hs)


def rnn_backward(dhs, cache):
    """Backpropagation through time.

    dhs (T, N, H) is the upstream gradient on every hidden state (zeros where a state
    feeds no loss). Returns dx (T, N, D), dh0 (N, H), dU, dW, db.

    With da_t the gradient on the pre-activation a_t: da_t = (dhs[t] + dh_next) * (1 - h_t^2)
    and dh_next = da_t @ W. The factor 1 - h_t^2 does not depend on the recurrence: it is
    computed for all steps at once, before the loop, into the array that becomes da.
    """
    check_cache("cache", cache, RNNCache, "rnn_forward")
    x, h0, U, W, hs = cache
    dhs = as_float_array("dhs", dhs, hs.shape, {})
    T, N, H = hs.shape
    dtype = np.result_type(hs, dhs)
    das = (1.0 - hs ** 2).astype(dtype, copy=False)
    dh = np.empty((N, H), dtype=dtype)
    dh_next = np.zeros((N, H), dtype=dtype)
    for t in reversed(range(T)):
        np.add(dhs[t], dh_next, out=dh)
        das[t] *= dh
        np.matmul(das[t], W, out=dh_next)
    dx, dU, dW, db = input_and_weight_gradients(das, x, h0, hs, U)
    return dx, dh_next, dU, dW, db


def input_and_weight_gradients(das, x, h0, hs, U):
    """From the gradients das (T, N, H) on the pre-activations a_t = x_t U^T + h_{t-1} W^T + b
    of every step: dx (T, N, D), dU (H, D), dW (H, H), db (H,), the parameter gradients summed
    over the steps (one matmul each, outside the time loop)."""
    T, N, H = das.shape
    h_prevs = np.concatenate([h0[None], hs[:-1]], axis=0)
    flat_da = das.reshape(T * N, H)
    dx = (flat_da @ U).reshape(T, N, -1)
    dU = flat_da.T @ x.reshape(T * N, -1)
    dW = flat_da.T @ h_prevs.reshape(T * N, H)
    db = flat_da.sum(axis=0)
    return dx, dU, dW, db


def softmax(logits, axis=-1):
    """Numerically stable softmax along ``axis`` (any finite logits)."""
    logits = np.asarray(logits)
    with np.errstate(over="ignore", under="ignore"):
        e = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(logits, axis=-1):
    """Numerically stable log of the softmax along ``axis``."""
    shifted = logits - logits.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax_cross_entropy(logits, y, mask=None):
    """Cross-entropy of softmax outputs, summed over time and averaged over the batch.

    logits (T, N, K), y (T, N) integer labels in [0, K), mask (T, N) booleans (True where
    the position counts). Returns the scalar loss and dlogits (T, N, K). Masked-out
    positions contribute nothing to the loss or the gradient.
    """
    dims, origin = {}, {}
    logits = as_float_array("logits", logits, ("T", "N", "K"), dims, origin)
    y = as_int_array("y", y, ("T", "N"), dims, origin)
    K = dims["K"]
    if y.size and (y.min() < 0 or y.max() >= K):
        raise ValueError(
            f"y should hold class indices in [0, {K - 1}] (K = {K} from logits), "
            f"but got values from {y.min()} to {y.max()}"
        )
    if mask is None:
        weight = np.ones(y.shape, dtype=logits.dtype)
    else:
        weight = as_bool_array("mask", mask, ("T", "N"), dims, origin).astype(logits.dtype)
    N = dims["N"]
    with np.errstate(over="ignore", under="ignore"):
        # Logits far below the maximum may round to -inf here; exp() makes them 0.
        shifted = logits - logits.max(axis=-1, keepdims=True)
        exp = np.exp(shifted)
    sum_exp = exp.sum(axis=-1, keepdims=True)
    log_probs = shifted - np.log(sum_exp)
    picked = np.take_along_axis(log_probs, y[..., None], axis=-1)[..., 0]
    loss = -np.where(weight > 0, picked * weight, 0.0).sum() / N
    dlogits = exp / sum_exp
    np.put_along_axis(dlogits, y[..., None],
                      np.take_along_axis(dlogits, y[..., None], axis=-1) - 1.0, axis=-1)
    dlogits *= weight[..., None] / N
    return float(loss), dlogits
