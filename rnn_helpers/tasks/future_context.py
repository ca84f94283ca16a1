"""A tagging task that needs the future: "is this token followed by the marker soon?".

Sequences of T symbols from a small alphabet; the last symbol of the alphabet, ``X``, is
the marker. The tag of position t is 1 if the marker occurs among the next k tokens
(positions t+1, ..., t+k) and 0 otherwise. The tag depends only on tokens that come
AFTER t, so a left-to-right RNN that must answer at step t can do no better than guess
from the base rate, whereas a model that also reads the sequence from the right sees
the answer directly.
"""
import numpy as np

#: The alphabet; the marker is its last symbol.
SYMBOLS = "abcdX"
MARKER = len(SYMBOLS) - 1


def _check_positive_int(name, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} should be a positive integer, but got {value!r}")


def followed_by_marker(tokens, k, marker=MARKER):
    """Tags (T, N) int64: 1 where ``marker`` occurs in tokens[t+1 : t+k+1] (time-major)."""
    tokens = np.asarray(tokens)
    if tokens.ndim != 2 or tokens.dtype.kind not in "iu":
        raise ValueError(f"tokens should be a (T, N) integer array, but got shape {tokens.shape} "
                         f"and dtype {tokens.dtype}")
    _check_positive_int("k", k)
    is_marker = tokens == marker
    tags = np.zeros(tokens.shape, dtype=bool)
    for j in range(1, k + 1):          # look j steps ahead
        tags[:-j] |= is_marker[j:]
    return tags.astype(np.int64)


def one_hot(tokens, num_symbols=len(SYMBOLS)):
    """(T, N) integer tokens -> (T, N, num_symbols) float64 one-hot vectors."""
    tokens = np.asarray(tokens)
    if tokens.dtype.kind not in "iu" or (tokens.size and (tokens.min() < 0 or tokens.max() >= num_symbols)):
        raise ValueError(f"tokens should be integers in [0, {num_symbols - 1}]")
    return np.eye(num_symbols)[tokens]


def make_future_context_task(n, T, rng, k=3, p_marker=0.2):
    """n sequences of length T: x (T, n, 5) one-hot, tags y (T, n) int64 in {0, 1}.

    Each token is the marker with probability p_marker, otherwise one of the other
    symbols uniformly. With the defaults (k = 3, p_marker = 0.2) about half the tags are 1
    (1 - 0.8^3 = 0.488 away from the end of the sequence).
    """
    _check_positive_int("n", n)
    _check_positive_int("T", T)
    _check_positive_int("k", k)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng should be a numpy Generator (np.random.default_rng(seed)), but got {type(rng).__name__}")
    if not 0.0 <= p_marker <= 1.0:
        raise ValueError(f"p_marker should be a probability in [0, 1], but got {p_marker!r}")
    tokens = rng.integers(0, MARKER, size=(T, n))
    tokens[rng.random((T, n)) < p_marker] = MARKER
    return one_hot(tokens), followed_by_marker(tokens, k)


def decode(x):
    """(T, ...) one-hot sequence -> string(s) of symbols, e.g. for printing one example."""
    tokens = np.asarray(x).argmax(axis=-1)
    if tokens.ndim == 1:
        return "".join(SYMBOLS[i] for i in tokens)
    return ["".join(SYMBOLS[i] for i in column) for column in tokens.T]
