"""rnn_helpers.lessons.teacher_forcing: the output-to-hidden network, free-running and teacher-forced."""
import numpy as np
import pytest

from rnn_helpers.lessons import teacher_forcing


def network(seed=0, T=5, N=3, D=2, H=4, K=3):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(T, N, D)), rng.normal(size=(H, D)), rng.normal(size=(H, K)), rng.normal(size=H),
            rng.normal(size=(K, H)), rng.normal(size=K))


def test_previous_targets_are_shifted_by_one_step():
    fed = teacher_forcing.previous_targets_onehot(np.array([[2], [0], [1]]), 3)
    assert np.array_equal(fed[:, 0], [[0, 0, 0], [0, 0, 1], [1, 0, 0]])


def test_teacher_forcing_matches_the_column_formula_step_by_step():
    x, U, W, b, V, c = network()
    y = np.random.default_rng(1).integers(0, 3, size=x.shape[:2])
    o = teacher_forcing.teacher_forced_logits(x, y, U, W, b, V, c)
    for t in range(x.shape[0]):
        for n in range(x.shape[1]):
            fed = np.eye(3)[y[t - 1, n]] if t else np.zeros(3)
            assert np.allclose(o[t, n], c + V @ np.tanh(U @ x[t, n] + W @ fed + b))


def test_teacher_forcing_with_the_predictions_reproduces_free_running():
    x, U, W, b, V, c = network(2)
    logits, predictions = teacher_forcing.free_running_logits(x, U, W, b, V, c)
    assert np.array_equal(predictions, logits.argmax(axis=-1))
    assert np.allclose(teacher_forcing.teacher_forced_logits(x, predictions, U, W, b, V, c), logits)


def test_bad_input_is_named():
    x, U, W, b, V, c = network()
    with pytest.raises(ValueError, match="W"):
        teacher_forcing.teacher_forced_logits(x, np.zeros(x.shape[:2], dtype=int), U, W.T, b, V, c)
    with pytest.raises(ValueError, match="y should hold classes"):
        teacher_forcing.previous_targets_onehot(np.array([[3]]), 3)
