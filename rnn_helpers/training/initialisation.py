"""Weight initialisations for recurrent matrices.

* ``scaled_normal``: entries N(0, gain^2 / fan_in), the default of the course's models.
  A square (H, H) matrix drawn this way has its eigenvalues spread over a disc of radius
  about ``gain`` (the circular law), so some directions shrink and others grow.
* ``orthogonal``: Q with Q^T Q = I (every singular value equals ``gain``), so the linear
  part of the recurrence neither shrinks nor stretches any direction.
* ``identity``: the IRNN initialisation W = scale * I; at the start every unit simply
  copies its previous value, like a leaky unit with alpha = 1.
"""
import numpy as np


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng should be a numpy Generator (np.random.default_rng(seed)), but got {type(rng).__name__}")


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} should be a positive integer, but got {value!r}")


def _check_shape(shape):
    """An int n means (n, n); otherwise a pair of positive ints."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        _positive_int("n", shape)
        return int(shape), int(shape)
    if not isinstance(shape, tuple) or len(shape) != 2:
        raise ValueError(f"shape_or_n should be a positive int n or a pair (rows, cols), but got {shape!r}")
    for name, value in zip(("rows", "cols"), shape):
        _positive_int(f"shape_or_n[{name}]", value)
    return int(shape[0]), int(shape[1])


def _check_gain(name, gain):
    if not np.isfinite(gain):
        raise ValueError(f"{name} should be a finite number, but got {gain!r}")


def scaled_normal(shape, rng, fan_in=None, gain=1.0):
    """Entries from N(0, gain^2 / fan_in); fan_in defaults to the last dimension.

    For a weight used as ``h @ W.T`` the last dimension is the number of inputs of each
    unit, so every pre-activation has variance gain^2 * (mean square of the inputs).
    """
    _check_rng(rng)
    _check_gain("gain", gain)
    fan_in = shape[-1] if fan_in is None else fan_in
    _positive_int("fan_in", fan_in)
    return rng.normal(0.0, gain / np.sqrt(fan_in), size=shape)


def orthogonal(shape_or_n, rng, gain=1.0):
    """A random orthogonal matrix (Haar distributed) times ``gain``.

    shape_or_n: n for an (n, n) matrix Q with Q^T Q = Q Q^T = I, or (rows, cols) for a
    matrix with orthonormal columns (rows >= cols) or orthonormal rows (rows < cols).
    Recipe: A = rng.normal(size=(max, min)) (for a square matrix: (n, n)), A = QR, then
    multiply column j of Q by sign(R_jj). Without this sign correction Q would not be
    uniformly distributed (numpy's QR does not fix the signs of R's diagonal).
    """
    _check_rng(rng)
    _check_gain("gain", gain)
    rows, cols = _check_shape(shape_or_n)
    q, r = np.linalg.qr(rng.normal(size=(max(rows, cols), min(rows, cols))))
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    return gain * (q if rows >= cols else q.T)


def identity(n, scale=1.0):
    """The IRNN recurrent matrix: ``scale`` times the n x n identity."""
    _positive_int("n", n)
    _check_gain("scale", scale)
    return scale * np.eye(n)
