"""Character n-gram models, the baselines a neural language model must beat.

An n-gram model predicts the next token from the n-1 tokens before it (its context), with
counts taken on a training stream. Two ways of turning counts into probabilities:

* ``AddKNGram``: add-k smoothing, p(w | h) = (c(h w) + k) / (c(h) + k V). Simple, and weak:
  every unseen continuation gets the same small share, whatever shorter contexts know.
* ``KneserNeyNGram``: interpolated Kneser-Ney (Kneser and Ney 1995; the interpolated form
  of Chen and Goodman 1998), the standard n-gram baseline. For the longest context h of a
  token w, with h' = h without its first token,

      p_n(w | h) = (c(h w) - D) / c(h) + D N(h) / c(h) * p_{n-1}(w | h')   (c(h w) > 0)
      p_n(w | h) =                      D N(h) / c(h) * p_{n-1}(w | h')   (c(h w) = 0)

  where N(h) is the number of distinct tokens seen after h: a fixed discount D is taken
  from every seen count and the mass it frees goes to the shorter context. The shorter
  orders use the same formula with *continuation counts* in place of c: c'(g w) = the
  number of distinct tokens seen before g w. A token that follows many different contexts
  is a good guess in a new one; a token frequent after one context only is not. The
  1-gram order interpolates with the uniform distribution 1/V, so no token gets 0; a
  context never seen in training passes its whole mass to the shorter one. D for each
  order is n1 / (n1 + 2 n2), with n1, n2 the numbers of n-grams of that order whose count
  is 1 and 2 (Ney, Essen and Kneser 1994), or 0.5 when none occurs once (n1 = 0 would give
  D = 0 and no mass for unseen tokens). *Modified* Kneser-Ney (Chen and Goodman 1998, the
  strongest smoothing in their comparison) takes three discounts per order, for counts 1,
  2 and 3 or more, and frees the sum of the discounts of the tokens seen after h.

Both take the stream preceded by n-1 copies of ``pad`` (a token id), so that every position
has a full context. Counts are kept as sorted integer codes (a context and its next token
written as one number in base V), so that looking up a whole stream is a few
``np.searchsorted`` calls::

    model = KneserNeyNGram(train_ids, 5, vocab.size, pad=newline)
    model.perplexity(valid_ids)      # exp(mean negative log-probability per token)
"""
import numpy as np

from ..validation import as_int_array, check_positive


#: The discounts of counts 1, 2, 3+ where the counts of counts cannot estimate them.
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)


def _check_order(n, V):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1 or V ** n >= 2 ** 62:
        raise ValueError(f"n should be a positive int with V**n < 2**62, but got n={n!r} (V={V})")


def _check_stream(stream, V):
    stream = as_int_array("stream", stream, (None,), {})
    if stream.size and (stream.min() < 0 or stream.max() >= V):
        raise ValueError(f"stream should hold token ids in [0, {V - 1}], "
                         f"but got values from {stream.min()} to {stream.max()}")
    return stream.astype(np.int64)


def ngram_codes(stream, n, V, pad):
    """The n-gram ending at every position of stream, as one int in base V: (len(stream),).

    The n-1 tokens before the position come first, the token itself last; the stream is
    preceded by n-1 copies of pad. ``code // V`` is the context, ``code % V`` the token.
    """
    padded = np.concatenate([np.full(n - 1, pad, dtype=np.int64), stream])
    code = np.zeros(len(stream), dtype=np.int64)
    for offset in range(n):
        code = code * V + padded[offset:offset + len(stream)]
    return code


def _lookup(keys, table, values):
    """values[i] where table[i] == key (table sorted), 0 where the key is absent."""
    if len(table) == 0:
        return np.zeros(len(keys), dtype=values.dtype)
    where = np.minimum(np.searchsorted(table, keys), len(table) - 1)
    return np.where(table[where] == keys, values[where], 0)


class AddKNGram:
    """Add-k smoothed n-gram model over token ids in [0, V)."""

    def __init__(self, stream, n, V, k=0.1, pad=0):
        _check_order(n, V)
        check_positive("k", k)
        self.n, self.V, self.k, self.pad = n, V, k, pad
        codes = ngram_codes(_check_stream(stream, V), n, V, pad)
        self.codes, self.counts = np.unique(codes, return_counts=True)
        self.contexts, self.context_counts = np.unique(codes // V, return_counts=True)

    def probabilities(self, stream):
        """p(stream[t] | the n-1 tokens before it) for every t: array of len(stream)."""
        codes = ngram_codes(_check_stream(stream, self.V), self.n, self.V, self.pad)
        joint = _lookup(codes, self.codes, self.counts)
        context = _lookup(codes // self.V, self.contexts, self.context_counts)
        return (joint + self.k) / (context + self.k * self.V)

    def stored_ngrams(self):
        """The number of distinct n-grams whose counts the model keeps (its size)."""
        return len(self.codes)

    def perplexity(self, stream):
        """exp(mean negative log-probability per token) of the stream."""
        return float(np.exp(-np.mean(np.log(self.probabilities(stream)))))


class _Order:
    """The counts of one order m: m-gram codes with their (continuation) counts, the
    discount of each count (``discount_of[min(count, 3)]``) and, per context, the total
    count and the mass the discounts free."""

    def __init__(self, codes, counts, V, discounts, modified):
        self.codes, self.counts = codes, counts
        if discounts is None:
            discounts = estimate_discounts(counts, modified)
        self.discount_of = np.array([0.0, *discounts] if modified else [0.0] + [discounts] * 3)
        self.contexts, first = np.unique(codes // V, return_index=True)
        self.totals = np.add.reduceat(counts, first)
        self.freed = np.add.reduceat(self.discount_of[np.minimum(counts, 3)], first)


def estimate_discounts(counts, modified=False):
    """The discount(s) of one order from its counts of counts n_r (the number of n-grams
    seen exactly r times): D = n1 / (n1 + 2 n2), or for modified Kneser-Ney the three
    discounts of counts 1, 2 and 3+ (Chen and Goodman 1998): D_r = r - (r + 1) D n_{r+1} / n_r.

    When a count of counts they need is 0, the fallbacks 0.5 (and 0.5, 1, 1.5 modified)
    are used. Each D_r is kept within [0, r].
    """
    n = [int(np.sum(counts == r)) for r in range(5)]
    if not n[1] or (modified and not (n[2] and n[3])):
        return FALLBACK_DISCOUNTS if modified else FALLBACK_DISCOUNTS[0]
    D = n[1] / (n[1] + 2 * n[2])
    if not modified:
        return D
    return tuple(float(np.clip(r - (r + 1) * D * n[r + 1] / n[r], 0, r)) for r in (1, 2, 3))


class KneserNeyNGram:
    """Interpolated Kneser-Ney n-gram model over token ids in [0, V).

    modified: one discount per order (False) or three, for counts 1, 2 and 3+ (True,
    Chen and Goodman's modified Kneser-Ney). discounts: None (estimated per order from the
    counts, ``estimate_discounts``) or, for each order 1, ..., n, a number (three numbers
    when modified). ``self.discounts`` holds those used.
    """

    def __init__(self, stream, n, V, pad=0, modified=False, discounts=None):
        _check_order(n, V)
        if discounts is not None and len(discounts) != n:
            raise ValueError(f"discounts should be None or one entry per order (n = {n}), but got {discounts!r}")
        self.n, self.V, self.pad, self.modified = n, V, pad, modified
        stream = _check_stream(stream, V)
        given = [None] * n if discounts is None else list(discounts)
        self.orders = [None] * n                       # self.orders[m - 1]: the order m
        unique, counts = np.unique(ngram_codes(stream, n, V, pad), return_counts=True)
        for m in range(n, 0, -1):
            self.orders[m - 1] = _Order(unique, counts, V, given[m - 1], modified)
            if m > 1:   # continuation count of an (m-1)-gram: the number of distinct m-grams ending in it
                unique, counts = np.unique(unique % V ** (m - 1), return_counts=True)
        self.discounts = [tuple(map(float, o.discount_of[1:])) if modified else float(o.discount_of[1])
                          for o in self.orders]

    def probabilities(self, stream):
        """p(stream[t] | the n-1 tokens before it) for every t: array of len(stream)."""
        codes = ngram_codes(_check_stream(stream, self.V), self.n, self.V, self.pad)
        p = np.full(len(codes), 1.0 / self.V)          # below the 1-gram order: uniform
        for m, order in enumerate(self.orders, start=1):
            gram = codes % self.V ** m                 # the last m tokens
            count = _lookup(gram, order.codes, order.counts)
            total = _lookup(gram // self.V, order.contexts, order.totals)
            freed = _lookup(gram // self.V, order.contexts, order.freed)
            discounted = count - order.discount_of[np.minimum(count, 3)]
            seen = total > 0
            p = np.where(seen, (discounted + freed * p) / np.where(seen, total, 1), p)
        return p

    def stored_ngrams(self):
        """The number of distinct m-grams, m = 1, ..., n, whose (continuation) counts the model
        keeps: its size (the totals per context are sums of these counts)."""
        return int(sum(len(order.codes) for order in self.orders))

    def perplexity(self, stream):
        """exp(mean negative log-probability per token) of the stream."""
        return float(np.exp(-np.mean(np.log(self.probabilities(stream)))))
