"""A one-unit RNN whose loss surface has a cliff (after Pascanu, Mikolov & Bengio, 2013).

    h_0 given,   h_t = w * sigmoid(h_{t-1}) + b   (t = 1..T),   L(w, b) = (h_T - target)^2

For some (w, b) the map h -> w sigmoid(h) + b has two stable fixed points; which one h_T
ends near depends on which side of a boundary in the (w, b) plane the parameters lie.
Along that boundary the loss jumps: a nearly flat plateau next to a wall where the
gradient is enormous (it contains products of T factors w sigmoid'(h)). A plain gradient
step taken on the wall throws the parameters far away; clipping the gradient caps the
step length.

All functions broadcast over arrays w and b (for a loss surface on a grid).
"""
import numpy as np

from ..optim import clip_grad_norm, clip_grad_value
from ..validation import as_float_array, check_positive

#: Defaults of the course's example: 50 steps from h_0 = 0.5, target h_T = 0.7.
T_STEPS, H0, TARGET = 50, 0.5, 0.7
CLIP_KINDS = (None, "norm", "value")


def _sigmoid(z):
    # tanh form: no overflow for any finite z
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _check(w, b, T):
    w = as_float_array("w", np.asarray(w, dtype=np.float64) if np.isscalar(w) else w, np.shape(w), {})
    b = as_float_array("b", np.asarray(b, dtype=np.float64) if np.isscalar(b) else b, np.shape(b), {})
    try:
        w, b = np.broadcast_arrays(w, b)
    except ValueError:
        raise ValueError(f"w and b should have broadcastable shapes, but got {w.shape} and {b.shape}") from None
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T should be a positive integer, but got {T!r}")
    return w, b


def cliff_states(w, b, T=T_STEPS, h0=H0):
    """States h_0..h_T: array (T + 1, *shape) with shape the broadcast shape of w and b."""
    w, b = _check(w, b, T)
    hs = np.empty((T + 1,) + w.shape)
    hs[0] = h0
    for t in range(1, T + 1):
        hs[t] = w * _sigmoid(hs[t - 1]) + b
    return hs


def cliff_loss(w, b, T=T_STEPS, h0=H0, target=TARGET):
    """L(w, b) = (h_T - target)^2, with the shape of w and b broadcast together."""
    return (cliff_states(w, b, T, h0)[-1] - target) ** 2


def cliff_loss_and_grad(w, b, T=T_STEPS, h0=H0, target=TARGET):
    """L, dL/dw, dL/db by backpropagation through the T steps (each of broadcast shape)."""
    w, b = _check(w, b, T)
    hs = cliff_states(w, b, T, h0)
    loss = (hs[-1] - target) ** 2
    dh = 2.0 * (hs[-1] - target)
    dw = np.zeros(w.shape)
    db = np.zeros(w.shape)
    for t in range(T, 0, -1):
        s = _sigmoid(hs[t - 1])
        dw += dh * s
        db += dh
        dh = dh * w * s * (1.0 - s)
    return loss, dw, db


def gradient_descent(start, lr, steps, *, clip=None, threshold=None, T=T_STEPS, h0=H0, target=TARGET):
    """Plain gradient descent on L(w, b) from ``start`` = (w, b).

    clip: None, "norm" (rescale the gradient to norm <= threshold, same direction) or
    "value" (clip each component to [-threshold, threshold]); uses rnn_helpers.optim.
    Returns a dict: "path" (steps + 1, 2) of (w, b), "loss" (steps + 1,) and
    "grad_norm" (steps,) before clipping.
    """
    if clip not in CLIP_KINDS:
        raise ValueError(f"clip should be one of {CLIP_KINDS}, but got {clip!r}")
    if clip is not None:
        if threshold is None:
            raise ValueError(f"threshold is needed with clip={clip!r}")
        check_positive("threshold", threshold)
    check_positive("lr", lr)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"steps should be a non-negative integer, but got {steps!r}")
    point = as_float_array("start", np.asarray(start, dtype=np.float64), (2,), {}).copy()
    path, losses, grad_norms = [point.copy()], [], []
    for _ in range(steps):
        loss, dw, db = cliff_loss_and_grad(point[0], point[1], T, h0, target)
        grads = {"w": np.array(dw), "b": np.array(db)}
        grad_norms.append(float(np.hypot(dw, db)))
        if clip == "norm":
            grads, _ = clip_grad_norm(grads, threshold)
        elif clip == "value":
            grads = clip_grad_value(grads, threshold)
        point = point - lr * np.array([grads["w"], grads["b"]])
        path.append(point.copy())
        losses.append(float(loss))
    losses.append(float(cliff_loss(point[0], point[1], T, h0, target)))
    return {"path": np.array(path), "loss": np.array(losses), "grad_norm": np.array(grad_norms)}
