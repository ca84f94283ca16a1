"""rnn_helpers.lessons.forward_feedback: each typical wrong answer of notebook 01 gets its own message."""
import numpy as np

from rnn_helpers.lessons import forward_feedback, teacher_forcing


def test_step_mistakes_are_named():
    rng = np.random.default_rng(0)
    x_t, h_prev = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    U, W, b = rng.normal(size=(4, 4)), rng.normal(size=(4, 4)), rng.normal(size=4)
    cases = [(np.tanh(x_t @ U.T + h_prev @ W + b), "applies W the wrong way round"),
             (np.tanh(x_t @ U + h_prev @ W.T + b), "applies U the wrong way round"),
             (np.tanh(x_t @ U.T + h_prev @ W.T), "bias b is missing"),
             (x_t @ U.T + h_prev @ W.T + b, "tanh is missing"),
             (np.tanh(x_t @ U.T + b), "does not depend on h_prev"),
             (np.full((3, 4), np.inf), "not finite"),
             (np.zeros((3, 4)), "tested:")]
    for got, words in cases:
        assert words in forward_feedback.step_forward_hint(got, x_t, h_prev, U, W, b), words


def test_count_mistakes_are_named():
    D, H, K, T = 3, 5, 2, 4
    assert "biases are missing" in forward_feedback.count_hint("rnn", H * D + H * H + K * H, D, H, K, T)
    assert "grows with T" in forward_feedback.count_hint("rnn", T * (H * D + H * H + H + K * H + K), D, H, K, T)
    assert "hidden layer per step" in forward_feedback.count_hint("window", T * (D * H + H + H * K + K), D, H, K, T)
    assert "tested:" in forward_feedback.count_hint("window", 1, D, H, K, T)


def test_teacher_forcing_mistakes_are_named():
    rng = np.random.default_rng(1)
    T, N, D, H, K = 5, 2, 3, 4, 3
    x, y = rng.normal(size=(T, N, D)), rng.integers(0, K, size=(T, N))
    U, W, b, V, c = (rng.normal(size=(H, D)), rng.normal(size=(H, K)), rng.normal(size=H),
                     rng.normal(size=(K, H)), rng.normal(size=K))
    onehot = np.eye(K)[y]
    previous = teacher_forcing.previous_targets_onehot(y, K)
    first_fed = previous.copy()
    first_fed[0] = onehot[0]
    logits = lambda fed, squash=np.tanh, c=c: squash(x @ U.T + fed @ W.T + b) @ V.T + c
    cases = [(logits(onehot), "has to predict"), (logits(np.roll(onehot, 1, axis=0)), "last target"),
             (logits(first_fed), "first step was fed a target"), (logits(previous, c=0.0), "bias c"),
             (logits(previous, squash=lambda a: a), "no tanh"), (np.zeros((T, N, K)), "tested:")]
    for got, words in cases:
        assert words in forward_feedback.teacher_forcing_hint(got, x, y, U, W, b, V, c), words
