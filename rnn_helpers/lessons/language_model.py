"""The language models of notebook 07, assembled from the course's layers (reference).

embedding -> recurrent layer -> read-out, trained with the cross-entropy of the next token:

    x = E[tokens]                       (T, N, D)   embedding
    hs = LSTM(x, h0, c0) or RNN(x, h0)  (T, N, H)
    logits = hs @ V.T + c               (T, N, K)   read-out, K = vocabulary size
    loss = softmax_cross_entropy(logits, targets)   summed over time, averaged over N

Parameters live in one dict: E (K, D), U (G*H, D), W (G*H, H), b (G*H,), V (K, H), c (K,),
with G = 4 gate blocks for the LSTM and 1 for the vanilla RNN. The state is a tuple:
(h, c) for the LSTM, (h,) for the RNN, so that a caller writes ``loss_fn(..., *state)``.
Also the sampler's next-token distribution (temperature, top-k, top-p), the course's
sampler, the log-probabilities of a held-out stream, and ``reference_building_blocks``,
which the notebook's test cells use so that a student's training step is graded with the
course's layers, whatever their own layers do.
"""
import contextlib

import numpy as np

from ..embedding import embedding_backward, embedding_forward
from ..lstm import lstm_backward, lstm_forward, lstm_step_forward
from ..optim import Adam, clip_grad_norm
from ..rnn import log_softmax, rnn_backward, rnn_forward, rnn_step_forward, softmax_cross_entropy
from ..tasks.corpus import random_windows
from ..training.initialisation import scaled_normal
from ..training.progress import Progress
from ..training.sampling import sample_from_probs, temperature_softmax
from ..validation import as_float_array, as_int_array, check_positive

#: Gate blocks stacked in U, W and b for each recurrent layer.
GATE_BLOCKS = {"lstm": 4, "rnn": 1}


def init_params(vocab_size, embed_size, hidden_size, rng, cell="lstm", forget_bias=1.0, dtype=np.float64):
    """Small random parameters of embedding -> ``cell`` -> read-out, as a dict of arrays.

    cell "lstm" (forget-gate bias ``forget_bias``) or "rnn" (a tanh Elman layer).
    """
    if cell not in GATE_BLOCKS:
        raise ValueError(f"cell should be one of {sorted(GATE_BLOCKS)}, but got {cell!r}")
    K, D, H, G = vocab_size, embed_size, hidden_size, GATE_BLOCKS[cell]
    b = np.zeros(G * H)
    if cell == "lstm":
        b[H:2 * H] = forget_bias
    params = {"E": rng.normal(scale=1.0, size=(K, D)) / np.sqrt(D),
              "U": scaled_normal((G * H, D), rng), "W": scaled_normal((G * H, H), rng), "b": b,
              "V": scaled_normal((K, H), rng), "c": np.zeros(K)}
    return {name: value.astype(dtype) for name, value in params.items()}


def cell_of(params):
    """"lstm" or "rnn": read from the shape of W, (4H, H) or (H, H)."""
    rows, H = params["W"].shape
    for cell, G in GATE_BLOCKS.items():
        if rows == G * H:
            return cell
    raise ValueError(f"params['W'] should have shape (4H, H) or (H, H), but got {params['W'].shape}")


def count_parameters(params):
    """The number of scalar parameters."""
    return int(sum(value.size for value in params.values()))


def multiply_adds_per_token(params):
    """Multiply-adds of one forward step for one token: the recurrent layer and the read-out.

    The embedding is a lookup (no arithmetic); the elementwise gate work is left out.
    """
    (K, H), (rows, D) = params["V"].shape, params["U"].shape
    return int(rows * (D + H) + K * H)


def _readout_loss(params, hs, targets):
    """loss, dhs, dV, dc of the read-out and the cross-entropy at every step."""
    logits = hs @ params["V"].T + params["c"]
    loss, dlogits = softmax_cross_entropy(logits, targets)
    T, N, H = hs.shape
    flat = dlogits.reshape(T * N, -1)
    return loss, dlogits @ params["V"], flat.T @ hs.reshape(T * N, H), flat.sum(axis=0)


def loss_and_grads(params, tokens, targets, h0, c0):
    """The LSTM model: loss, gradients (a dict with the keys of params), final state (h_T, c_T)."""
    x, embed_cache = embedding_forward(tokens, params["E"])
    hs, cs, lstm_cache = lstm_forward(x, h0, c0, params["U"], params["W"], params["b"])
    loss, dhs, dV, dc = _readout_loss(params, hs, targets)
    dx, _, _, dU, dW, db = lstm_backward(dhs, lstm_cache)
    dE = embedding_backward(dx, embed_cache)
    return loss, {"E": dE, "U": dU, "W": dW, "b": db, "V": dV, "c": dc}, (hs[-1], cs[-1])


def rnn_loss_and_grads(params, tokens, targets, h0):
    """The vanilla-RNN model: loss, gradients (a dict with the keys of params), final state (h_T,)."""
    x, embed_cache = embedding_forward(tokens, params["E"])
    hs, rnn_cache = rnn_forward(x, h0, params["U"], params["W"], params["b"])
    loss, dhs, dV, dc = _readout_loss(params, hs, targets)
    dx, _, dU, dW, db = rnn_backward(dhs, rnn_cache)
    dE = embedding_backward(dx, embed_cache)
    return loss, {"E": dE, "U": dU, "W": dW, "b": db, "V": dV, "c": dc}, (hs[-1],)


def train(params, stream, steps, rng, lr, *, window=32, batch=64, max_norm=5.0, step_fn=None,
          clip=clip_grad_norm, optimiser=None, description="training", progress=True, evaluate=None):
    """Train ``params`` in place on random windows of ``stream``; the loss per token of every step.

    Each step draws ``batch`` windows of ``window`` + 1 tokens with ``rng``, computes the
    loss and the gradients from the zero state with ``step_fn`` (``loss_and_grads`` or
    ``rnn_loss_and_grads`` by default, after the shape of params), clips them with
    ``clip(grads, max_norm) -> (grads, norm)`` and updates the parameters with
    ``optimiser.step(params, grads)`` (``Adam(lr)`` by default). evaluate: None or
    (every, fn): fn(params) is called every ``every`` steps and its results are returned.
    progress: show a progress line.
    Returns (losses (steps,), [(step, fn(params)), ...]).
    """
    if step_fn is None:
        step_fn = loss_and_grads if cell_of(params) == "lstm" else rnn_loss_and_grads
    optimiser = Adam(lr) if optimiser is None else optimiser
    state = zero_state(params, batch)
    losses, evaluations = np.empty(steps), []
    with Progress(steps, description, enabled=progress) as bar:
        for step in range(steps):
            tokens, targets = random_windows(stream, window, batch, rng)
            loss, grads, _ = step_fn(params, tokens, targets, *state)
            grads, norm = clip(grads, max_norm)
            optimiser.step(params, grads)
            losses[step] = loss / window
            if evaluate is not None and (step + 1) % evaluate[0] == 0:
                evaluations.append((step + 1, evaluate[1](params)))
            bar.update(loss_per_token=losses[step], grad_norm=norm)
    return losses, evaluations


def zero_state(params, N):
    """The zero state for a batch of N: (h, c) for the LSTM, (h,) for the RNN."""
    h = np.zeros((N, params["W"].shape[1]), dtype=params["W"].dtype)
    return (h, h.copy()) if cell_of(params) == "lstm" else (h,)


def forward(params, tokens, state):
    """logits (T, N, K) and the final state, for tokens (T, N) from ``state``."""
    x, _ = embedding_forward(tokens, params["E"])
    if cell_of(params) == "lstm":
        hs, cs, _ = lstm_forward(x, *state, params["U"], params["W"], params["b"])
        state = (hs[-1], cs[-1])
    else:
        hs, _ = rnn_forward(x, *state, params["U"], params["W"], params["b"])
        state = (hs[-1],)
    return hs @ params["V"].T + params["c"], state


def step(params, tokens, state):
    """One step: logits (N, K) for tokens (N,) and the next state."""
    x, _ = embedding_forward(tokens[None], params["E"])
    if cell_of(params) == "lstm":
        h, c, _ = lstm_step_forward(x[0], *state, params["U"], params["W"], params["b"])
        state = (h, c)
    else:
        h, _ = rnn_step_forward(x[0], *state, params["U"], params["W"], params["b"])
        state = (h,)
    return h @ params["V"].T + params["c"], state


def held_out_log_probs(params, stream, streams=16, chunk=100):
    """log p(next token) under the model for the stream read as ``streams`` parallel pieces.

    The stream's first streams * L + 1 tokens (L = (len - 1) // streams) are cut into
    ``streams`` consecutive pieces, read in parallel from the zero state, ``chunk`` steps
    at a time with the state carried over. Returns (log_probs, targets), each
    (streams * L,) in the order of the stream: log_probs[i] = log p(targets[i] | before),
    targets[i] = stream[i + 1].
    """
    stream = as_int_array("stream", stream, (None,), {})
    length = (len(stream) - 1) // streams
    if length < 1:
        raise ValueError(f"stream should hold more than streams = {streams} tokens, but has {len(stream)}")
    inputs = stream[:streams * length].reshape(streams, length).T
    targets = stream[1:streams * length + 1].reshape(streams, length).T
    state, log_probs = zero_state(params, streams), np.empty((length, streams))
    for start in range(0, length, chunk):
        logits, state = forward(params, inputs[start:start + chunk], state)
        log_p = log_softmax(logits.astype(np.float64))
        log_probs[start:start + chunk] = np.take_along_axis(log_p, targets[start:start + chunk, :, None], axis=-1)[..., 0]
    return log_probs.T.reshape(-1), targets.T.reshape(-1)


def sampling_distribution(logits, temperature=1.0, top_k=None, top_p=None):
    """The distribution (N, K) the sampler draws from, for logits (N, K).

    softmax(logits / temperature); then top_k keeps the top_k largest logits of each row
    (exactly top_k tokens, ties broken towards the lower index); then top_p keeps the
    fewest most likely tokens whose probabilities (after top-k, renormalised) add up to
    at least top_p: a token is kept if the tokens ranked before it hold less than top_p
    (the same tie rule). The kept tokens are renormalised. temperature = 0 puts all the
    mass on the argmax.
    """
    logits = as_float_array("logits", logits, ("N", "K"), {})
    check_positive("temperature", temperature, allow_zero=True)
    K = logits.shape[1]
    if top_k is not None and not (isinstance(top_k, (int, np.integer)) and 1 <= top_k <= K):
        raise ValueError(f"top_k should be None or an int in [1, {K}], but got {top_k!r}")
    if top_p is not None and not (isinstance(top_p, (float, int, np.floating)) and 0 < top_p <= 1):
        raise ValueError(f"top_p should be None or a number in (0, 1], but got {top_p!r}")
    rows = np.arange(len(logits))[:, None]
    if temperature == 0:
        probs = np.zeros(logits.shape)
        probs[rows[:, 0], np.argmax(logits, axis=1)] = 1.0
        return probs
    order = np.argsort(-logits, axis=1, kind="stable")
    if top_k is not None:
        keep = np.zeros(logits.shape, dtype=bool)
        keep[rows, order[:, :top_k]] = True
        logits = np.where(keep, logits, -np.inf)
    probs = temperature_softmax(logits, temperature)
    if top_p is not None:
        ranked = np.take_along_axis(probs, order, axis=1)
        before = np.cumsum(ranked, axis=1) - ranked
        keep = np.zeros(logits.shape, dtype=bool)
        np.put_along_axis(keep, order, before < top_p, axis=1)
        probs = np.where(keep, probs, 0.0)
        probs /= probs.sum(axis=1, keepdims=True)
    return probs


def sample_tokens(probs, rng):
    """One token id per row of probs (N, K), drawn with the numpy Generator rng: int array (N,)."""
    probs = as_float_array("probs", probs, ("N", "K"), {})
    return sample_from_probs(probs, rng)


def generate(params, prompt, length, rng, temperature=1.0, top_k=None, top_p=None):
    """Feed prompt (P, M) through the model, then sample ``length`` tokens for each of the M rows.

    Returns the sampled ids (length, M) and the log-probabilities they had under the
    model's own distribution (temperature 1, no truncation), (length, M).
    """
    prompt = as_int_array("prompt", prompt, ("P", "M"), {})
    state = zero_state(params, prompt.shape[1])
    for tokens in prompt[:-1]:
        _, state = step(params, tokens, state)
    current, written, log_probs = prompt[-1], [], []
    rows = np.arange(prompt.shape[1])
    for _ in range(length):
        logits, state = step(params, current, state)
        current = sample_tokens(sampling_distribution(logits, temperature, top_k, top_p), rng)
        log_probs.append(np.log(sampling_distribution(logits)[rows, current]))
        written.append(current)
    return np.array(written), np.array(log_probs)


#: Notebook 07's learning-rate sweep, a precomputed result: the held-out perplexity of the
#: LSTM (embedding 32, H = 128) and of the vanilla RNN (embedding 32, H = 250) after ``steps``
#: steps of ``train`` at each of the model's ``rates``, one tuple per seed: seed s is the
#: notebook's own run under RNN_COURSE_SEED = s - 7 (``benchmarks/lm_learning_rates.py``
#: measures it; rerun it after changing the models or their training).
LEARNING_RATE_SWEEP = {"steps": 420, "seeds": (7, 8, 9),
                       "rates": {"LSTM": (0.003, 0.005, 0.01, 0.02, 0.03), "RNN": (0.003, 0.005, 0.007, 0.01)},
                       "perplexity": {"LSTM": {7: (7.543, 6.475, 5.820, 5.407, 5.817),
                                               8: (7.592, 6.660, 5.890, 5.873, 5.800),
                                               9: (7.216, 6.533, 5.857, 5.774, 5.822)},
                                      "RNN": {7: (6.644, 6.269, 6.244, 6.754),
                                              8: (6.711, 6.306, 6.334, 7.127),
                                              9: (6.636, 6.399, 6.346, 6.697)}}}


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
    blocks = {name: getattr(modules[module], name) for name, module in BUILDING_BLOCKS.items()}
    with grading.functions_replaced(namespace, **blocks):
        yield
