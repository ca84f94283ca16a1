"""Truncated backpropagation through time on one long stream of symbols.

A language model reads a stream far too long to backpropagate through at once. The
stream is cut into ``batch_size`` rows read in parallel, and each row into chunks of
``chunk_len`` steps::

    stream  0 1 2 3 4 5 6 7 8 9 10 11 12 13      (batch_size=2, chunk_len=3)
    rows    0 1 2 3 4 5 6        inputs  [0 1 2] [3 4 5]   targets [1 2 3] [4 5 6]
            7 8 9 10 11 12 13            [7 8 9] [10 11 12]        [8 9 10] [11 12 13]

Training runs the chunks in order and carries the hidden state from one chunk to the
next (row i of a chunk continues row i of the previous chunk), so the forward pass sees
the whole past; the backward pass stops at the chunk boundary. ``draw_layout`` pictures
the layout of a short text.
"""
import numpy as np

from ..rnn import softmax_cross_entropy
from ..tasks.text import one_hot
from ..training.loop import train
from ..validation import as_int_array


def _positive_int(name, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} should be a positive integer, but got {value!r}")


def split_for_tbptt(stream, batch_size, chunk_len):
    """Cut a 1-D stream of indices into (inputs, targets) chunks for truncated BPTT.

    1. Trim the stream to L * batch_size elements, L = len(stream) // batch_size (the
       tail that does not fill a row is dropped).
    2. Reshape it into batch_size rows of length L: row i is stream[i*L:(i+1)*L].
    3. The inputs are the first L - 1 columns, the targets the last L - 1 (the next
       index of each input).
    4. Cut inputs and targets along time into chunks of chunk_len columns, transposed to
       time-major: each chunk is (inputs, targets), two int arrays of shape
       (chunk_len, batch_size); the last chunk is shorter when chunk_len does not
       divide L - 1.

    Returns the list of chunks, in order. Raises ValueError if a row has fewer than
    two elements (no input-target pair).
    """
    stream = as_int_array("stream", stream, (None,), {})
    _positive_int("batch_size", batch_size)
    _positive_int("chunk_len", chunk_len)
    L = len(stream) // batch_size
    if L < 2:
        raise ValueError(
            f"stream should hold at least 2 * batch_size = {2 * batch_size} elements, "
            f"but has {len(stream)}"
        )
    rows = stream[:L * batch_size].reshape(batch_size, L)
    inputs, targets = rows[:, :-1], rows[:, 1:]
    return [(inputs[:, t:t + chunk_len].T.copy(), targets[:, t:t + chunk_len].T.copy())
            for t in range(0, L - 1, chunk_len)]


def draw_layout(text, chunks, ax=None):
    """Draw how ``chunks`` (what split_for_tbptt makes of the positions 0 .. len(text) - 1) lay
    out the characters of ``text``: one row per sequence of the batch, one colour per chunk; a
    white cell is only a target. Returns the Axes."""
    import matplotlib.pyplot as plt

    if not chunks:
        raise ValueError(f"draw_layout: chunks should be the non-empty list of (inputs, targets) that "
                         f"split_for_tbptt returns, but got {chunks!r}")
    chunk_len, batch_size = np.shape(chunks[0][0])
    steps = sum(len(inputs) for inputs, _ in chunks)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.5 * (steps + 1) + 1, 0.6 * batch_size + 0.4))
    colours = plt.cm.Pastel1(np.arange(9))
    column = 0
    for j, (inputs, targets) in enumerate(chunks):
        for s, positions in enumerate(inputs):
            for row, position in enumerate(positions):
                is_last_input = j == len(chunks) - 1 and s == len(inputs) - 1
                cells = [(column, position, colours[j % 9])]
                if is_last_input:
                    cells.append((column + 1, targets[s, row], "white"))
                for x, at, fill in cells:
                    ax.add_patch(plt.Rectangle((x, batch_size - 1 - row), 1, 1, ec="gray", fc=fill))
                    ax.text(x + 0.5, batch_size - 0.5 - row, repr(text[at])[1:-1], ha="center",
                            va="center", family="monospace")
            column += 1
    ax.set_xlim(0, steps + 1)
    ax.set_ylim(0, batch_size)
    ax.set_yticks(np.arange(batch_size) + 0.5, [f"row {i}" for i in reversed(range(batch_size))])
    ax.set_xticks([])
    ax.set_title(f"a stream of {len(text)} characters in {batch_size} rows; colours = chunks of "
                 f"{chunk_len} input steps")
    return ax


def cross_entropy_per_step(logits, y):
    """softmax_cross_entropy divided by the number of steps T: the mean loss per position
    (nats per character for a language model). Returns (loss, dlogits)."""
    loss, dlogits = softmax_cross_entropy(logits, y)
    T = logits.shape[0]
    return loss / T, dlogits / T


def _check_chunks(chunks):
    if not isinstance(chunks, (list, tuple)) or not chunks:
        raise ValueError("chunks should be a non-empty list of (inputs, targets), as split_for_tbptt returns")
    N = None
    for i, chunk in enumerate(chunks):
        if not isinstance(chunk, tuple) or len(chunk) != 2:
            raise ValueError(f"chunks[{i}] should be a pair (inputs, targets)")
        dims = {} if N is None else {"N": N}
        as_int_array(f"chunks[{i}] inputs", chunk[0], ("T", "N"), dims)
        as_int_array(f"chunks[{i}] targets", chunk[1], ("T", "N"), dims)
        N = dims["N"]


def _one_hot_encoder(model):
    return lambda inputs: one_hot(inputs, model.input_size, dtype=model.dtype)


def stream_loss(model, chunks, encode=None):
    """Mean cross-entropy per position (nats) of ``model`` over ``chunks`` read in order,
    with the hidden state carried across chunks. encode(inputs) -> x (T, N, D); default:
    one-hot vectors of the model's input size."""
    _check_chunks(chunks)
    encode = _one_hot_encoder(model) if encode is None else encode
    state, total, count = None, 0.0, 0
    for inputs, targets in chunks:
        logits, _, state = model.forward(encode(inputs), state)
        loss, _ = softmax_cross_entropy(logits, targets)
        total += loss * targets.shape[1]
        count += targets.size
    return total / count


class _StateCarrier:
    """Wraps a model so that each forward starts from the final state of the previous one.

    The state is a plain array: no gradient flows back through it, which is the
    truncation. ``reset()`` starts again from the zero state (a new pass over the stream).
    """

    def __init__(self, model):
        self.model, self.params, self.state = model, model.params, None

    def reset(self):
        self.state = None

    def forward(self, x):
        outputs, cache, self.state = self.model.forward(x, self.state)
        return outputs, cache, self.state

    def backward(self, doutputs, cache):
        return self.model.backward(doutputs, cache)


def train_truncated_bptt(model, chunks, optimizer, epochs, *, encode=None,
                         loss_fn=cross_entropy_per_step, clip_norm=None, eval_fn=None,
                         eval_every=None, description="truncated BPTT", progress=True):
    """Train ``model`` on ``chunks`` (from split_for_tbptt) for ``epochs`` passes.

    One update per chunk, chunks in order; the hidden state is carried from chunk to
    chunk and reset to zeros at the start of every epoch. encode(inputs) -> x (T, N, D)
    turns a chunk's indices into the model's input (default: one-hot vectors);
    loss_fn(outputs, targets) -> (loss, doutputs) defaults to the mean cross-entropy per
    position. The loop is ``training.train``; the history is its history (one entry
    per chunk; with eval_fn, eval_fn(model) every eval_every chunks).
    """
    _check_chunks(chunks)
    _positive_int("epochs", epochs)
    encode = _one_hot_encoder(model) if encode is None else encode
    carrier = _StateCarrier(model)

    def batch_fn(step):
        if step % len(chunks) == 0:
            carrier.reset()
        inputs, targets = chunks[step % len(chunks)]
        return encode(inputs), targets

    return train(carrier, batch_fn, loss_fn, optimizer, epochs * len(chunks),
                 clip_norm=clip_norm, eval_fn=None if eval_fn is None else (lambda _: eval_fn(model)),
                 eval_every=eval_every, description=description, progress=progress)
