"""rnn_helpers.relu_rnn against the column-vector equations and numerical gradients."""
import numpy as np
import pytest

from conftest import assert_gradients_match
from rnn_helpers.relu_rnn import relu_rnn_backward, relu_rnn_forward
from rnn_helpers.training.sequence_model import SequenceModel


def params(rng, T=5, N=3, D=4, H=6, scale=0.6):
    return (rng.normal(size=(T, N, D)), rng.normal(size=(N, H)), scale * rng.normal(size=(H, D)),
            scale * rng.normal(size=(H, H)), 0.1 * rng.normal(size=H))


def test_forward_matches_the_column_vector_equations():
    rng = np.random.default_rng(0)
    x, h0, U, W, b = params(rng)
    before = [a.copy() for a in (x, h0, U, W, b)]
    hs, _ = relu_rnn_forward(x, h0, U, W, b)
    for n in range(x.shape[1]):
        h = h0[n]
        for t in range(x.shape[0]):
            h = np.maximum(0.0, b + W @ h + U @ x[t, n])
            np.testing.assert_allclose(hs[t, n], h, rtol=1e-12)
    for old, new in zip(before, (x, h0, U, W, b)):
        np.testing.assert_array_equal(old, new)


def test_identity_start_integrates_positive_inputs():
    """The IRNN: W = I, b = 0 and non-negative drive add up the inputs, h_t = h_0 + sum U x."""
    rng = np.random.default_rng(1)
    x = rng.random(size=(7, 2, 3))
    U, h0 = rng.random(size=(4, 3)), rng.random(size=(2, 4))
    hs, _ = relu_rnn_forward(x, h0, U, np.eye(4), np.zeros(4))
    np.testing.assert_allclose(hs, h0 + np.cumsum(x @ U.T, axis=0), rtol=1e-12)


def test_backward_matches_numerical_gradients():
    rng = np.random.default_rng(2)
    inputs = list(params(rng))
    hs, cache = relu_rnn_forward(*inputs)
    assert 0.2 < np.mean(hs > 0) < 0.8, "the test should see active and inactive units"
    upstream = rng.normal(size=hs.shape)
    assert_gradients_match(relu_rnn_forward, inputs, relu_rnn_backward(upstream, cache), upstream, tol=1e-6)


def test_bad_inputs_are_named():
    rng = np.random.default_rng(3)
    x, h0, U, W, b = params(rng)
    with pytest.raises(ValueError, match="W"):
        relu_rnn_forward(x, h0, U, W[:, :-1], b)
    with pytest.raises(ValueError, match="cache"):
        relu_rnn_backward(np.zeros((5, 3, 6)), ("not", "a", "cache"))


def test_sequence_model_trains_the_relu_cell():
    rng = np.random.default_rng(4)
    m = SequenceModel("relu_rnn", 3, 4, 2, readout="last_step", init="identity", rng=rng)
    np.testing.assert_array_equal(m.params["W"], np.eye(4))
    x = rng.normal(size=(6, 2, 3))
    out, cache, _ = m.forward(x)
    hs, _ = relu_rnn_forward(x, np.zeros((2, 4)), m.params["U"], m.params["W"], m.params["b"])
    np.testing.assert_allclose(out, hs[-1] @ m.params["V"].T + m.params["c"])
    grads = m.backward(np.ones_like(out), cache)
    assert {k: g.shape for k, g in grads.items()} == {k: p.shape for k, p in m.params.items()}
