"""Binary addition as a sequence task: the network must remember the carry.

Two integers a and b are written in binary, least significant bit first. At step t the
input is the pair (bit t of a, bit t of b) and the target is bit t of a + b. With
``n_bits``-bit operands the sequences have n_bits + 1 steps: the last inputs are (0, 0)
and the last target is the final carry::

    a = 6 = 0 1 1 0 | 0          (step t = 0 ... 4, least significant first)
    b = 3 = 1 1 0 0 | 0
    a+b=9 = 1 0 0 1 | 0

Bit t of the sum depends on the bits at step t and on the carry from all earlier steps,
so a network that adds must keep one bit of memory; if it has learnt the rule, it adds
numbers longer than any it was trained on.
"""
import numpy as np

from ..validation import as_float_array, as_int_array

#: Largest operand width: sums must fit in int64.
MAX_BITS = 62


def _check_n_bits(n_bits):
    if not isinstance(n_bits, (int, np.integer)) or isinstance(n_bits, bool) or not 1 <= n_bits <= MAX_BITS:
        raise ValueError(f"n_bits should be an integer from 1 to {MAX_BITS}, but got {n_bits!r}")


def to_bits(values, n_bits):
    """Non-negative integers (n,) below 2**n_bits -> bits (n_bits, n), least significant first."""
    _check_n_bits(n_bits)
    values = as_int_array("values", values, (None,), {}).astype(np.int64)
    if values.size and (values.min() < 0 or values.max() >= 2 ** n_bits):
        raise ValueError(
            f"values should lie in [0, 2**{n_bits}) to be written with {n_bits} bits, "
            f"but got values from {values.min()} to {values.max()}"
        )
    return (values[None, :] >> np.arange(n_bits, dtype=np.int64)[:, None]) & 1


def from_bits(bits):
    """Bits (T, n) of 0s and 1s, least significant first -> integers (n,) (int64)."""
    bits = as_int_array("bits", bits, (None, None), {})
    if bits.shape[0] > MAX_BITS + 1:
        raise ValueError(f"bits should have at most {MAX_BITS + 1} rows (steps), but got {bits.shape[0]}")
    if bits.size and not np.isin(bits, (0, 1)).all():
        raise ValueError("bits should hold only 0s and 1s")
    weights = np.int64(1) << np.arange(bits.shape[0], dtype=np.int64)
    return (bits.astype(np.int64) * weights[:, None]).sum(axis=0)


def addition_sequences(a, b, n_bits):
    """The task for the operand pairs a, b (n,): x (n_bits+1, n, 2) float64, y (n_bits+1, n) int64."""
    a = as_int_array("a", a, ("n",), {})
    b = as_int_array("b", b, (a.shape[0],), {})
    zero = np.zeros((1, a.shape[0]), dtype=np.int64)
    bits_a = np.concatenate([to_bits(a, n_bits), zero])
    bits_b = np.concatenate([to_bits(b, n_bits), zero])
    x = np.stack([bits_a, bits_b], axis=-1).astype(np.float64)
    y = to_bits(a.astype(np.int64) + b, n_bits + 1)
    return x, y


def random_pairs(n, n_bits, rng):
    """n operand pairs (a, b), uniform over [0, 2**n_bits) each, as two int64 arrays."""
    _check_n_bits(n_bits)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng should be a numpy Generator, but got {type(rng).__name__}")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n should be a positive integer, but got {n!r}")
    a = rng.integers(0, 2 ** n_bits, size=n, dtype=np.int64)
    b = rng.integers(0, 2 ** n_bits, size=n, dtype=np.int64)
    return a, b


def make_binary_addition(n, n_bits, rng):
    """n random additions of n_bits-bit numbers: x (n_bits+1, n, 2), y (n_bits+1, n)."""
    return addition_sequences(*random_pairs(n, n_bits, rng), n_bits)


def predicted_sums(logits):
    """The integers a network's outputs spell: logits (T, n, 2) -> argmax bits -> (n,) int64."""
    logits = as_float_array("logits", logits, (None, None, 2), {})
    return from_bits(logits.argmax(axis=-1))


def exact_match_accuracy(logits, y):
    """Fraction of sequences whose every predicted bit (argmax of logits (T, n, 2)) equals
    the target bit of y (T, n): the fraction of additions that are exactly right."""
    dims = {}
    logits = as_float_array("logits", logits, ("T", "n", 2), dims)
    y = as_int_array("y", y, ("T", "n"), dims)
    return float(np.mean((logits.argmax(axis=-1) == y).all(axis=0)))
