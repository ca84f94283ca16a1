"""The embedding layer: a lookup table of one learned vector per token.

Row k of ``E`` (V, D) is the vector of token k. For integer tokens (T, N) the forward
returns ``E[tokens]`` (T, N, D), the same as multiplying a one-hot vector by ``E`` but
without building the (T, N, V) one-hot array. The backward is the transpose of that
lookup: row k of dE is the sum of the upstream gradients at every position that holds
token k. A token that appears twice receives both gradients, which is why the backward
accumulates with ``np.add.at`` (``dE[tokens] += dout`` would keep only one of them).
"""
from typing import NamedTuple

import numpy as np

from .validation import as_float_array, as_int_array, check_cache


class EmbeddingCache(NamedTuple):
    tokens: np.ndarray   # (T, N) integers in [0, V)
    E_shape: tuple       # (V, D)
    dtype: np.dtype      # dtype of E


def embedding_forward(tokens, E):
    """tokens (T, N) integers in [0, V), E (V, D) -> out (T, N, D) = E[tokens], cache."""
    dims = {}
    tokens = as_int_array("tokens", tokens, ("T", "N"), dims)
    E = as_float_array("E", E, ("V", "D"), dims)
    V = dims["V"]
    if tokens.size and (tokens.min() < 0 or tokens.max() >= V):
        raise ValueError(f"tokens should lie in [0, {V - 1}] (V = {V} rows of E), "
                         f"but got values from {tokens.min()} to {tokens.max()}")
    return E[tokens], EmbeddingCache(tokens.copy(), E.shape, E.dtype)


def embedding_backward(dout, cache):
    """dout (T, N, D), the gradient on the output -> dE (V, D)."""
    check_cache("cache", cache, EmbeddingCache, "embedding_forward")
    V, D = cache.E_shape
    dout = as_float_array("dout", dout, cache.tokens.shape + (D,), {})
    dE = np.zeros((V, D), dtype=np.result_type(cache.dtype, dout.dtype))
    np.add.at(dE, cache.tokens, dout)
    return dE
