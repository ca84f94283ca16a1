"""Name the likely mistake behind a wrong answer to notebook 02's exercises.

When a student's loss or gradient differs from the reference, a test cell asks these
functions which typical wrong computation it matches (a loss or a gradient not averaged over
the batch, averaged over time too or over the counted positions only, masked positions that
still count, an overflow; the tanh derivative missing or taken at h_prev, W the wrong way
round, dW transposed, a batch average instead of a sum, the gradient not carried back
through time, the previous state off by one step) and shows the message they return, or
what was tested when none matches; ``layout_hint`` names the property of the
truncated-BPTT layout that a wrong ``split_for_tbptt`` breaks. They live here rather than in
the test cells so that the student version of the notebook shows no answer code.
"""
import numpy as np

from ..rnn import RNNStepCache, log_softmax, rnn_forward, rnn_step_backward, softmax

GRADIENTS = ("dx", "dh0", "dU", "dW", "db")
STEP_GRADIENTS = ("dx_t", "dh_prev", "dU", "dW", "db")


def _same(got, value):
    got = np.asarray(got, dtype=float)
    return got.shape == value.shape and bool(np.allclose(got, value, rtol=1e-6, atol=1e-9))


def _first_match(got, candidates, otherwise, right=None):
    """The message of the first wrong value that ``got`` equals (none that equals ``right``), else ``otherwise``."""
    for message, value in candidates:
        if _same(got, value) and not (right is not None and _same(value, right)):
            return message
    return otherwise


def _cross_entropy_terms(logits, y, mask):
    """(-log p of the correct class (T, N), softmax minus onehot (T, N, K), weights (T, N))."""
    logits = np.asarray(logits, dtype=float)
    weight = np.ones(y.shape) if mask is None else np.asarray(mask, dtype=float)
    picked = -np.take_along_axis(log_softmax(logits), y[..., None], axis=-1)[..., 0]
    return picked, softmax(logits) - np.eye(logits.shape[-1])[y], weight


def loss_hint(loss, logits, y, mask=None):
    """Message for a wrong ``softmax_cross_entropy`` loss of logits (T, N, K), labels y (T, N)."""
    try:
        loss = np.asarray(float(loss))
    except (TypeError, ValueError):
        return "the loss should be one number"
    if not np.isfinite(loss):
        return "the loss is not finite: an exponential overflowed, or a probability underflowed to 0 before its log"
    picked, _, weight = _cross_entropy_terms(logits, y, mask)
    T, N = y.shape
    total = (picked * weight).sum()
    return _first_match(loss, [
        ("the loss is the sum over the batch: the contract averages it over the batch (N sequences)", total),
        ("the loss is averaged over time as well: the contract sums the steps' losses", total / (T * N)),
        ("the loss is divided by the number of counted positions: the contract divides by N whatever the mask",
         total / max(weight.sum(), 1.0)),
        ("masked-out positions add to the loss: they should add nothing", picked.sum() / N),
        ("the loss has the wrong sign: a cross-entropy is never negative", -total / N),
    ], f"tested: the loss of logits of shape {tuple(np.shape(logits))} (sum over time of -log p(correct class), "
       "averaged over the batch)", right=np.asarray(total / N))


def dlogits_hint(dlogits, logits, y, mask=None):
    """Message for a wrong ``softmax_cross_entropy`` gradient dlogits (T, N, K)."""
    try:
        dlogits = np.asarray(dlogits, dtype=float)
    except (TypeError, ValueError):
        return "dlogits should be an array of real numbers, shaped like logits"
    if not np.all(np.isfinite(dlogits)):
        return "dlogits is not finite: an exponential overflowed"
    _, grad, weight = _cross_entropy_terms(logits, y, mask)
    T, N = y.shape
    right = grad * weight[..., None] / N
    return _first_match(dlogits, [
        ("dlogits is N times too large: the loss is averaged over the batch, and so is its gradient", N * right),
        ("dlogits is T times too small: the loss sums the steps' losses, it does not average them", right / T),
        ("dlogits has the wrong sign: raising the logit of a wrong class raises the loss", -right),
        ("dlogits is not 0 at the masked-out positions, which add nothing to the loss", grad / N),
        ("dlogits does not depend on the labels y, but the loss does",
         (grad + np.eye(grad.shape[-1])[y]) * weight[..., None] / N),
    ], "tested: dlogits against the gradient of the loss (centred differences of the loss agree with it)", right)


def _step_gradients(da, x_t, h_prev, U, W):
    """The five gradients of one step from the gradient da on its pre-activation."""
    return dict(zip(STEP_GRADIENTS, (da @ U, da @ W, da.T @ x_t, da.T @ h_prev, da.sum(axis=0))))


def step_backward_hint(name, got, dh_t, cache, tested=None):
    """Message for a wrong one-step gradient ``name`` (one of STEP_GRADIENTS).

    dh_t (N, H) is the upstream gradient and ``cache`` the reference's
    ``rnn_step_forward`` cache (x_t, h_prev, U, W, h_t).
    """
    if name not in STEP_GRADIENTS:
        raise ValueError(f"step_backward_hint: name should be one of {STEP_GRADIENTS}, got {name!r}")
    x_t, h_prev, U, W, h_t = cache
    right = dh_t * (1 - h_t ** 2)
    wrong_deltas = [
        ("the tanh derivative is missing (the gradient on a_t is not the gradient on h_t)", dh_t),
        ("the tanh derivative is taken at h_prev: it belongs to this step's output h_t", dh_t * (1 - h_prev ** 2)),
        ("the tanh derivative is 1 - h_t**2, not 1 - h_t", dh_t * (1 - h_t)),
    ]
    candidates = [(message, _step_gradients(da, x_t, h_prev, U, W)[name]) for message, da in wrong_deltas]
    candidates += {
        "dh_prev": [("W is used the wrong way round: in the maths the gradient on h_{t-1} is W^T delta_t "
                     "(column vectors); transpose both sides for rows", right @ W.T)],
        "dW": [("dW is transposed: entry (i, j) pairs delta_i with h_prev_j", h_prev.T @ right)],
        "db": [("db is an average over the batch: the batch's gradients add up (shared weights)",
                right.mean(axis=0))],
        "dU": [("dU is an average over the batch: the batch's gradients add up (shared weights)",
                right.T @ x_t / len(x_t))],
    }.get(name, [])
    return _first_match(got, candidates, tested or (f"tested: {name} against the chain rule on random inputs "
                                                    f"(N = {len(x_t)}); check it with your derivation"))


def _wrong_bptt(dhs, x, h0, U, W, b, carry, off_by_one):
    """Gradients of a BPTT loop that forgets to carry the gradient or takes h_prev = h_t."""
    hs, _ = rnn_forward(x, h0, U, W, b)
    sums = {name: np.zeros(shape) for name, shape in (("dU", U.shape), ("dW", W.shape), ("db", b.shape))}
    dx, dh_next = np.zeros(x.shape), np.zeros(h0.shape)
    for t in reversed(range(len(x))):
        h_prev = hs[t] if off_by_one else (hs[t - 1] if t > 0 else h0)
        upstream = dhs[t] + dh_next if carry else dhs[t]
        dx[t], dh_next, *grads = rnn_step_backward(upstream, RNNStepCache(x[t], h_prev, U, W, hs[t]))
        for name, grad in zip(("dU", "dW", "db"), grads):
            sums[name] += grad
    return dict(dx=dx, dh0=dh_next, **sums)


def bptt_hint(name, got, dhs, x, h0, U, W, b, tested=None):
    """Message for a wrong sequence gradient ``name`` (one of GRADIENTS) of ``rnn_backward``."""
    if name not in GRADIENTS:
        raise ValueError(f"bptt_hint: name should be one of {GRADIENTS}, got {name!r}")
    mistakes = [
        ("the gradient from step t+1 is not carried back: at step t the gradient on h_t is "
         "dhs[t] plus what step t+1 sent to its h_prev", dict(carry=False, off_by_one=False)),
        ("the state before step t is hs[t-1] (h0 at t = 0), not hs[t]", dict(carry=True, off_by_one=True)),
    ]
    for message, kind in mistakes:
        if _same(got, _wrong_bptt(dhs, x, h0, U, W, b, **kind)[name]):
            return message
    return tested or (f"tested: {name} on a sequence of {len(x)} steps, every step with an upstream "
                      f"gradient; compare with the sums over time of your derivation")


def layout_hint(length, batch_size, chunk_len, chunks):
    """Message naming the first property of the truncated-BPTT layout that ``chunks`` break.

    ``chunks`` is what the student's split_for_tbptt returned for the stream
    ``np.arange(length)``, so that every value is its own position in the stream.
    """
    L = length // batch_size
    if not isinstance(chunks, list) or not chunks or not all(isinstance(c, tuple) and len(c) == 2 for c in chunks):
        return "split_for_tbptt should return a non-empty list of (inputs, targets) pairs"
    arrays = [np.asarray(a) for chunk in chunks for a in chunk]
    if not all(a.ndim == 2 and a.shape[1:] == (batch_size,) for a in arrays):
        shapes = sorted({a.shape for a in arrays})
        return (f"every inputs and targets array has one column per sequence of the batch, shape (steps, "
                f"{batch_size}) with time first; yours have shapes {shapes}")
    inputs = np.concatenate([np.asarray(i) for i, _ in chunks])
    targets = np.concatenate([np.asarray(t) for _, t in chunks])
    steps = np.diff(inputs, axis=0)
    if steps.size and not np.all(steps == 1):
        t, n = np.argwhere(steps != 1)[0]
        where = np.cumsum([len(i) for i, _ in chunks])
        if t + 1 in where:
            return (f"column {n} of a chunk does not continue column {n} of the chunk before it: the state "
                    f"carried from one chunk to the next would belong to another part of the stream")
        return f"column {n} of a chunk does not read consecutive elements of the stream"
    if inputs.shape != targets.shape or not np.array_equal(targets, inputs + 1):
        return "a target is not the element of the stream that follows its input"
    starts = inputs[0] if len(inputs) else np.array([])
    if not np.array_equal(starts, np.arange(batch_size) * L):
        return (f"the columns start at the elements {starts.tolist()} of the stream: they should be "
                f"{batch_size} pieces of equal length, one after the other, as long as the stream allows")
    if len(inputs) != L - 1:
        return (f"each column holds {len(inputs)} inputs; its piece of {L} elements gives {L - 1} "
                f"(the last element of a piece is only a target)")
    lengths = [len(i) for i, _ in chunks]
    if any(k != chunk_len for k in lengths[:-1]) or not 0 < lengths[-1] <= chunk_len:
        return (f"the chunks have {lengths} steps: every chunk has chunk_len = {chunk_len} steps, "
                f"except the last, which holds the rest")
    return f"tested: the layout of a stream of {length} elements in {batch_size} columns and chunks of {chunk_len}"
