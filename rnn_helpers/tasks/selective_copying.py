"""Selective copying: remember the marked tokens of a sequence, ignore the others.

A small version of the task Gu and Dao (2023) used to motivate selective state spaces.
Each sequence has T steps; every step carries a token drawn uniformly from V symbols
(one-hot) and a marker bit. Exactly K steps, at random positions, are marked; the target is
the K marked tokens in their order. The unmarked tokens come from the same V symbols, so no
fixed weighting of the inputs can tell them apart: only the marker can, and a model must
decide, step by step, whether to store what it reads. Guessing gets 1/V of the tokens right.

(Gu and Dao's version marks the tokens to copy by their identity, with a dedicated noise
token between them, over much longer sequences; here the distractors are real tokens.)
"""
import numpy as np

from ..rnn import softmax_cross_entropy


def make_selective_copying(n, T, K, V, rng):
    """x (T, n, V + 1): one-hot token and marker bit; y (K, n): the marked tokens in order."""
    for name, value, low in (("n", n, 1), ("T", T, 1), ("K", K, 1), ("V", V, 2)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} should be an integer >= {low}, but got {value!r}")
    if K > T:
        raise ValueError(f"K (marked steps) should be at most T = {T}, but got {K}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng should be a numpy Generator (course_rng(seed)), but got {type(rng).__name__}")
    tokens = rng.integers(0, V, size=(T, n))
    # K distinct positions per sequence, sorted: the ranks of K random keys among T.
    positions = np.sort(np.argsort(rng.random((T, n)), axis=0)[:K], axis=0)      # (K, n)
    columns = np.arange(n)
    x = np.zeros((T, n, V + 1))
    x[np.arange(T)[:, None], columns, tokens] = 1.0
    x[positions, columns, V] = 1.0
    return x, tokens[positions, columns]


def copying_loss(outputs, y):
    """Cross-entropy of the K answers read from the last state.

    outputs (N, K * V): the read-out's K blocks of V logits; y (K, N) integer tokens.
    Returns (loss averaged over the K answers and the batch, doutputs (N, K * V)).
    """
    K, N = y.shape
    logits = outputs.reshape(N, K, -1).transpose(1, 0, 2)                        # (K, N, V)
    loss, dlogits = softmax_cross_entropy(logits, y)
    return loss / K, dlogits.transpose(1, 0, 2).reshape(N, -1) / K


def copying_accuracy(outputs, y):
    """Share of the K tokens of every sequence that the read-out gets right."""
    K, N = y.shape
    predicted = outputs.reshape(N, K, -1).argmax(axis=2).T
    return float(np.mean(predicted == y))
