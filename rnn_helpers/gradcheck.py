"""Numerical gradient checking with centred differences."""
import numpy as np


def rel_error(a, b):
    """Largest relative difference: max |a - b| / max(1e-8, |a| + |b|)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs arrays of the same shape, but got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(f, x, df=None, h=1e-5):
    """Centred-difference gradient of ``f`` at ``x`` (same shape as x).

    f takes the array x and returns a scalar, or an array; in the second case ``df`` is
    the upstream gradient of f's output and the result is the gradient of sum(f(x) * df).
    x is perturbed in place, one entry at a time, and restored before returning.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise ValueError(
            "x should be a floating-point numpy array (it is perturbed in place), "
            f"but got {type(x).__name__}" + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else "")
        )
    grad = np.zeros(x.shape, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        try:
            x[i] = old + h
            plus = _scalarise(f(x), df)
            x[i] = old - h
            minus = _scalarise(f(x), df)
        finally:
            x[i] = old
        grad[i] = (plus - minus) / (2 * h)
        it.iternext()
    return grad


def _scalarise(out, df):
    out = np.asarray(out, dtype=np.float64)
    if df is None:
        if out.size != 1:
            raise ValueError(
                f"f returned an array of shape {out.shape}: pass its upstream gradient as df"
            )
        return float(out.reshape(()))
    df = np.asarray(df, dtype=np.float64)
    if df.shape != out.shape:
        raise ValueError(f"df should have the shape of f(x), {out.shape}, but got shape {df.shape}")
    return float(np.sum(out * df))
