"""rnn_helpers.lessons.lstm_feedback: each typical wrong parameter count of notebook 05 gets its own message."""
from rnn_helpers.lessons import lstm_feedback


def test_param_count_mistakes_are_named():
    assert lstm_feedback.param_count_problem(180 + 220, "lstm", 3, 5, 2, False) is None   # 4(15 + 25 + 5) + 4(25 + 25 + 5)
    assert lstm_feedback.param_count_problem(2 * 45 + 2 * 80, "rnn", 3, 5, 2, True) is None
    assert "not x" in lstm_feedback.param_count_problem(2 * 180, "lstm", 3, 5, 2, False)
    assert "both directions" in lstm_feedback.param_count_problem(2 * 45 + 2 * 55, "rnn", 3, 5, 2, True)
    assert "two cells" in lstm_feedback.param_count_problem(45 + 55, "rnn", 3, 5, 2, True)
    assert "layer by layer" in lstm_feedback.param_count_problem(1, "gru", 3, 5, 2, True)
