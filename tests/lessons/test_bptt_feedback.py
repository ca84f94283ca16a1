"""rnn_helpers.lessons.bptt_feedback: each typical wrong gradient gets its own message."""
import numpy as np
import pytest

from rnn_helpers import rnn
from rnn_helpers.lessons.bptt_feedback import bptt_hint, step_backward_hint


@pytest.fixture
def step():
    rng = np.random.default_rng(0)
    x_t, h_prev = rng.normal(size=(3, 4)), rng.normal(size=(3, 5))
    U, W, b = rng.normal(size=(5, 4)), rng.normal(size=(5, 5)), rng.normal(size=5)
    _, cache = rnn.rnn_step_forward(x_t, h_prev, U, W, b)
    return rng.normal(size=(3, 5)), cache


def test_step_mistakes_are_named(step):
    dh_t, (x_t, h_prev, U, W, h_t) = step
    da = dh_t * (1 - h_t ** 2)
    cases = [("dx_t", dh_t @ U, "derivative is missing"),
             ("dU", (dh_t * (1 - h_prev ** 2)).T @ x_t, "taken at h_prev"),
             ("dh_prev", (dh_t * (1 - h_t)) @ W, "not 1 - h_t"),
             ("dh_prev", da @ W.T, "wrong way round"),
             ("dW", h_prev.T @ da, "transposed"),
             ("db", da.mean(axis=0), "average"),
             ("dU", da.T @ x_t / 3, "average")]
    for name, got, words in cases:
        assert words in step_backward_hint(name, got, *step), (name, words)


def test_step_unknown_mistake_says_what_was_tested(step):
    dh_t, cache = step
    right = rnn.rnn_step_backward(dh_t, cache)
    assert step_backward_hint("dW", right[3] + 1.0, *step).startswith("tested:")
    assert step_backward_hint("dW", right[3] + 1.0, *step, tested="custom") == "custom"
    with pytest.raises(ValueError, match="name"):
        step_backward_hint("dV", right[3], *step)


def _sequence():
    rng = np.random.default_rng(1)
    x, h0 = rng.normal(size=(4, 3, 2)), rng.normal(size=(3, 5))
    U, W, b = rng.normal(size=(5, 2)), 0.5 * rng.normal(size=(5, 5)), rng.normal(size=5)
    return rng.normal(size=(4, 3, 5)), x, h0, U, W, b


def _loop(dhs, x, h0, U, W, b, carry, off_by_one):
    """An independent wrong BPTT loop written out in full."""
    hs, _ = rnn.rnn_forward(x, h0, U, W, b)
    dx, dU, dW, db, dh_next = np.zeros(x.shape), np.zeros(U.shape), np.zeros(W.shape), np.zeros(5), np.zeros(h0.shape)
    for t in reversed(range(len(x))):
        h_prev = hs[t] if off_by_one else (hs[t - 1] if t else h0)
        da = (dhs[t] + (dh_next if carry else 0)) * (1 - hs[t] ** 2)
        dx[t], dh_next = da @ U, da @ W
        dU, dW, db = dU + da.T @ x[t], dW + da.T @ h_prev, db + da.sum(axis=0)
    return dx, dh_next, dU, dW, db


def test_bptt_mistakes_are_named():
    args = _sequence()
    not_carried = _loop(*args, carry=False, off_by_one=False)
    off_by_one = _loop(*args, carry=True, off_by_one=True)
    assert "not carried back" in bptt_hint("dx", not_carried[0], *args)
    assert "not carried back" in bptt_hint("dh0", not_carried[1], *args)
    assert "hs[t-1]" in bptt_hint("dW", off_by_one[3], *args)


def test_bptt_right_structure_wrong_values_says_what_was_tested():
    args = _sequence()
    _, cache = rnn.rnn_forward(*args[1:])
    right = rnn.rnn_backward(args[0], cache)
    assert bptt_hint("dU", 2 * right[2], *args).startswith("tested:")
    with pytest.raises(ValueError, match="name"):
        bptt_hint("dx_t", right[0], *args)


def test_layout_mistakes_are_named():
    from rnn_helpers.lessons.bptt_feedback import layout_hint
    from rnn_helpers.lessons.truncated_bptt import split_for_tbptt

    length, N, k = 15, 2, 3
    stream = np.arange(length)
    right = split_for_tbptt(stream, N, k)
    interleaved = stream[:14].reshape(7, 2)
    cases = [
        ([(i.T, t.T) for i, t in right], "shape (steps, 2)"),
        ([(i, i) for i, _ in right], "follows its input"),
        ([(interleaved[:-1][s:s + k], interleaved[1:][s:s + k]) for s in range(0, 6, k)], "consecutive"),
        ([right[1], right[0]], "does not continue"),
        ([(i + 1, t + 1) for i, t in right], "columns start at"),
        ([right[0]], "holds 3 inputs"),
        ([(right[0][0][:2], right[0][1][:2]), (np.concatenate([right[0][0][2:], right[1][0]]),
                                               np.concatenate([right[0][1][2:], right[1][1]]))], "chunks have"),
        (right, "tested:"),
    ]
    for chunks, words in cases:
        assert words in layout_hint(length, N, k, chunks), words


def _cross_entropy_case():
    rng = np.random.default_rng(2)
    logits, y = rng.normal(size=(4, 3, 5)), rng.integers(0, 5, size=(4, 3))
    mask = np.array([[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=bool)
    return logits, y, mask


def test_loss_mistakes_are_named():
    from rnn_helpers.lessons.bptt_feedback import loss_hint
    logits, y, mask = _cross_entropy_case()
    picked = -np.take_along_axis(rnn.log_softmax(logits), y[..., None], axis=-1)[..., 0]
    total = (picked * mask).sum()
    cases = [(total, mask, "sum over the batch"), (picked.sum() / 12, None, "averaged over time"),
             (total / mask.sum(), mask, "number of counted positions"), (picked.sum() / 3, mask, "masked-out"),
             (-total / 3, mask, "wrong sign"), (np.nan, mask, "not finite"), ("1.0x", mask, "one number")]
    for got, m, words in cases:
        assert words in loss_hint(got, logits, y, m), words
    right, _ = rnn.softmax_cross_entropy(logits, y, mask)
    assert loss_hint(right + 1.0, logits, y, mask).startswith("tested:")


def test_dlogits_mistakes_are_named():
    from rnn_helpers.lessons.bptt_feedback import dlogits_hint
    logits, y, mask = _cross_entropy_case()
    _, right = rnn.softmax_cross_entropy(logits, y, mask)
    grad = rnn.softmax(logits) - np.eye(5)[y]
    cases = [(3 * right, "N times too large"), (right / 4, "T times too small"), (-right, "wrong sign"),
             (grad / 3, "masked-out"), (rnn.softmax(logits) * mask[..., None] / 3, "labels"),
             (np.full(right.shape, np.inf), "not finite")]
    for got, words in cases:
        assert words in dlogits_hint(got, logits, y, mask), words
    assert dlogits_hint(right + 1.0, logits, y, mask).startswith("tested:")
    assert dlogits_hint(right + 1.0, logits, y).startswith("tested:")      # no mask: "masked-out" never named
