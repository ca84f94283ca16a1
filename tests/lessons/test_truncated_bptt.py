"""rnn_helpers.lessons.truncated_bptt: chunking a stream, carrying the state, the training loop."""
import numpy as np
import pytest

from rnn_helpers.gradcheck import numerical_gradient, rel_error
from rnn_helpers.training.sequence_model import SequenceModel
from rnn_helpers.optim import Adam
from rnn_helpers.rnn import softmax_cross_entropy
from rnn_helpers.tasks.text import one_hot
from rnn_helpers.lessons.truncated_bptt import (cross_entropy_per_step, split_for_tbptt, stream_loss,
                                        train_truncated_bptt)


def test_split_by_hand():
    chunks = split_for_tbptt(np.arange(15), 2, 3)       # rows 0..6 and 7..13; 14 dropped
    expected_inputs = [[[0, 7], [1, 8], [2, 9]], [[3, 10], [4, 11], [5, 12]]]
    assert len(chunks) == 2
    for (inputs, targets), want in zip(chunks, expected_inputs):
        np.testing.assert_array_equal(inputs, want)
        np.testing.assert_array_equal(targets, np.array(want) + 1)


@pytest.mark.parametrize("length, batch_size, chunk_len", [(103, 4, 5), (100, 3, 7), (50, 1, 49), (12, 6, 4)])
def test_split_covers_every_row_in_order(length, batch_size, chunk_len):
    stream = np.random.default_rng(length).integers(0, 30, size=length)
    chunks = split_for_tbptt(stream, batch_size, chunk_len)
    L = length // batch_size
    assert len(chunks) == -(-(L - 1) // chunk_len)     # ceil((L-1) / chunk_len)
    inputs = np.concatenate([c[0] for c in chunks])
    targets = np.concatenate([c[1] for c in chunks])
    assert inputs.shape == targets.shape == (L - 1, batch_size)
    assert all(c[0].shape[0] == chunk_len for c in chunks[:-1])
    assert chunks[-1][0].shape[0] == (L - 1) - chunk_len * (len(chunks) - 1)
    for i in range(batch_size):
        row = stream[i * L:(i + 1) * L]
        np.testing.assert_array_equal(inputs[:, i], row[:-1])
        np.testing.assert_array_equal(targets[:, i], row[1:])


def test_split_does_not_alias_or_modify_the_stream():
    stream = np.arange(20)
    chunks = split_for_tbptt(stream, 2, 4)
    chunks[0][0][0, 0] = 99
    np.testing.assert_array_equal(stream, np.arange(20))


def test_split_rejects_bad_arguments():
    with pytest.raises(ValueError, match="at least 2 \\* batch_size"):
        split_for_tbptt(np.arange(7), 4, 2)
    with pytest.raises(ValueError, match="batch_size"):
        split_for_tbptt(np.arange(10), 0, 2)
    with pytest.raises(ValueError, match="chunk_len"):
        split_for_tbptt(np.arange(10), 2, 2.0)
    with pytest.raises(ValueError, match="stream"):
        split_for_tbptt(np.arange(10.0), 2, 2)
    with pytest.raises(ValueError, match="stream"):
        split_for_tbptt(np.zeros((4, 4), dtype=int), 2, 2)


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_carrying_the_state_equals_one_forward_pass(cell):
    rng = np.random.default_rng(0)
    stream = rng.integers(0, 5, size=3 * 41)
    model = SequenceModel(cell, 5, 7, 5, rng=rng)
    chunks = split_for_tbptt(stream, 3, 6)             # 40 steps: six chunks of 6, one of 4
    state, pieces = None, []
    for inputs, _ in chunks:
        out, _, state = model.forward(one_hot(inputs, 5), state)
        pieces.append(out)
    whole_inputs = np.concatenate([c[0] for c in chunks])
    whole, _, final = model.forward(one_hot(whole_inputs, 5))
    np.testing.assert_allclose(np.concatenate(pieces), whole, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(state, final, rtol=1e-12)
    # and stream_loss, which carries the state, is the loss of the whole pass per position
    whole_targets = np.concatenate([c[1] for c in chunks])
    expected = softmax_cross_entropy(whole, whole_targets)[0] / whole_targets.shape[0]
    assert stream_loss(model, chunks) == pytest.approx(expected, rel=1e-12)


def test_chunk_gradient_treats_the_incoming_state_as_a_constant():
    rng = np.random.default_rng(1)
    model = SequenceModel("rnn", 4, 5, 4, rng=rng)
    chunks = split_for_tbptt(rng.integers(0, 4, size=2 * 13), 2, 6)
    _, _, state = model.forward(one_hot(chunks[0][0], 4))
    x, y = one_hot(chunks[1][0], 4), chunks[1][1]
    out, cache, _ = model.forward(x, state)
    grads = model.backward(cross_entropy_per_step(out, y)[1], cache)
    for name, param in model.params.items():
        numeric = numerical_gradient(lambda _: cross_entropy_per_step(model.forward(x, state)[0], y)[0], param)
        assert rel_error(grads[name], numeric) < 1e-6, name


def test_cross_entropy_per_step_is_the_mean_over_positions():
    rng = np.random.default_rng(2)
    logits, y = rng.normal(size=(5, 3, 4)), rng.integers(0, 4, size=(5, 3))
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -np.take_along_axis(log_p, y[..., None], -1).mean()
    loss, dlogits = cross_entropy_per_step(logits, y)
    assert loss == pytest.approx(expected, rel=1e-12)
    assert rel_error(dlogits, numerical_gradient(lambda z: cross_entropy_per_step(z, y)[0], logits.copy())) < 1e-6


class _Recorder:
    """A SequenceModel that records the state it receives at every forward."""

    def __init__(self, model):
        self.model, self.states = model, []
        self.params, self.input_size, self.dtype = model.params, model.input_size, model.dtype

    def forward(self, x, state=None):
        self.states.append(state)
        return self.model.forward(x, state)

    def backward(self, doutputs, cache):
        return self.model.backward(doutputs, cache)


def test_training_carries_the_state_and_resets_it_each_epoch():
    rng = np.random.default_rng(3)
    chunks = split_for_tbptt(rng.integers(0, 3, size=2 * 31), 2, 10)   # 3 chunks
    recorder = _Recorder(SequenceModel("rnn", 3, 4, 3, rng=rng))
    history = train_truncated_bptt(recorder, chunks, Adam(0.01), 2, progress=False)
    assert history["step"] == list(range(6))
    assert [s is None for s in recorder.states] == [True, False, False, True, False, False]
    assert recorder.states[1].shape == (2, 4)


def test_training_learns_a_deterministic_cycle():
    # stream 0 1 2 0 1 2 ...: the next symbol is a function of the current one
    chunks = split_for_tbptt(np.tile(np.arange(3), 200), 4, 10)
    model = SequenceModel("rnn", 3, 8, 3, rng=np.random.default_rng(4))
    before = stream_loss(model, chunks)
    history = train_truncated_bptt(model, chunks, Adam(0.05), 5, clip_norm=5.0,
                                   eval_fn=lambda m: {"loss_all": stream_loss(m, chunks)},
                                   eval_every=len(chunks), progress=False)
    assert len(history["loss_all"]) == 5
    assert before > 0.9 and history["loss_all"][-1] < 0.05


def test_training_rejects_bad_chunks():
    model = SequenceModel("rnn", 3, 4, 3)
    with pytest.raises(ValueError, match="chunks"):
        train_truncated_bptt(model, [], Adam(), 1)
    bad = [(np.zeros((3, 2), dtype=int), np.zeros((3, 2), dtype=int)),
           (np.zeros((3, 5), dtype=int), np.zeros((3, 5), dtype=int))]
    with pytest.raises(ValueError, match="chunks\\[1\\]"):
        train_truncated_bptt(model, bad, Adam(), 1)
    with pytest.raises(ValueError, match="epochs"):
        train_truncated_bptt(model, bad[:1], Adam(), 0)


def test_draw_layout_shows_every_used_character_once():
    import matplotlib
    matplotlib.use("Agg")
    from rnn_helpers.lessons.truncated_bptt import draw_layout

    text = "mary\nanna\nemma\nlinda\nrose\njohn\npaul\n"          # 36 characters, rows of 12
    ax = draw_layout(text, split_for_tbptt(np.arange(len(text)), 3, 4))
    shown = [t.get_text() for t in ax.texts]
    assert len(shown) == 36 and len(ax.patches) == 36
    assert "".join(shown[:3]) == "mme"        # step 0 of the rows "mary\nanna\nem", "ma\nlinda\nros", "e\njohn\npaul\n"
    with pytest.raises(ValueError, match="chunks should be the non-empty list"):
        draw_layout(text, [])
