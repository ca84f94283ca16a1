"""Name the likely mistake behind a wrong answer to notebook 01's forward exercises.

When a student's result differs from the reference, a test cell asks these functions which
typical wrong computation it matches (one step with W the wrong way round or a term
missing, a parameter count without the biases or with a layer per step, teacher forcing
fed the target it must predict or a target from the wrong step) and shows the message they
return, or what was tested when none matches. The messages say what is wrong with the
result, not how to compute it; they live here rather than in the test cells so that the
student version of the notebook shows no answer, right or wrong.
"""
import numpy as np


def _same(got, value):
    got = np.asarray(got, dtype=float)
    return got.shape == value.shape and bool(np.allclose(got, value, rtol=1e-6, atol=1e-8))


def _first_match(got, candidates, otherwise):
    for message, value in candidates:
        if value is not None and _same(got, value):
            return message
    return otherwise


def step_forward_hint(h_t, x_t, h_prev, U, W, b):
    """Message for a wrong one-step state h_t (N, H) of the Elman RNN (rows = sequences)."""
    h_t = np.asarray(h_t, dtype=float)
    if not np.all(np.isfinite(h_t)):
        return "h_t is not finite: for large arguments your tanh overflowed, where tanh of any number lies in (-1, 1)"
    square_input = U.shape[0] == U.shape[1]
    candidates = [
        ("the recurrent term applies W the wrong way round: row n holds (W^T h_{t-1})^T for its "
         "sequence instead of (W h_{t-1})^T", np.tanh(x_t @ U.T + h_prev @ W + b)),
        ("the input term applies U the wrong way round: row n holds (U^T x_t)^T for its sequence "
         "instead of (U x_t)^T", np.tanh(x_t @ U + h_prev @ W.T + b) if square_input else None),
        ("the bias b is missing: it is added to every row of a_t", np.tanh(x_t @ U.T + h_prev @ W.T)),
        ("h_t equals a_t: the tanh is missing", x_t @ U.T + h_prev @ W.T + b),
        ("h_t does not depend on h_prev: the recurrent term W h_{t-1} is missing", np.tanh(x_t @ U.T + b)),
    ]
    return _first_match(h_t, candidates, "tested: row n of h_t equals tanh(b + W h_{t-1} + U x_t) for "
                                         "sequence n (column vectors); compare one row of yours with it")


def count_hint(kind, got, D, H, K, T):
    """Message for a wrong parameter count ``got`` of ``kind`` ("rnn" or "window")."""
    if kind == "rnn":
        wrong = [(H * D + H * H + K * H, "the biases are missing"),
                 (H * D + H * H + H + K * H, "the read-out's bias is missing"),
                 (H * D + H * H + K * H + K, "the bias of the recurrence is missing"),
                 (H * D + H * H + H, "the read-out (its matrix and its bias) is missing"),
                 (T * (H * D + H * H + H + K * H + K), "your RNN count grows with T: the same arrays "
                                                       "serve every step")]
    else:
        wrong = [(T * D * H + H * T * K, "the biases are missing"),
                 (D * H + H + H * K + K, "your window count does not grow with T: the window network "
                                         "reads all T input vectors at once and writes K logits per step"),
                 (T * (D * H + H + H * K + K), "your window network has a hidden layer per step: it has "
                                               "one hidden layer of H units for the whole window")]
    for count, message in wrong:
        if got == count:
            return message
    return "tested: every entry of every weight matrix and bias vector, for the sizes shown"


def teacher_forcing_hint(o, x, y, U, W, b, V, c):
    """Message for wrong teacher-forced logits o (T, N, K) of the output-to-hidden network."""
    onehot = np.eye(V.shape[0])[y]                        # (T, N, K): onehot(y_t) at step t
    previous = np.zeros_like(onehot)                      # what step t receives: onehot(y_{t-1})
    previous[1:] = onehot[:-1]
    target_first = previous.copy()
    target_first[0] = onehot[0]
    two_back = np.zeros_like(onehot)
    two_back[2:] = onehot[:-2]

    def logits(fed, squash=np.tanh, c=c):
        return squash(x @ U.T + fed @ W.T + b) @ V.T + c

    candidates = [
        ("step t was fed the target y_t it has to predict: the network could simply copy it", logits(onehot)),
        ("the first step was fed the last target of the sequence: nothing comes before the first step",
         logits(np.roll(onehot, 1, axis=0))),
        ("the first step was fed a target: at the first step nothing has been produced yet",
         logits(target_first)),
        ("step t was fed the target of step t - 2: it receives what step t - 1 should have produced",
         logits(two_back)),
        ("the hidden state has no tanh", logits(previous, squash=lambda a: a)),
        ("the read-out bias c is missing", logits(previous, c=0.0)),
    ]
    return _first_match(o, candidates, "tested: o[t] = c + V h_t with h_t = tanh(U x_t + W s + b), where s "
                                        "is what step t receives under teacher forcing")
