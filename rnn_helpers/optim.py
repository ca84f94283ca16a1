"""Gradient clipping and optimisers over dicts of arrays (name -> array).

Clipping functions return new dicts and never modify their inputs. An optimiser's
``step(params, grads)`` updates the arrays of ``params`` in place: that is its job.
"""
import numpy as np

from .validation import check_positive


def _check_grads(grads):
    if not isinstance(grads, dict):
        raise ValueError(f"grads should be a dict of arrays (name -> array), but got {type(grads).__name__}")
    for name, g in grads.items():
        if not isinstance(g, np.ndarray) or g.dtype.kind != "f":
            raise ValueError(f"grads[{name!r}] should be a floating-point numpy array, but got {type(g).__name__}"
                             + (f" of dtype {g.dtype}" if isinstance(g, np.ndarray) else ""))


def global_norm(grads):
    """Euclidean norm of all arrays of ``grads`` taken together (inf if it overflows)."""
    _check_grads(grads)
    with np.errstate(over="ignore"):
        return float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values())))


def clip_grad_norm(grads, max_norm):
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

    The direction of the full gradient is kept. Returns (new dict, norm before clipping).
    """
    check_positive("max_norm", max_norm)
    total = global_norm(grads)
    scale = max_norm / total if total > max_norm else 1.0
    return {name: g * scale for name, g in grads.items()}, total


def clip_grad_value(grads, value):
    """Clip every gradient entry to [-value, value] (changes the direction). Returns a new dict."""
    check_positive("value", value)
    _check_grads(grads)
    return {name: np.clip(g, -value, value) for name, g in grads.items()}


def _check_step(params, grads):
    _check_grads(grads)
    for name, g in grads.items():
        if name not in params:
            raise ValueError(f"grads has {name!r}, which params does not have")
        if params[name].shape != g.shape:
            raise ValueError(f"grads[{name!r}] should have shape {params[name].shape} like params[{name!r}], "
                             f"but got shape {g.shape}")


class SGD:
    """Stochastic gradient descent with optional (heavy-ball) momentum."""

    def __init__(self, lr, momentum=0.0):
        check_positive("lr", lr)
        check_positive("momentum", momentum, allow_zero=True)
        self.lr, self.momentum = lr, momentum
        self.velocity = {}

    def step(self, params, grads):
        """Update params[name] -= lr * (velocity) for every name in grads."""
        _check_step(params, grads)
        for name, g in grads.items():
            if self.momentum:
                v = self.velocity.get(name, np.zeros_like(g))
                v = self.momentum * v + g
                self.velocity[name] = v
                g = v
            params[name] -= (self.lr * g).astype(params[name].dtype, copy=False)


class Adam:
    """Adam (Kingma & Ba) with bias correction."""

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        check_positive("lr", lr)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name} should be in [0, 1), but got {beta!r}")
        check_positive("eps", eps)
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m, self.v, self.t = {}, {}, 0

    def step(self, params, grads):
        """One Adam update of every array of params that has a gradient."""
        _check_step(params, grads)
        self.t += 1
        correction1 = 1.0 - self.beta1 ** self.t
        correction2 = 1.0 - self.beta2 ** self.t
        for name, g in grads.items():
            m = self.beta1 * self.m.get(name, 0.0) + (1.0 - self.beta1) * g
            v = self.beta2 * self.v.get(name, 0.0) + (1.0 - self.beta2) * g * g
            self.m[name], self.v[name] = m, v
            update = self.lr * (m / correction1) / (np.sqrt(v / correction2) + self.eps)
            params[name] -= update.astype(params[name].dtype, copy=False)
