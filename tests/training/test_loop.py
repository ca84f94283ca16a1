import numpy as np
import pytest

from rnn_helpers.tasks.adding_problem import BASELINE_MSE, make_adding_problem
from rnn_helpers.training.losses import mean_squared_error
from rnn_helpers.training.sequence_model import SequenceModel
from rnn_helpers.optim import SGD, Adam
from rnn_helpers.training.loop import train


def test_training_beats_the_baseline_on_a_short_adding_problem():
    rng = np.random.default_rng(0)
    model = SequenceModel("rnn", 2, 16, 1, readout="last_step", init="identity", rng=rng)
    x_val, y_val = make_adding_problem(256, 10, np.random.default_rng(1))

    def evaluate(m):
        return {"val_mse": mean_squared_error(m.forward(x_val)[0], y_val)[0]}

    history = train(model, lambda step: make_adding_problem(32, 10, rng), mean_squared_error,
                    Adam(3e-3), 400, clip_norm=1.0, eval_fn=evaluate, eval_every=100, progress=False)
    assert history["step"] == list(range(400))
    assert history["eval_step"] == [99, 199, 299, 399]
    assert len(history["val_mse"]) == 4
    assert history["val_mse"][-1] < 0.5 * BASELINE_MSE


def test_clipping_bounds_the_update_and_history_records_the_raw_norm():
    model = SequenceModel("rnn", 2, 4, 1, readout="last_step")
    before = {k: v.copy() for k, v in model.params.items()}
    x, y = make_adding_problem(8, 6, np.random.default_rng(0))
    history = train(model, lambda step: (x, y + 1000.0), mean_squared_error, SGD(1.0), 1,
                    clip_norm=0.5, progress=False)
    change = np.sqrt(sum(np.sum((model.params[k] - before[k]) ** 2) for k in before))
    assert history["grad_norm"][0] > 0.5
    assert change == pytest.approx(0.5)


def test_divergence_stops_training():
    model = SequenceModel("rnn", 2, 4, 1, readout="last_step")
    x, y = make_adding_problem(8, 6, np.random.default_rng(0))
    history = train(model, lambda step: (x, np.full_like(y, np.inf)), mean_squared_error, SGD(0.1), 5,
                    progress=False)
    assert history["diverged_at"] == 0
    assert history["loss"] == []


def test_steps_must_be_positive():
    with pytest.raises(ValueError, match="steps should be a positive int"):
        train(None, None, None, None, 0)
