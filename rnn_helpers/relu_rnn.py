"""The ReLU recurrence, the cell of the IRNN (Le, Jaitly and Hinton, 2015).

    a_t = b + W h_{t-1} + U x_t,   h_t = relu(a_t) = max(0, a_t)

The same shapes and orientation as ``rnn``: x (T, N, D), h0 (N, H), U (H, D), W (H, H),
b (H,), hs (T, N, H); one step computes ``relu(x_t @ U.T + h_prev @ W.T + b)``. The IRNN
is this cell started from W = I and b = 0 (``training.initialisation.identity``): on the
units that are active (a_t > 0) the Jacobian dh_t/dh_{t-1} is then exactly the identity.
"""
from typing import NamedTuple

import numpy as np

from .rnn import _check_params, input_and_weight_gradients
from .validation import as_float_array, check_cache


class ReLURNNCache(NamedTuple):
    x: np.ndarray
    h0: np.ndarray
    U: np.ndarray
    W: np.ndarray
    hs: np.ndarray


def relu_rnn_forward(x, h0, U, W, b):
    """A whole sequence: x (T, N, D), h0 (N, H) -> hs (T, N, H), cache."""
    x, h0, U, W, b = _check_params("x", x, "h0", h0, U, W, b, True)
    T, N, D = x.shape
    H = h0.shape[1]
    hs = (x.reshape(T * N, D) @ U.T).astype(np.result_type(x, U, b), copy=False).reshape(T, N, H)
    hs += b
    h = h0
    for t in range(T):
        hs[t] += h @ W.T
        np.maximum(hs[t], 0.0, out=hs[t])
        h = hs[t]
    return hs, ReLURNNCache(x, h0, U, W, hs)


def relu_rnn_backward(dhs, cache):
    """Backpropagation through time: dhs (T, N, H) -> dx (T, N, D), dh0, dU, dW, db.

    relu'(a_t) is 1 where the unit is active (h_t > 0) and 0 elsewhere.
    """
    check_cache("cache", cache, ReLURNNCache, "relu_rnn_forward")
    x, h0, U, W, hs = cache
    dhs = as_float_array("dhs", dhs, hs.shape, {})
    T, N, H = hs.shape
    das = (hs > 0).astype(np.result_type(hs, dhs))
    dh_next = np.zeros((N, H), dtype=das.dtype)
    for t in reversed(range(T)):
        das[t] *= dhs[t] + dh_next
        dh_next = das[t] @ W
    dx, dU, dW, db = input_and_weight_gradients(das, x, h0, hs, U)
    return dx, dh_next, dU, dW, db
