"""rnn_helpers.training.torch_models against the course's numpy models (needs torch)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rnn_helpers.training import torch_models  # noqa: E402
from rnn_helpers.training.sequence_model import SequenceModel  # noqa: E402


def test_adding_lstm_is_the_sequence_model_with_its_weights():
    course = SequenceModel("lstm", 2, 5, 1, readout="last_step", rng=np.random.default_rng(0))
    model = torch_models.load_sequence_model(torch_models.AddingLSTM(2, 5).double(), course.params)
    x = np.random.default_rng(1).normal(size=(7, 4, 2))
    expected, _, _ = course.forward(x)
    with torch.no_grad():
        got = model(torch.tensor(x)).numpy()
    assert got.shape == (4, 1)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_train_step_clips_and_returns_the_loss_before_the_update():
    model = torch.nn.Linear(2, 1, dtype=torch.float64)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, -1.0]]))
        model.bias.zero_()
    x, y = torch.tensor([[3.0, 0.0]], dtype=torch.float64), torch.tensor([[0.0]], dtype=torch.float64)
    loss_fn = lambda m, batch: ((m(batch[0]) - batch[1]) ** 2).mean()  # noqa: E731
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss, norm = torch_models.train_step(model, optimizer, loss_fn, (x, y), max_norm=1.0)
    # prediction 3, loss 9; gradient 2 * 3 * [3, 0, 1] = [18, 0, 6], norm sqrt(360)
    assert isinstance(loss, float) and isinstance(norm, float)
    assert loss == pytest.approx(9.0) and norm == pytest.approx(np.sqrt(360.0))
    step = 0.1 * np.array([18.0, 0.0, 6.0]) / np.sqrt(360.0)
    np.testing.assert_allclose(model.weight.detach().numpy()[0], [1.0 - step[0], -1.0], rtol=1e-6)
    np.testing.assert_allclose(model.bias.detach().numpy(), [-step[2]], rtol=1e-6)


def date_batch(lengths, S, V, L, K, seed):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths)
    src = torch.randint(1, V, (S, len(lengths)), generator=g)
    src[torch.arange(S)[:, None] >= lengths[None]] = 0
    return src, lengths, torch.randint(0, K, (L, len(lengths)), generator=g)


def test_padding_changes_nothing():
    """A sequence gives the same encoder states, summary and logits whatever the batch's padding."""
    torch.manual_seed(0)
    model = torch_models.DateSeq2Seq(9, 6, enc_hidden=4, dec_hidden=5, attention_size=3).double()
    src, lengths, dec_in = date_batch([5, 2, 3], S=5, V=9, L=4, K=6, seed=1)
    h, summary = model.encode(src, lengths)
    logits = model(src, lengths, dec_in)
    for n, length in enumerate(lengths.tolist()):
        alone = src[:length, n:n + 1]
        h1, summary1 = model.encode(alone, lengths[n:n + 1])
        torch.testing.assert_close(h[:length, n], h1[:, 0])
        torch.testing.assert_close(summary[n], summary1[0])
        assert torch.all(h[length:, n] == 0)
        torch.testing.assert_close(logits[:, n], model(alone, lengths[n:n + 1], dec_in[:, n:n + 1])[:, 0])
    # the summary is [forward state after the last real token; backward state at position 0]
    torch.testing.assert_close(summary[1], torch.cat([h[1, 1, :4], h[0, 1, 4:]]))


def test_greedy_decode_feeds_back_its_tokens_and_pads_after_the_end():
    torch.manual_seed(2)
    model = torch_models.DateSeq2Seq(9, 6, enc_hidden=4, dec_hidden=5, attention_size=3, end_id=2)
    src, lengths, _ = date_batch([4, 3], S=4, V=9, L=1, K=6, seed=3)
    tokens = model.greedy_decode(src, lengths, max_len=6)
    assert tokens.shape[0] == 2 and tokens.shape[1] <= 6
    for n in range(2):
        row = tokens[n].tolist()
        length = row.index(model.end_id) + 1 if model.end_id in row else len(row)
        dec_in = torch.tensor([model.start_id] + row[:length - 1])[:, None]
        # teacher forcing with the decoded tokens reproduces their argmax
        logits = model(src[:, n:n + 1], lengths[n:n + 1], dec_in)
        assert logits.argmax(dim=-1)[:, 0].tolist() == row[:length]
        assert all(t == model.pad_id for t in row[length:])


def test_sequence_loss_is_the_course_masked_cross_entropy():
    from rnn_helpers.rnn import softmax_cross_entropy

    rng = np.random.default_rng(4)
    logits, targets = rng.normal(size=(3, 4, 5)), rng.integers(0, 5, size=(3, 4))
    mask = rng.random((3, 4)) < 0.7
    expected, _ = softmax_cross_entropy(logits, targets, mask)
    got = torch_models.sequence_loss(torch.tensor(logits), torch.tensor(targets), torch.tensor(mask))
    assert got.item() == pytest.approx(expected, rel=1e-12)


def test_train_records_the_history_and_checks_steps():
    torch.manual_seed(5)
    model = torch_models.AddingLSTM(2, 3)
    x, y = torch.randn(6, 4, 2), torch.randn(4, 1)
    history = torch_models.train(model, torch.optim.Adam(model.parameters(), lr=0.05),
                                 lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(), lambda step: (x, y),
                                 20, max_norm=1.0, progress=False)
    assert len(history["loss"]) == len(history["grad_norm"]) == 20 and history["seconds"] > 0
    assert history["loss"][-1] < history["loss"][0]
    with pytest.raises(ValueError, match="steps"):
        torch_models.train(model, None, None, None, 0, 1.0)


def test_default_device_is_a_torch_device():
    assert torch_models.default_device().type in ("cpu", "cuda")
