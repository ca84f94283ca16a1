import numpy as np
import pytest

from rnn_helpers.gradcheck import numerical_gradient, rel_error
from rnn_helpers.training.losses import mean_squared_error
from rnn_helpers.training.sequence_model import SequenceModel, readout_backward
from rnn_helpers.rnn import rnn_forward, softmax_cross_entropy


def test_parameter_shapes_follow_the_contract():
    for cell, G in (("rnn", 1), ("gru", 3), ("lstm", 4)):
        m = SequenceModel(cell, 3, 5, 2)
        shapes = {k: v.shape for k, v in m.params.items()}
        assert shapes == {"U": (G * 5, 3), "W": (G * 5, 5), "b": (G * 5,), "V": (2, 5), "c": (2,)}
        assert m.num_parameters() == G * (5 * 3 + 25 + 5) + 2 * 5 + 2
    lstm = SequenceModel("lstm", 3, 5, 2, forget_bias=2.0)
    np.testing.assert_array_equal(lstm.params["b"][5:10], 2.0)
    np.testing.assert_array_equal(np.delete(lstm.params["b"], np.s_[5:10]), 0.0)


def test_initialisations():
    W = SequenceModel("rnn", 2, 6, 1, init="identity").params["W"]
    np.testing.assert_array_equal(W, np.eye(6))
    W = SequenceModel("rnn", 2, 6, 1, init="orthogonal").params["W"]
    np.testing.assert_allclose(W.T @ W, np.eye(6), atol=1e-12)


def test_forward_uses_the_rnn_layer_and_linear_readout():
    rng = np.random.default_rng(0)
    m = SequenceModel("rnn", 3, 4, 2, rng=rng)
    x = rng.normal(size=(5, 2, 3))
    out, _, final = m.forward(x)
    hs, _ = rnn_forward(x, np.zeros((2, 4)), m.params["U"], m.params["W"], m.params["b"])
    np.testing.assert_allclose(out, hs @ m.params["V"].T + m.params["c"])
    np.testing.assert_allclose(final, hs[-1])


def test_state_carried_across_chunks_equals_one_long_forward():
    rng = np.random.default_rng(1)
    m = SequenceModel("rnn", 3, 4, 2, rng=rng)
    x = rng.normal(size=(6, 2, 3))
    full, _, _ = m.forward(x)
    first, _, state = m.forward(x[:3])
    second, _, _ = m.forward(x[3:], state)
    np.testing.assert_allclose(np.concatenate([first, second]), full)


@pytest.mark.parametrize("cell", ["rnn", "relu_rnn", "gru", "lstm"])
@pytest.mark.parametrize("readout", ["every_step", "last_step"])
def test_backward_matches_numerical_gradients(cell, readout):
    rng = np.random.default_rng(2)
    m = SequenceModel(cell, 3, 4, 2, readout=readout, rng=rng)
    for p in m.params.values():
        p += 0.1 * rng.normal(size=p.shape)
    x = rng.normal(size=(4, 2, 3))
    target = rng.normal(size=(4, 2, 2) if readout == "every_step" else (2, 2))

    def loss():
        return mean_squared_error(m.forward(x)[0], target)[0]

    out, cache, _ = m.forward(x)
    grads = m.backward(mean_squared_error(out, target)[1], cache)
    for name, p in m.params.items():
        # h = 1e-4: with the default 1e-5, rounding in the forward already costs about 1e-6
        # on the smallest entries; a wrong backward is off by far more than either.
        numeric = numerical_gradient(lambda _: loss(), p, h=1e-4)
        assert rel_error(grads[name], numeric) < 1e-6, name


def test_classification_readout_with_cross_entropy_gradient():
    rng = np.random.default_rng(3)
    m = SequenceModel("rnn", 3, 4, 5, rng=rng)
    x = rng.normal(size=(4, 2, 3))
    y = rng.integers(0, 5, size=(4, 2))
    out, cache, _ = m.forward(x)
    grads = m.backward(softmax_cross_entropy(out, y)[1], cache)
    numeric = numerical_gradient(lambda _: softmax_cross_entropy(m.forward(x)[0], y)[0], m.params["W"])
    assert rel_error(grads["W"], numeric) < 1e-6


def test_float32_model_stays_float32():
    m = SequenceModel("rnn", 3, 4, 2, dtype=np.float32)
    out, cache, _ = m.forward(np.ones((2, 1, 3)))
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in m.backward(np.ones_like(out), cache).values())


@pytest.mark.parametrize("kwargs, message", [
    (dict(cell="elman"), "cell should be one of"),
    (dict(readout="first"), "readout should be one of"),
    (dict(init="zeros"), "init should be one of"),
    (dict(hidden_size=0), "hidden_size should be a positive integer"),
])
def test_bad_configuration(kwargs, message):
    args = dict(cell="rnn", input_size=3, hidden_size=4, output_size=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        SequenceModel(**args)


def test_bad_input_shape_names_x():
    m = SequenceModel("rnn", 3, 4, 2)
    with pytest.raises(ValueError, match=r"x should have shape \(T, N, 3\)"):
        m.forward(np.ones((2, 1, 4)))


def test_readout_backward_matches_numerical_gradients():
    rng = np.random.default_rng(3)
    hs, V, c, doutputs = rng.normal(size=(4, 2, 3)), rng.normal(size=(5, 3)), rng.normal(size=5), rng.normal(size=(4, 2, 5))
    dhs, dV, dc = readout_backward(doutputs, hs, V)
    for analytic, value, f in [(dhs, hs, lambda a: a @ V.T + c), (dV, V, lambda a: hs @ a.T + c),
                               (dc, c, lambda a: hs @ V.T + a)]:
        assert rel_error(analytic, numerical_gradient(f, value.copy(), doutputs)) < 1e-8
