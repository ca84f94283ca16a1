import numpy as np
import pytest

from rnn_helpers.gradcheck import numerical_gradient, rel_error
from rnn_helpers.linear_rnn import mingru_forward, minlstm_forward
from rnn_helpers.training.losses import mean_squared_error
from rnn_helpers.training.mingru_model import MinGRUModel


def model(readout="last_step", selective=True, cell="mingru"):
    return MinGRUModel(3, (4, 5), 2, cell=cell, readout=readout, selective=selective, gate_bias=-1.0,
                       rng=np.random.default_rng(0))


def test_parameter_shapes_and_count():
    m = model()
    shapes = {k: v.shape for k, v in m.params.items()}
    assert shapes == {"U0": (8, 3), "b0": (8,), "U1": (10, 4), "b1": (10,), "V": (2, 5), "c": (2,)}
    assert m.num_parameters() == 8 * 4 + 10 * 5 + 2 * 6
    np.testing.assert_array_equal(m.params["b0"][:4], -1.0)


def test_forward_stacks_mingru_layers():
    m = model("every_step")
    x = np.random.default_rng(1).normal(size=(6, 2, 3))
    h1, _ = mingru_forward(x, np.zeros((2, 4)), m.params["U0"], m.params["b0"])
    h2, _ = mingru_forward(h1, np.zeros((2, 5)), m.params["U1"], m.params["b1"])
    outputs, _, finals = m.forward(x)
    np.testing.assert_allclose(outputs, h2 @ m.params["V"].T + m.params["c"])
    np.testing.assert_allclose(finals[1], h2[-1])


def test_minlstm_layers_start_with_the_decay_of_the_mingru_layers():
    m = model("every_step", cell="minlstm")
    shapes = {k: v.shape for k, v in m.params.items()}
    assert shapes == {"U0": (12, 3), "b0": (12,), "U1": (15, 4), "b1": (15,), "V": (2, 5), "c": (2,)}
    x = np.random.default_rng(1).normal(size=(6, 2, 3))
    h1, _ = minlstm_forward(x, np.zeros((2, 4)), m.params["U0"], m.params["b0"])
    h2, _ = minlstm_forward(h1, np.zeros((2, 5)), m.params["U1"], m.params["b1"])
    np.testing.assert_allclose(m.forward(x)[0], h2 @ m.params["V"].T + m.params["c"])
    zero_input = MinGRUModel(3, (4,), 2, cell="minlstm", gate_bias=-1.0, rng=np.random.default_rng(0))
    _, (caches, _), _ = zero_input.forward(np.zeros((2, 1, 3)))
    np.testing.assert_allclose(caches[0].i_norm, 1 / (1 + np.exp(1.0)))      # sigmoid(gate_bias), as minGRU's z


@pytest.mark.parametrize("cell", ["mingru", "minlstm", "fixed_decay"])
@pytest.mark.parametrize("readout", ["last_step", "every_step"])
def test_backward_gradient_check(readout, cell):
    m = model(readout, cell=cell)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5, 2, 3))
    y = rng.normal(size=(2, 2) if readout == "last_step" else (5, 2, 2))
    outputs, cache, _ = m.forward(x)
    grads = m.backward(mean_squared_error(outputs, y)[1], cache)
    for name, value in m.params.items():
        def loss(v, name=name):
            saved = m.params[name]
            m.params[name] = v
            try:
                return mean_squared_error(m.forward(x)[0], y)[0]
            finally:
                m.params[name] = saved
        assert rel_error(grads[name], numerical_gradient(loss, value.copy())) < 1e-6, name


@pytest.mark.parametrize("cell, gates", [("mingru", 1), ("minlstm", 2)])
def test_fixed_decay_ablation_keeps_the_gate_weights_at_zero(cell, gates):
    m = model(selective=False, cell=cell)
    assert not m.params["U0"][:4 * gates].any() and not m.params["U1"][:5 * gates].any()
    assert m.params["U0"][4 * gates:].all()
    x = np.random.default_rng(3).normal(size=(5, 2, 3))
    outputs, cache, _ = m.forward(x)
    grads = m.backward(np.ones_like(outputs), cache)
    assert not grads["U0"][:4 * gates].any() and not grads["U1"][:5 * gates].any()
    assert grads["U0"][4 * gates:].any()
    assert m.num_trainable_parameters() == m.num_parameters() - gates * (4 * 3 + 5 * 4)
    assert model(cell=cell).num_trainable_parameters() == model(cell=cell).num_parameters()


def test_fixed_decay_control_has_minGRU_parameters_and_a_decay_that_ignores_the_input():
    m = model(cell="fixed_decay")
    assert {k: v.shape for k, v in m.params.items()} == {k: v.shape for k, v in model().params.items()}
    x = np.random.default_rng(4).normal(size=(5, 2, 3))
    _, (caches, _), _ = m.forward(x)
    np.testing.assert_allclose(caches[0].decay, 1 - 1 / (1 + np.exp(1.0)))      # 1 - sigmoid(gate_bias)
    assert caches[0].z.std() > 0.05                                           # the input gate reads x


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"cell should be one of \('mingru', 'minlstm', 'fixed_decay'\), but got 'lstm'"):
        MinGRUModel(3, (4,), 2, cell="lstm", rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="readout"):
        MinGRUModel(3, (4,), 2, readout="middle", rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        MinGRUModel(3, (4,), 2)
    with pytest.raises(ValueError, match="hidden size"):
        MinGRUModel(3, (), 2, rng=np.random.default_rng(0))
