"""The language model of notebook 07, assembled from the course's layers (reference).

embedding -> LSTM -> read-out, trained with the cross-entropy of the next token:

    x = E[tokens]                       (T, N, D)   embedding
    hs, cs = LSTM(x, h0, c0)            (T, N, H)
    logits = hs @ V.T + c               (T, N, K)   read-out, K = vocabulary size
    loss = softmax_cross_entropy(logits, targets)   summed over time, averaged over N

Parameters live in one dict: E (K, D), U (4H, D), W (4H, H), b (4H,), V (K, H), c (K,).
Also the sampler's next-token distribution, with a temperature and top-k truncation,
and ``reference_building_blocks``, which the notebook's test cells use so that a student's
training step is graded with the course's layers, whatever their own layers do.
"""
import contextlib

import numpy as np

from ..embedding import embedding_backward, embedding_forward
from ..lstm import lstm_backward, lstm_forward
from ..rnn import softmax_cross_entropy
from ..training.initialisation import scaled_normal
from ..training.sampling import temperature_softmax
from ..validation import as_float_array, check_positive


def init_params(vocab_size, embed_size, hidden_size, rng, forget_bias=1.0, dtype=np.float64):
    """Small random parameters (forget-gate bias ``forget_bias``) as a dict of arrays."""
    K, D, H = vocab_size, embed_size, hidden_size
    b = np.zeros(4 * H)
    b[H:2 * H] = forget_bias
    params = {"E": rng.normal(scale=1.0, size=(K, D)) / np.sqrt(D),
              "U": scaled_normal((4 * H, D), rng), "W": scaled_normal((4 * H, H), rng), "b": b,
              "V": scaled_normal((K, H), rng), "c": np.zeros(K)}
    return {name: value.astype(dtype) for name, value in params.items()}


def loss_and_grads(params, tokens, targets, h0, c0):
    """Loss, gradients (a dict with the keys of params) and the final state (h_T, c_T)."""
    x, embed_cache = embedding_forward(tokens, params["E"])
    hs, cs, lstm_cache = lstm_forward(x, h0, c0, params["U"], params["W"], params["b"])
    logits = hs @ params["V"].T + params["c"]
    loss, dlogits = softmax_cross_entropy(logits, targets)
    T, N, H = hs.shape
    flat = dlogits.reshape(T * N, -1)
    dV = flat.T @ hs.reshape(T * N, H)
    dc = flat.sum(axis=0)
    dx, _, _, dU, dW, db = lstm_backward(dlogits @ params["V"], lstm_cache)
    dE = embedding_backward(dx, embed_cache)
    grads = {"E": dE, "U": dU, "W": dW, "b": db, "V": dV, "c": dc}
    return loss, grads, (hs[-1], cs[-1])


def sampling_distribution(logits, temperature=1.0, top_k=None):
    """The distribution (N, K) the sampler draws from, for logits (N, K).

    softmax(logits / temperature) restricted to the top_k largest logits of each row
    (exactly top_k tokens, ties broken towards the lower index) and renormalised.
    temperature = 0 puts all the mass on the argmax.
    """
    logits = as_float_array("logits", logits, ("N", "K"), {})
    check_positive("temperature", temperature, allow_zero=True)
    K = logits.shape[1]
    if top_k is not None and not (isinstance(top_k, (int, np.integer)) and 1 <= top_k <= K):
        raise ValueError(f"top_k should be None or an int in [1, {K}], but got {top_k!r}")
    rows = np.arange(len(logits))[:, None]
    if temperature == 0:
        probs = np.zeros(logits.shape)
        probs[rows[:, 0], np.argmax(logits, axis=1)] = 1.0
        return probs
    if top_k is not None:
        order = np.argsort(-logits, axis=1, kind="stable")
        keep = np.zeros(logits.shape, dtype=bool)
        keep[rows, order[:, :top_k]] = True
        logits = np.where(keep, logits, -np.inf)
    return temperature_softmax(logits, temperature)


#: The layers a student's training step calls by name, and the module each comes from.
BUILDING_BLOCKS = {"embedding_forward": "embedding", "embedding_backward": "embedding",
                   "lstm_forward": "lstm", "lstm_backward": "lstm", "softmax_cross_entropy": "rnn"}


@contextlib.contextmanager
def reference_building_blocks(namespace):
    """Within the block, the names of BUILDING_BLOCKS in ``namespace`` (a notebook's
    globals()) are fresh copies of the reference layers, which ``grading.reference_disabled``
    does not disable; the previous bindings are restored afterwards.
    """
    from .. import grading

    modules = {name: grading.load_reference(name) for name in set(BUILDING_BLOCKS.values())}
    missing = object()
    saved = {name: namespace.get(name, missing) for name in BUILDING_BLOCKS}
    namespace.update({name: getattr(modules[module], name) for name, module in BUILDING_BLOCKS.items()})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value
