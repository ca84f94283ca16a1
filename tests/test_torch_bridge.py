"""rnn_helpers.torch_bridge: numpy checks always; comparisons with PyTorch where it is installed."""
import os

import numpy as np
import pytest

from conftest import read_notebook, source_notebook
from rnn_helpers import torch_bridge
from rnn_helpers.gru import gru_forward
from rnn_helpers.lstm import lstm_backward, lstm_forward
from rnn_helpers.rnn import rnn_backward, rnn_forward


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def random_layer(rng, G, D, H, dtype=np.float64):
    return (rng.normal(size=(G * H, D)).astype(dtype), rng.normal(size=(G * H, H)).astype(dtype),
            rng.normal(size=G * H).astype(dtype))


# --- numpy only -------------------------------------------------------------------------

def test_names_and_h0_shape():
    assert torch_bridge.torch_names() == ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    assert torch_bridge.torch_names(2, True)[3] == "bias_hh_l2_reverse"
    assert torch_bridge.torch_h0_shape(1, False, 5, 7) == (1, 5, 7)
    assert torch_bridge.torch_h0_shape(3, True, 5, 7) == (6, 5, 7)


def test_course_to_torch_copies_and_puts_the_bias_in_bias_ih():
    rng = np.random.default_rng(0)
    U, W, b = random_layer(rng, 4, 3, 5, np.float32)
    state = torch_bridge.course_to_torch("lstm", U, W, b, layer=1, reverse=True)
    assert list(state) == ["weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse",
                           "bias_hh_l1_reverse"]
    np.testing.assert_array_equal(state["weight_ih_l1_reverse"], U)
    np.testing.assert_array_equal(state["bias_hh_l1_reverse"], 0.0)
    assert all(a.dtype == np.float32 for a in state.values())
    state["weight_hh_l1_reverse"][0, 0] += 1.0
    assert state["weight_hh_l1_reverse"][0, 0] != W[0, 0]          # a copy, not a view


def test_course_to_torch_checks_shapes():
    U, W, b = random_layer(np.random.default_rng(1), 4, 3, 5)
    with pytest.raises(ValueError, match="U"):
        torch_bridge.course_to_torch("lstm", U[:-1], W, b)
    with pytest.raises(ValueError, match="b"):
        torch_bridge.course_to_torch("rnn", U[:5], W[:5], b)
    with pytest.raises(ValueError, match="course_gru_to_torch_z_flip"):
        torch_bridge.course_to_torch("gru", U, W, b)


def test_torch_to_course_sums_the_biases_into_arrays_of_their_own():
    rng = np.random.default_rng(4)
    U, W, b = random_layer(rng, 4, 3, 5, np.float32)
    b_hh = rng.normal(size=b.shape).astype(np.float32)
    state = dict(torch_bridge.course_to_torch("lstm", U, W, b, layer=1, reverse=True), bias_hh_l1_reverse=b_hh)
    got = torch_bridge.torch_to_course(state, layer=1, reverse=True)
    for array, expected in zip(got, (U, W, b + b_hh)):
        np.testing.assert_array_equal(array, expected)
        assert array.dtype == np.float32
        assert not any(np.shares_memory(array, a) for a in state.values())
    rnn_state = torch_bridge.course_to_torch("rnn", *random_layer(rng, 1, 2, 3))
    assert [a.shape for a in torch_bridge.torch_to_course(rnn_state)] == [(3, 2), (3, 3), (3,)]
    with pytest.raises(ValueError, match="bias_hh_l0"):
        torch_bridge.torch_to_course(dict(rnn_state, bias_hh_l0=np.zeros(4)))
    with pytest.raises(ValueError, match="weight_hh_l0"):
        torch_bridge.torch_to_course(dict(rnn_state, weight_hh_l0=np.zeros((6, 3))))


def test_z_flip_negates_only_the_z_block_and_round_trips():
    rng = np.random.default_rng(2)
    H = 4
    U, W, b = random_layer(rng, 3, 2, H)
    state = torch_bridge.course_gru_to_torch_z_flip(U, W, b)
    for name, original in (("weight_ih_l0", U), ("weight_hh_l0", W), ("bias_ih_l0", b)):
        np.testing.assert_array_equal(state[name][:H], original[:H])
        np.testing.assert_array_equal(state[name][H:2 * H], -original[H:2 * H])
        np.testing.assert_array_equal(state[name][2 * H:], original[2 * H:])
    back = torch_bridge.torch_gru_to_course_z_flip(state)
    for got, original in zip(back, (U, W, b)):
        np.testing.assert_array_equal(got, original)
    state["bias_hh_l0"][-1] = 0.5
    with pytest.raises(ValueError, match="b_hn"):
        torch_bridge.torch_gru_to_course_z_flip(state)


def test_reset_after_gru_equals_the_course_gru_when_the_reset_gate_is_open():
    """With r = 1 (huge r bias, no r weights) reset before = reset after: z-flip is exact."""
    rng = np.random.default_rng(3)
    T, N, D, H = 6, 3, 2, 4
    U, W, b = random_layer(rng, 3, D, H)
    U[:H], W[:H], b[:H] = 0.0, 0.0, 1000.0
    x, h0 = rng.normal(size=(T, N, D)), rng.normal(size=(N, H))
    expected, _ = gru_forward(x, h0, U, W, b)
    got = torch_bridge.gru_reset_after_forward(x, h0, torch_bridge.course_gru_to_torch_z_flip(U, W, b))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_reset_after_gru_one_step_against_the_formula():
    rng = np.random.default_rng(4)
    N, D, H = 2, 3, 2
    state = dict(zip(torch_bridge.torch_names(), random_layer(rng, 3, D, H) + (rng.normal(size=3 * H),)))
    x, h0 = rng.normal(size=(1, N, D)), rng.normal(size=(N, H))
    wi, wh, bi, bh = (state[n] for n in torch_bridge.torch_names())
    r = sigmoid(x[0] @ wi[:H].T + bi[:H] + h0 @ wh[:H].T + bh[:H])
    z = sigmoid(x[0] @ wi[H:2 * H].T + bi[H:2 * H] + h0 @ wh[H:2 * H].T + bh[H:2 * H])
    n = np.tanh(x[0] @ wi[2 * H:].T + bi[2 * H:] + r * (h0 @ wh[2 * H:].T + bh[2 * H:]))
    expected = (1 - z) * n + z * h0
    np.testing.assert_allclose(torch_bridge.gru_reset_after_forward(x, h0, state)[0], expected,
                               rtol=1e-12)


# --- against PyTorch ----------------------------------------------------------------------

def torch_layer(torch, cell, D, H, state, dtype, **kwargs):
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    layer = cls(D, H, dtype=dtype, **kwargs)
    return torch_bridge.load_state(layer, state)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 2e-5)])
def test_outputs_and_gradients_match_torch(cell, dtype, tol):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    T, N, D, H = 7, 3, 4, 5
    G = 4 if cell == "lstm" else 1
    U, W, b = random_layer(rng, G, D, H, dtype)
    W *= 0.4
    x, h0, c0 = (rng.normal(size=s).astype(dtype) for s in ((T, N, D), (N, H), (N, H)))
    dhs = rng.normal(size=(T, N, H)).astype(dtype)
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    layer = torch_layer(torch, cell, D, H, torch_bridge.course_to_torch(cell, U, W, b), tdtype)
    xt, h0t, c0t = (torch.tensor(a[None] if a.ndim == 2 else a, requires_grad=True) for a in (x, h0, c0))
    if cell == "lstm":
        out, _ = layer(xt, (h0t, c0t))
        hs, cs, cache = lstm_forward(x, h0, c0, U, W, b)
        dx, dh0, dc0, dU, dW, db = lstm_backward(dhs, cache)
    else:
        out, _ = layer(xt, h0t)
        hs, cache = rnn_forward(x, h0, U, W, b)
        dx, dh0, dU, dW, db = rnn_backward(dhs, cache)
    out.backward(torch.tensor(dhs))
    pairs = [(hs, out), (dx, xt.grad), (dh0, h0t.grad[0]), (dU, layer.weight_ih_l0.grad),
             (dW, layer.weight_hh_l0.grad), (db, layer.bias_ih_l0.grad), (db, layer.bias_hh_l0.grad)]
    if cell == "lstm":
        pairs.append((dc0, c0t.grad[0]))
    for ours, theirs in pairs:
        theirs = theirs.detach().numpy()
        assert ours.dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


def test_torch_gru_is_the_reset_after_cell():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    T, N, D, H = 6, 2, 3, 4
    U, W, b = random_layer(rng, 3, D, H)
    state = torch_bridge.course_gru_to_torch_z_flip(U, W, b)
    state["bias_hh_l0"] = rng.normal(size=3 * H)                      # any b_hh works here
    layer = torch_layer(torch, "gru", D, H, state, torch.float64)
    x, h0 = rng.normal(size=(T, N, D)), rng.normal(size=(N, H))
    out, _ = layer(torch.tensor(x), torch.tensor(h0[None]))
    np.testing.assert_allclose(out.detach().numpy(), torch_bridge.gru_reset_after_forward(x, h0, state),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_torch_layer_forward_is_torch_with_both_biases(cell):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    T, N, D, H = 5, 2, 3, 4
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM}[cell]
    layer = cls(D, H, dtype=torch.float64)                          # torch's own init: two nonzero biases
    state = {name: p.detach().numpy() for name, p in layer.named_parameters()}
    x, h0, c0 = rng.normal(size=(T, N, D)), rng.normal(size=(N, H)), rng.normal(size=(N, H))
    if cell == "lstm":
        out, _ = layer(torch.tensor(x), (torch.tensor(h0[None]), torch.tensor(c0[None])))
        ours = torch_bridge.torch_layer_forward(x, h0, state, c0=c0)
    else:
        out, _ = layer(torch.tensor(x), torch.tensor(h0[None]))
        ours = torch_bridge.torch_layer_forward(x, h0, state)
    np.testing.assert_allclose(ours, out.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_torch_layer_forward_checks_the_cell():
    state = dict(zip(torch_bridge.torch_names(), (np.zeros((6, 2)), np.zeros((6, 2)), np.zeros(6), np.zeros(6))))
    with pytest.raises(ValueError, match="weight_hh"):
        torch_bridge.torch_layer_forward(np.zeros((3, 1, 2)), np.zeros((1, 2)), state)


def test_load_state_checks_names_and_shapes():
    torch = pytest.importorskip("torch")
    layer = torch.nn.RNN(3, 4)
    with pytest.raises(ValueError, match="no parameter"):
        torch_bridge.load_state(layer, {"weight_ih_l1": np.zeros((4, 3))})
    with pytest.raises(ValueError, match="weight_hh_l0"):
        torch_bridge.load_state(layer, {"weight_hh_l0": np.zeros((4, 3))})


def test_notebook_10_runs_cleanly_without_torch(tmp_path, monkeypatch):
    """CI has torch; this runs notebook 10 in a kernel where `import torch` fails."""
    from rnn_helpers.instructor.execution import SteadyNotebookClient

    blocker = tmp_path / "torch"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('PyTorch is hidden for this test')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    path = source_notebook("10_pytorch")
    nb = read_notebook(path)
    SteadyNotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    text = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"cell {index}: {output.ename}: {output.evalue}"
            assert not (output.output_type == "stream" and output.name == "stderr"), \
                f"cell {index} wrote to stderr: {output.text[:300]!r}"
            if output.output_type == "stream":
                text.append(output.text)
    text = "".join(text)
    assert "PyTorch is not installed" in text
    assert "visible tests passed" in text
