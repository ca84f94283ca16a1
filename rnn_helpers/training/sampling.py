"""Sampling from a character model with a temperature.

The model's logits o give the distribution softmax(o / temperature). Temperature 1 is
the model's own distribution; below 1 it is sharper (as the temperature goes to 0 the
sample becomes the argmax), above 1 flatter (towards the uniform distribution).
"""
import numpy as np

from ..rnn import softmax
from ..tasks.text import SEPARATOR, one_hot
from ..validation import as_float_array, check_positive


def _check_rng(rng):
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng should be a numpy Generator (np.random.default_rng(seed)), but got {type(rng).__name__}"
        )


def temperature_softmax(logits, temperature):
    """softmax(logits / temperature) along the last axis (same shape as logits)."""
    logits = as_float_array("logits", logits, np.shape(logits), {})
    check_positive("temperature", temperature)
    if logits.ndim == 0:
        raise ValueError("logits should have at least one dimension (the K classes)")
    # Shift by the maximum before dividing: finite for any temperature > 0.
    shifted = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    with np.errstate(over="ignore"):
        return softmax(shifted / temperature)


def sample_from_probs(probs, rng):
    """One index per row of probs (..., K), drawn from that row's distribution with ``rng``.

    One uniform number per row lands in the row's cumulative sum (all rows at once).
    Returns an int64 array of shape probs.shape[:-1].
    """
    _check_rng(rng)
    probs = as_float_array("probs", probs, np.shape(probs), {})
    if probs.ndim == 0:
        raise ValueError("probs should have at least one dimension (the K classes)")
    flat = probs.reshape(-1, probs.shape[-1])
    cumulative = np.cumsum(flat, axis=1)
    u = rng.random(len(flat))[:, None] * cumulative[:, -1:]
    picks = np.minimum((cumulative <= u).sum(axis=1), flat.shape[1] - 1)
    return picks.astype(np.int64).reshape(probs.shape[:-1])


def sample_from_logits(logits, temperature, rng):
    """One index per row of logits (..., K), drawn from softmax(logits / temperature).

    Returns an int64 array of shape logits.shape[:-1].
    """
    _check_rng(rng)
    return sample_from_probs(temperature_softmax(logits, temperature), rng)


def generate_names(model, vocab, count, temperature, rng, max_len=20, separator=SEPARATOR):
    """Let a character model write names: a list of ``count`` strings.

    The model writes ``count`` streams of text in parallel, feeding back each sampled
    character; every stream starts by feeding the separator from the zero state. The
    pieces between separators are the names. The first name of every stream is
    discarded: it is written from the zero state, which the model met only at the start
    of the training stream (during training the state is carried from name to name, and
    what it remembers of the previous name shapes the next first letter). The following
    names are collected as they are completed (a name reaching ``max_len`` characters is
    ended there) until there are ``count`` of them. model: a SequenceModel with one-hot
    inputs and outputs over ``vocab``.
    """
    _check_rng(rng)
    check_positive("temperature", temperature)
    if not isinstance(count, (int, np.integer)) or isinstance(count, bool) or count < 1:
        raise ValueError(f"count should be a positive integer, but got {count!r}")
    if not isinstance(max_len, (int, np.integer)) or isinstance(max_len, bool) or max_len < 1:
        raise ValueError(f"max_len should be a positive integer, but got {max_len!r}")
    if model.input_size != vocab.size or model.output_size != vocab.size:
        raise ValueError(
            f"model should have input and output size {vocab.size} (the vocabulary), "
            f"but has {model.input_size} and {model.output_size}"
        )
    stop = vocab.encode(separator)[0]
    current = np.full(count, stop)
    state, names = None, []
    written = [[] for _ in range(count)]
    first = np.ones(count, dtype=bool)
    while len(names) < count:
        logits, _, state = model.forward(one_hot(current[None], vocab.size, dtype=model.dtype), state)
        current = sample_from_logits(logits[0], temperature, rng)
        for row in range(count):
            if current[row] != stop:
                written[row].append(current[row])
                if len(written[row]) < max_len:
                    continue
                current[row] = stop  # the name is cut: feed the separator next
            if not first[row]:
                names.append(vocab.decode(np.array(written[row], dtype=np.int64)))
            first[row], written[row] = False, []
    return names[:count]
