"""The output-to-hidden network of notebook 01, run free or trained with teacher forcing.

The only recurrence goes from the previous output to the next state (a Jordan network)::

    h_t = tanh(U x_t + W s_{t-1} + b),   o_t = c + V h_t,   s_0 = 0

Free-running, s_{t-1} is the one-hot vector of the model's own prediction argmax o_{t-1},
so the steps run one after the other. With teacher forcing, s_{t-1} is the one-hot vector
of the target y_{t-1} (the output step t-1 should have produced): every step's input is
known in advance and all steps are computed at once. Shapes: x (T, N, D), y (T, N)
integers in [0, K), U (H, D), W (H, K), b (H,), V (K, H), c (K,), logits (T, N, K).
"""
import numpy as np

from ..validation import as_float_array, as_int_array


def _check(x, U, W, b, V, c):
    dims = {}
    x = as_float_array("x", x, ("T", "N", "D"), dims)
    U = as_float_array("U", U, ("H", "D"), dims)
    V = as_float_array("V", V, ("K", "H"), dims)
    W = as_float_array("W", W, ("H", "K"), dims)
    b = as_float_array("b", b, ("H",), dims)
    c = as_float_array("c", c, ("K",), dims)
    return x, U, W, b, V, c, dims


def previous_targets_onehot(y, K):
    """y (T, N) integer targets -> (T, N, K): at step t the one-hot vector of y[t - 1], zeros at t = 0."""
    y = as_int_array("y", y, ("T", "N"), {})
    if y.size and (y.min() < 0 or y.max() >= K):
        raise ValueError(f"y should hold classes in [0, {K - 1}], but got values from {y.min()} to {y.max()}")
    fed = np.zeros(y.shape + (K,))
    fed[1:] = np.eye(K)[y[:-1]]
    return fed


def teacher_forced_logits(x, y, U, W, b, V, c):
    """Logits (T, N, K) of every step, each step fed the one-hot previous target (all steps at once)."""
    x, U, W, b, V, c, dims = _check(x, U, W, b, V, c)
    y = as_int_array("y", y, (dims["T"], dims["N"]), {})
    hs = np.tanh(x @ U.T + previous_targets_onehot(y, dims["K"]) @ W.T + b)
    return hs @ V.T + c


def free_running_logits(x, U, W, b, V, c):
    """Logits (T, N, K) and predictions (T, N) when each step is fed the model's previous prediction."""
    x, U, W, b, V, c, dims = _check(x, U, W, b, V, c)
    T, N, K = dims["T"], dims["N"], dims["K"]
    fed = np.zeros((N, K))
    logits, predictions = np.empty((T, N, K)), np.empty((T, N), dtype=np.int64)
    for t in range(T):                       # step t needs the prediction of step t - 1
        logits[t] = np.tanh(x[t] @ U.T + fed @ W.T + b) @ V.T + c
        predictions[t] = logits[t].argmax(axis=-1)
        fed = np.eye(K)[predictions[t]]
    return logits, predictions
