"""The adding problem (Hochreiter & Schmidhuber 1997), the course's long-range benchmark.

Each sequence has T steps of two channels: a value drawn uniformly from [0, 1) and a
marker that is 1 at exactly two steps, one in each half of the sequence. The target is the
sum of the two marked values, so the model must remember a value over up to T steps.
"""
import numpy as np

#: The target has mean 1 and variance 2 * (1/12) = 1/6: the MSE of always predicting 1.
BASELINE_MSE = 1.0 / 6.0


def make_adding_problem(n, T, rng):
    """Return x (T, n, 2) and y (n, 1) for ``n`` sequences of length ``T`` (T >= 2)."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n should be a positive integer, but got {n!r}")
    if not isinstance(T, (int, np.integer)) or T < 2:
        raise ValueError(f"T should be an integer >= 2 (one marker in each half), but got {T!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng should be a numpy Generator (np.random.default_rng(seed)), but got {type(rng).__name__}")
    half = T // 2
    values = rng.random((T, n))
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, T, size=n)
    markers = np.zeros((T, n))
    columns = np.arange(n)
    markers[first, columns] = 1.0
    markers[second, columns] = 1.0
    x = np.stack([values, markers], axis=-1)
    y = (values[first, columns] + values[second, columns])[:, None]
    return x, y
