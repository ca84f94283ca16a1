"""rnn_helpers.lessons.remedies_feedback: each typical wrong answer of notebook 04 gets its own message."""
import numpy as np

from rnn_helpers.lessons import remedies_feedback
from rnn_helpers.lessons.skip_connections import skip_rnn_forward


def test_longest_step_mistakes_are_named():
    shapes, lr, v = {"W": (4, 3), "b": (3,)}, 0.1, 2.0            # 15 entries
    right = {"norm": lr * v, "value": lr * v * np.sqrt(15)}
    assert remedies_feedback.longest_step_problem(right, shapes, lr, v) is None
    cases = [({"norm": v, "value": right["value"]}, "norm-clipped step"),
             ({"norm": lr * v, "value": lr * v}, "norm-clipped bound"),
             ({"norm": lr * v, "value": lr * v * 15}, "sum of its components"),
             ({"norm": lr * v, "value": v * np.sqrt(15)}, "not of the step"),
             ({"norm": lr * v, "value": lr * v * np.sqrt(2)}, "counts the arrays"),
             ({"norm": lr * v, "value": lr * v * np.sqrt(12)}, "every array"),
             ({"norm": lr * v, "value": 1.0}, "value-clipped step"),
             ({"norm": lr * v, "value": "x"}, "numbers"),
             ((lr * v, 1.0), "keys")]
    for result, words in cases:
        assert words in remedies_feedback.longest_step_problem(result, shapes, lr, v), words


def test_skip_states_reading_zeros_before_the_start_is_named():
    rng = np.random.default_rng(0)
    T, N, D, H, d = 5, 2, 3, 4, 2
    x, h0 = rng.normal(size=(T, N, D)), rng.normal(size=(N, H))
    U, W, W_skip, b = rng.normal(size=(H, D)), rng.normal(size=(H, H)), rng.normal(size=(H, H)), rng.normal(size=H)
    right = skip_rnn_forward(x, h0, U, W, W_skip, b, d)[0]
    assert remedies_feedback.skip_states_mistake(right, x, h0, U, W, W_skip, b, d) is None
    wrong = skip_rnn_forward(x, h0, U, W, W_skip, b, d)[0].copy()
    for t in range(T):
        h_prev = wrong[t - 1] if t >= 1 else h0
        h_skip = wrong[t - d] if t >= d else np.zeros_like(h0)
        wrong[t] = np.tanh(x[t] @ U.T + h_prev @ W.T + h_skip @ W_skip.T + b)
    assert "reads zeros" in remedies_feedback.skip_states_mistake(wrong, x, h0, U, W, W_skip, b, d)
