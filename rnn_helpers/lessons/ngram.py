"""A character n-gram model with add-k smoothing: the baseline a language model must beat.

The probability of the next token given the previous n-1 tokens (the context) is

    p(x | context) = (count(context, x) + k) / (count(context) + k V)

counted on the training stream. Counts are kept as sorted integer codes (the context and
the next token written as one number in base V), so that looking up a whole stream is two
``np.searchsorted`` calls. The stream is preceded by n-1 copies of ``pad`` (a token id),
so that every position has a context.
"""
import numpy as np

from ..validation import as_int_array, check_positive


def _codes(stream, n, V, pad):
    padded = np.concatenate([np.full(n - 1, pad, dtype=np.int64), stream.astype(np.int64)])
    code = np.zeros(len(stream), dtype=np.int64)
    for offset in range(n):            # context tokens first, the predicted token last
        code = code * V + padded[offset:offset + len(stream)]
    return code


class NGramModel:
    """Add-k smoothed n-gram model over token ids in [0, V)."""

    def __init__(self, stream, n, V, k=0.1, pad=0):
        if not isinstance(n, int) or n < 1 or V ** n >= 2 ** 62:
            raise ValueError(f"n should be a positive int with V**n < 2**62, but got n={n!r} (V={V})")
        check_positive("k", k)
        self.n, self.V, self.k, self.pad = n, V, k, pad
        codes = _codes(self._check(stream), n, V, pad)
        self.codes, self.counts = np.unique(codes, return_counts=True)
        self.contexts, self.context_counts = np.unique(codes // V, return_counts=True)

    def _check(self, stream):
        stream = as_int_array("stream", stream, (None,), {})
        if stream.size and (stream.min() < 0 or stream.max() >= self.V):
            raise ValueError(f"stream should hold token ids in [0, {self.V - 1}], "
                             f"but got values from {stream.min()} to {stream.max()}")
        return stream

    def _lookup(self, table, counts, keys):
        where = np.minimum(np.searchsorted(table, keys), len(table) - 1)
        return np.where(table[where] == keys, counts[where], 0)

    def probabilities(self, stream):
        """p(stream[t] | the n-1 tokens before it) for every t: array of len(stream)."""
        codes = _codes(self._check(stream), self.n, self.V, self.pad)
        joint = self._lookup(self.codes, self.counts, codes)
        context = self._lookup(self.contexts, self.context_counts, codes // self.V)
        return (joint + self.k) / (context + self.k * self.V)

    def perplexity(self, stream):
        """exp(mean negative log-probability per token) of the stream."""
        return float(np.exp(-np.mean(np.log(self.probabilities(stream)))))
