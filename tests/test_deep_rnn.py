"""Tests of rnn_helpers.deep_rnn: stacked layers (uni- and bidirectional) and StackedRNNModel."""
import numpy as np
import pytest

from rnn_helpers import deep_rnn
from rnn_helpers.gradcheck import numerical_gradient, rel_error
from rnn_helpers.optim import Adam
from rnn_helpers.rnn import softmax_cross_entropy
from rnn_helpers.training.loop import train


def make_stack(seed=0, T=4, N=3, D=4, H=5, L=3, bidirectional=False):
    rng = np.random.default_rng(seed)
    dirs = 2 if bidirectional else 1
    x = rng.normal(size=(T, N, D))
    h0 = 0.5 * rng.normal(size=(dirs * L, N, H))
    layers = []
    for l in range(L):
        fan_in = D if l == 0 else dirs * H
        layer = []
        for _ in range(dirs):
            layer += [rng.normal(size=(H, fan_in)) / np.sqrt(fan_in), rng.normal(size=(H, H)) / np.sqrt(H),
                      0.3 * rng.normal(size=H)]
        layers.append(tuple(layer))
    return x, h0, layers


def rnn_by_hand(x, h0, U, W, b, reverse=False):
    """Independent vanilla RNN, one sample at a time, optionally right to left."""
    T, N, _ = x.shape
    hs = np.zeros((T, N, W.shape[0]))
    steps = range(T - 1, -1, -1) if reverse else range(T)
    for i in range(N):
        h = h0[i]
        for t in steps:
            h = np.tanh(U @ x[t, i] + W @ h + b)
            hs[t, i] = h
    return hs


def test_unidirectional_stack_feeds_each_layer_into_the_next():
    x, h0, layers = make_stack(1)
    hs, _ = deep_rnn.stacked_rnn_forward(x, h0, layers)
    inputs = x
    for l, (U, W, b) in enumerate(layers):
        inputs = rnn_by_hand(inputs, h0[l], U, W, b)
    assert hs.shape == (4, 3, 5)
    np.testing.assert_allclose(hs, inputs, rtol=1e-12, atol=1e-12)


def test_bidirectional_stack_feeds_concatenated_states_into_the_next_layer():
    x, h0, layers = make_stack(2, L=2, bidirectional=True)
    hs, _ = deep_rnn.stacked_rnn_forward(x, h0, layers, bidirectional=True)
    inputs = x
    for l, (U_fwd, W_fwd, b_fwd, U_rev, W_rev, b_rev) in enumerate(layers):
        inputs = np.concatenate([rnn_by_hand(inputs, h0[2 * l], U_fwd, W_fwd, b_fwd),
                                 rnn_by_hand(inputs, h0[2 * l + 1], U_rev, W_rev, b_rev, reverse=True)], axis=-1)
    assert hs.shape == (4, 3, 10)
    np.testing.assert_allclose(hs, inputs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_stack_backward_matches_numerical_gradient(bidirectional):
    x, h0, layers = make_stack(3, T=3, N=2, D=3, H=3, L=2, bidirectional=bidirectional)
    hs, cache = deep_rnn.stacked_rnn_forward(x, h0, layers, bidirectional)
    dhs = np.random.default_rng(9).normal(size=hs.shape)
    dx, dh0, dlayers = deep_rnn.stacked_rnn_backward(dhs, cache)

    def f(_):
        return deep_rnn.stacked_rnn_forward(x, h0, layers, bidirectional)[0]

    assert rel_error(numerical_gradient(f, x, dhs), dx) < 1e-6
    assert rel_error(numerical_gradient(f, h0, dhs), dh0) < 1e-6
    assert len(dlayers) == len(layers)
    for layer, dlayer in zip(layers, dlayers):
        assert len(dlayer) == len(layer)
        for value, grad in zip(layer, dlayer):
            assert rel_error(numerical_gradient(f, value, dhs), grad) < 1e-6


def test_one_layer_stack_is_the_plain_layer():
    x, h0, layers = make_stack(4, L=1)
    hs, _ = deep_rnn.stacked_rnn_forward(x, h0, layers)
    np.testing.assert_allclose(hs, rnn_by_hand(x, h0[0], *layers[0]), rtol=1e-12)


def test_stack_input_checks_name_the_layer():
    x, h0, layers = make_stack(5)
    with pytest.raises(ValueError, match=r"h0 should have shape \(3, N, H\)"):
        deep_rnn.stacked_rnn_forward(x, h0[:2], layers)
    bad = list(layers)
    bad[1] = (layers[1][0][:, :2],) + layers[1][1:]
    with pytest.raises(ValueError, match=r"layers\[1\] U"):
        deep_rnn.stacked_rnn_forward(x, h0, bad)
    with pytest.raises(ValueError, match=r"layers\[0\] should be a tuple \(U_fwd, W_fwd, b_fwd, U_rev, W_rev, b_rev\)"):
        deep_rnn.stacked_rnn_forward(x, np.concatenate([h0, h0]), layers, bidirectional=True)
    with pytest.raises(ValueError, match="layers should be a non-empty list"):
        deep_rnn.stacked_rnn_forward(x, h0[:0], [])
    with pytest.raises(ValueError, match="bidirectional should be True or False"):
        deep_rnn.stacked_rnn_forward(x, h0, layers, bidirectional="yes")


def test_stack_backward_checks_dhs_and_cache():
    x, h0, layers = make_stack(6)
    hs, cache = deep_rnn.stacked_rnn_forward(x, h0, layers)
    with pytest.raises(ValueError, match="dhs should have shape"):
        deep_rnn.stacked_rnn_backward(hs[:, :1], cache)
    with pytest.raises(ValueError, match="cache returned by stacked_rnn_forward"):
        deep_rnn.stacked_rnn_backward(hs, cache.layers[0])


def test_stack_does_not_modify_its_inputs():
    x, h0, layers = make_stack(7, bidirectional=True)
    before = [x.copy(), h0.copy()] + [p.copy() for layer in layers for p in layer]
    hs, cache = deep_rnn.stacked_rnn_forward(x, h0, layers, bidirectional=True)
    dhs = np.ones_like(hs)
    deep_rnn.stacked_rnn_backward(dhs, cache)
    after = [x, h0] + [p for layer in layers for p in layer]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(dhs, np.ones_like(hs))


# ---------------------------------------------------------------- StackedRNNModel

@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("readout", ["every_step", "last_step"])
def test_model_gradients_match_numerical(bidirectional, readout):
    model = deep_rnn.StackedRNNModel(3, 4, 2, num_layers=2, bidirectional=bidirectional, readout=readout,
                                     rng=np.random.default_rng(1))
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 2, 3))
    outputs, cache, _ = model.forward(x)
    doutputs = rng.normal(size=outputs.shape)
    grads = model.backward(doutputs, cache)
    assert set(grads) == set(model.params)
    for name, value in model.params.items():
        numerical = numerical_gradient(lambda _: model.forward(x)[0], value, doutputs)
        assert rel_error(numerical, grads[name]) < 1e-6, name


def test_model_outputs_are_a_readout_of_the_stack():
    model = deep_rnn.StackedRNNModel(3, 4, 5, num_layers=2, bidirectional=True, readout="last_step",
                                     rng=np.random.default_rng(3))
    x = np.random.default_rng(4).normal(size=(6, 2, 3))
    hs, _ = deep_rnn.stacked_rnn_forward(x, np.zeros((4, 2, 4)), model.layers(), bidirectional=True)
    features = np.concatenate([hs[-1, :, :4], hs[0, :, 4:]], axis=-1)
    outputs, _, final_state = model.forward(x)
    np.testing.assert_allclose(outputs, features @ model.params["V"].T + model.params["c"], rtol=1e-12)
    assert final_state.shape == (4, 2, 4)
    np.testing.assert_allclose(final_state[2], hs[-1, :, :4], rtol=1e-12)   # top layer, forward
    np.testing.assert_allclose(final_state[3], hs[0, :, 4:], rtol=1e-12)    # top layer, backward
    np.testing.assert_allclose(model.hidden_states(x), hs, rtol=1e-12)


def test_model_parameter_names_shapes_and_count():
    model = deep_rnn.StackedRNNModel(5, 16, 2, num_layers=2, bidirectional=True)
    assert model.params["U_fwd_l0"].shape == (16, 5)
    assert model.params["U_rev_l1"].shape == (16, 32)
    assert model.params["V"].shape == (2, 32)
    one_layer = 2 * (16 * 5 + 16 * 16 + 16)
    second = 2 * (16 * 32 + 16 * 16 + 16)
    assert model.num_parameters() == one_layer + second + 2 * 32 + 2
    uni = deep_rnn.StackedRNNModel(5, 24, 2)
    assert sorted(uni.params) == ["U_l0", "V", "W_l0", "b_l0", "c"]


def test_model_input_checks():
    with pytest.raises(ValueError, match="num_layers should be a positive integer"):
        deep_rnn.StackedRNNModel(3, 4, 2, num_layers=0)
    with pytest.raises(ValueError, match="readout should be one of"):
        deep_rnn.StackedRNNModel(3, 4, 2, readout="mean")
    with pytest.raises(ValueError, match="bidirectional should be True or False"):
        deep_rnn.StackedRNNModel(3, 4, 2, bidirectional=1)
    model = deep_rnn.StackedRNNModel(3, 4, 2)
    with pytest.raises(ValueError, match="x should have shape"):
        model.forward(np.zeros((2, 2, 5)))


def test_model_trains_with_the_course_loop():
    """A short run of training.train lowers the loss of a tagging task."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 16, 2))
    y = (np.cumsum(x[..., 0], axis=0)[::-1] > 0).astype(int)    # depends on the future too
    model = deep_rnn.StackedRNNModel(2, 8, 2, bidirectional=True, rng=np.random.default_rng(1))
    history = train(model, lambda step: (x, y), softmax_cross_entropy, Adam(1e-2), 60, progress=False)
    assert history["loss"][-1] < 0.5 * history["loss"][0]


def test_unidirectional_model_carries_its_state_across_chunks():
    model = deep_rnn.StackedRNNModel(3, 4, 2, num_layers=2, rng=np.random.default_rng(5))
    x = np.random.default_rng(6).normal(size=(7, 2, 3))
    whole, _, final_whole = model.forward(x)
    first, _, state = model.forward(x[:3])
    second, _, final_chunks = model.forward(x[3:], state=state)
    np.testing.assert_allclose(np.concatenate([first, second]), whole, rtol=1e-12)
    np.testing.assert_allclose(final_chunks, final_whole, rtol=1e-12)


def test_orthogonal_initialisation_of_the_recurrent_matrices():
    model = deep_rnn.StackedRNNModel(3, 6, 2, num_layers=2, bidirectional=True, init="orthogonal")
    for name in ("W_fwd_l0", "W_rev_l0", "W_fwd_l1", "W_rev_l1"):
        W = model.params[name]
        np.testing.assert_allclose(W @ W.T, np.eye(6), atol=1e-12)
    with pytest.raises(ValueError, match="init should be"):
        deep_rnn.StackedRNNModel(3, 6, 2, init="identity")
