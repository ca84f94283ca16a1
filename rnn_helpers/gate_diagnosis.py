"""Name the gate whose part of a gradient is wrong, for the hints of test cells.

Gated layers stack one block per gate along an axis (LSTM: i, f, g, o; GRU: r, z, n): the
rows of ``U``, ``W``, ``b`` and the columns of the pre-activations. When only some blocks of
a student's gradient are wrong, the slip is in the derivation of those gates, and a hint
can say which.
"""
import numpy as np


def wrong_blocks(got, want, names, axis=0, rtol=1e-6, atol=1e-8):
    """The names of the blocks (equal slices along ``axis``) in which ``got`` differs from ``want``.

    Returns () when the shapes differ or the arrays cannot be split into ``len(names)`` blocks.
    """
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or got.ndim == 0 or got.shape[axis] % len(names):
        return ()
    return tuple(name for name, a, b in zip(names, np.split(got, len(names), axis), np.split(want, len(names), axis))
                 if not np.allclose(a, b, rtol=rtol, atol=atol))


def block_hint(got, want, names, hints, axis=0):
    """The hint for the blocks that are wrong: ``hints`` maps a tuple of block names to a text.

    Without an entry for the wrong blocks, the hint names them; "" when no block is wrong.
    """
    wrong = wrong_blocks(got, want, names, axis)
    if not wrong:
        return ""
    return hints.get(wrong, f"the blocks of {', '.join(wrong)} are wrong (blocks in the order {', '.join(names)})")
