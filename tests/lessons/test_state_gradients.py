import numpy as np
import pytest

from rnn_helpers import lstm
from rnn_helpers.lessons.state_gradients import state_gradient_norms
from rnn_helpers.training.sequence_model import SequenceModel


def output_after_perturbing_cell(model, x, t, k, eps):
    """y_T when c_t (and with it h_t = o_t * tanh(c_t)) is perturbed along unit k; N = 1."""
    p = model.params
    H = model.hidden_size
    h, c = np.zeros((1, H)), np.zeros((1, H))
    for s, x_s in enumerate(x):
        h, c, cache = lstm.lstm_step_forward(x_s, h, c, p["U"], p["W"], p["b"])
        if s == t:
            c = c.copy()
            c[0, k] += eps
            h = cache.o * np.tanh(c)
    return float((h @ p["V"].T + p["c"])[0, 0])


def test_lstm_cell_gradient_is_the_total_derivative():
    rng = np.random.default_rng(0)
    model = SequenceModel("lstm", 2, 3, 1, readout="last_step", rng=rng)
    x = rng.normal(size=(5, 1, 2))
    norms = state_gradient_norms(model, x)
    for distance in (1, 2, 4):
        t = x.shape[0] - 1 - distance
        grad = [(output_after_perturbing_cell(model, x, t, k, 1e-6)
                 - output_after_perturbing_cell(model, x, t, k, -1e-6)) / 2e-6 for k in range(3)]
        assert norms["c"][distance - 1] == pytest.approx(np.linalg.norm(grad), rel=1e-6)


def test_direct_path_is_the_entering_gradient_times_the_forget_gates():
    rng = np.random.default_rng(1)
    model = SequenceModel("lstm", 2, 3, 1, readout="last_step", forget_bias=-60.0, rng=rng)
    norms = state_gradient_norms(model, rng.normal(size=(4, 2, 2)))
    assert norms["entering"] > 0
    assert np.all(norms["direct"] < 1e-20)          # shut forget gates: nothing passes directly


def test_rnn_has_hidden_norms_only_and_other_models_are_refused():
    rng = np.random.default_rng(2)
    norms = state_gradient_norms(SequenceModel("rnn", 2, 3, 1, readout="last_step", rng=rng), rng.normal(size=(6, 2, 2)))
    assert set(norms) == {"h"} and norms["h"].shape == (5,)
    with pytest.raises(ValueError, match="gru"):
        state_gradient_norms(SequenceModel("gru", 2, 3, 1, rng=rng), rng.normal(size=(6, 2, 2)))
