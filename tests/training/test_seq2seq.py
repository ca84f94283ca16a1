"""Tests of rnn_helpers.training.seq2seq: gradients, decoding, beam search."""
import itertools

import numpy as np
import pytest

from rnn_helpers.training import seq2seq
from rnn_helpers.gradcheck import numerical_gradient
from rnn_helpers.rnn import softmax_cross_entropy

V, K = 6, 5          # source and target vocabulary sizes (target: 0 pad, 1 start, 2 end)


def tiny_batch(seed=0, S=5, N=3, L=4):
    rng = np.random.default_rng(seed)
    lengths = np.array([S, 3, 1][:N])
    mask = np.arange(S)[:, None] < lengths
    src = np.where(mask, rng.integers(1, V, size=(S, N)), 0)
    dec_in = rng.integers(0, K, size=(L, N))
    y = rng.integers(0, K, size=(L, N))
    y_mask = np.ones((L, N), bool)
    y_mask[-1, 1] = False
    return (src, mask, dec_in), y, y_mask


@pytest.mark.parametrize("attention,bidirectional,self_attention", [
    (None, True, False), ("additive", True, False), ("general", False, False), ("dot", True, False),
    ("cosine", False, False), ("scaled_dot", True, False), ("additive", True, True), (None, False, True)])
def test_loss_gradient_wrt_every_parameter(attention, bidirectional, self_attention):
    x, y, y_mask = tiny_batch()
    H = 3
    model = seq2seq.Seq2Seq(V, K, H, 2 * H if bidirectional else H, attention=attention,
                            attention_size=4, self_attention=self_attention, bidirectional=bidirectional,
                            rng=np.random.default_rng(1))
    assert any(k.startswith("self_") for k in model.params) == self_attention

    def loss(_):
        return softmax_cross_entropy(model.forward(x)[0], y, y_mask)[0]

    logits, cache, _ = model.forward(x)
    assert logits.shape == (4, 3, K)
    _, dlogits = seq2seq.sequence_loss(logits, (y, y_mask))
    grads = model.backward(dlogits, cache)
    assert set(grads) == set(model.params)
    for name, value in model.params.items():
        num = numerical_gradient(loss, value)
        scale = max(np.abs(num).max(), 1e-8)
        assert np.abs(grads[name] - num).max() / scale < 1e-6, name


def test_padding_does_not_change_the_output():
    x, _, _ = tiny_batch()
    src, mask, dec_in = x
    model = seq2seq.Seq2Seq(V, K, 3, 6, attention="additive", rng=np.random.default_rng(2))
    logits, _, _ = model.forward(x)
    longer = np.concatenate([src, np.full((2, 3), 4)]), np.concatenate([mask, np.zeros((2, 3), bool)])
    logits2, _, _ = model.forward((*longer, dec_in))
    np.testing.assert_allclose(logits, logits2, rtol=1e-12, atol=1e-12)


def test_greedy_decoding_stops_at_end_token_and_matches_greedy_search():
    x, _, _ = tiny_batch(3)
    src, mask, _ = x
    model = seq2seq.Seq2Seq(V, K, 3, 6, attention="dot", rng=np.random.default_rng(3))
    tokens, alphas = model.greedy_decode(src, mask, max_len=12)
    for n in range(src.shape[1]):
        step_fn, state = model.step_function(src[mask[:, n], n])
        expected, _ = seq2seq.greedy_search(step_fn, state, 1, 2, 12)
        np.testing.assert_array_equal(tokens[n, :len(expected)], expected)
        assert np.all(tokens[n, len(expected):] == 0)
    np.testing.assert_allclose(alphas.sum(axis=2), 1.0)
    assert np.all(alphas[:, ~mask.T] == 0.0)
    # A model that always prefers the end token stops after one step.
    model.params["out_c"][2] = 100.0
    tokens, alphas = model.greedy_decode(src, mask, max_len=12)
    assert tokens.shape == (3, 1) and np.all(tokens == 2) and alphas.shape == (1, 3, 5)


def toy_step_model(seed, K=4, H=3, end_id=2):
    """A fixed random 'language model': state' = tanh(W s + E[prev]); log-probs from V s'."""
    rng = np.random.default_rng(seed)
    E, W, Vo = rng.normal(size=(K, H)), rng.normal(size=(H, H)), 2.0 * rng.normal(size=(K, H))

    def step_fn(prev, state):
        new = np.tanh(W @ state + E[prev])
        return seq2seq.log_softmax(Vo @ new), new

    return step_fn, rng.normal(size=H)


def sequence_log_prob(step_fn, state, tokens, start_id=1):
    total, prev = 0.0, start_id
    for tok in tokens:
        log_probs, state = step_fn(prev, state)
        total += log_probs[tok]
        prev = tok
    return total


def test_beam_one_equals_greedy_and_wider_beams_do_not_lose():
    for seed in range(30):
        step_fn, state = toy_step_model(seed)
        greedy, greedy_lp = seq2seq.greedy_search(step_fn, state, 1, 2, 6)
        assert np.isclose(greedy_lp, sequence_log_prob(step_fn, state, greedy))
        beam1, lp1 = seq2seq.beam_search(step_fn, state, 1, 2, 1, 6)
        assert beam1 == greedy and np.isclose(lp1, greedy_lp)
        for width in (2, 3, 5):
            tokens, lp = seq2seq.beam_search(step_fn, state, 1, 2, width, 6)
            assert np.isclose(lp, sequence_log_prob(step_fn, state, tokens))
            if greedy[-1] == 2:
                assert lp >= greedy_lp - 1e-12, (seed, width)


def test_wide_beam_finds_the_most_likely_sequence():
    K, max_len = 4, 4
    for seed in range(5):
        step_fn, state = toy_step_model(seed, K=K)
        best = -np.inf
        for length in range(1, max_len + 1):
            for body in itertools.product([t for t in range(K) if t != 2], repeat=length - 1):
                best = max(best, sequence_log_prob(step_fn, state, list(body) + [2]))
        tokens, lp = seq2seq.beam_search(step_fn, state, 1, 2, K ** max_len, max_len)
        assert tokens[-1] == 2 and np.isclose(lp, best)


def test_length_penalty_ranks_finished_hypotheses_by_mean_log_prob():
    """The end token is likely at once (0.45), but a longer output is likely after token 3.

    Plain totals prefer [end] (log 0.45 = -0.80 against log(0.55 * 0.9 * 0.9) = -0.81);
    the mean log-probability per token prefers [3, 3, end] (-0.27 against -0.80).
    """
    K = 4
    table = {0: {2: 0.45, 3: 0.55}, 1: {3: 0.9, 2: 0.1}, 2: {2: 0.9, 3: 0.1}}

    def step_fn(prev, t):              # the state is the step number
        p = np.full(K, 1e-12)
        for k, pk in table.get(t, {2: 0.6, 3: 0.4}).items():
            p[k] = pk
        return np.log(p / p.sum()), t + 1

    short, short_lp = seq2seq.beam_search(step_fn, 0, 1, 2, 2, 5)
    assert short == [2] and np.isclose(short_lp, np.log(0.45))
    long_, long_lp = seq2seq.beam_search(step_fn, 0, 1, 2, 2, 5, length_penalty=1.0)
    assert long_ == [3, 3, 2] and np.isclose(long_lp, np.log(0.55 * 0.9 * 0.9))
    assert seq2seq.beam_search(step_fn, 0, 1, 2, 2, 5, length_penalty=0.5)[0] == [3, 3, 2]
    # within 2 steps only [end] and [3, end] finish, and [end] has the better mean
    assert seq2seq.beam_search(step_fn, 0, 1, 2, 2, 2, length_penalty=1.0)[0] == [2]
    with pytest.raises(ValueError, match="length_penalty"):
        seq2seq.beam_search(step_fn, 0, 1, 2, 2, 5, length_penalty=-1.0)


def test_length_penalty_zero_is_the_plain_search():
    for seed in range(10):
        step_fn, state = toy_step_model(seed)
        assert (seq2seq.beam_search(step_fn, state, 1, 2, 3, 6)
                == seq2seq.beam_search(step_fn, state, 1, 2, 3, 6, length_penalty=0.0))
        tokens, lp = seq2seq.beam_search(step_fn, state, 1, 2, 3, 6, length_penalty=1.0)
        assert np.isclose(lp, sequence_log_prob(step_fn, state, tokens))


def test_self_attention_weights_ignore_padding():
    x, _, _ = tiny_batch()
    src, mask, _ = x
    model = seq2seq.Seq2Seq(V, K, 3, 6, attention="additive", self_attention=True)
    attn = model.self_attention_weights(src, mask)
    assert attn.shape == (3, 5, 5)
    np.testing.assert_allclose(attn.sum(axis=-1), 1.0)
    assert np.all(attn.transpose(0, 2, 1)[~mask.T] == 0.0)
    with pytest.raises(ValueError, match="self_attention=True"):
        seq2seq.Seq2Seq(V, K, 3, 6).self_attention_weights(src, mask)


def test_reverse_index_is_an_involution():
    lengths = np.array([4, 2, 1])
    idx = seq2seq.reverse_index(lengths, 4)
    np.testing.assert_array_equal(idx[:, 0], [3, 2, 1, 0])
    np.testing.assert_array_equal(idx[:, 1], [1, 0, 2, 3])
    x = np.arange(12.0).reshape(4, 3, 1)
    twice = np.take_along_axis(np.take_along_axis(x, idx[..., None], 0), idx[..., None], 0)
    np.testing.assert_array_equal(twice, x)


def test_errors():
    model = seq2seq.Seq2Seq(V, K, 3, 6, attention="additive")
    x, _, _ = tiny_batch()
    src, mask, dec_in = x
    with pytest.raises(ValueError, match="src_mask should mark"):
        model.forward((src, mask[::-1], dec_in))
    with pytest.raises(ValueError, match="src should hold ids"):
        model.forward((src + V, mask, dec_in))
    with pytest.raises(ValueError, match="src should be an integer array"):
        model.forward((src.astype(float), mask, dec_in))
    with pytest.raises(ValueError, match="attention should be None or one of"):
        seq2seq.Seq2Seq(V, K, attention="luong")
    with pytest.raises(ValueError, match="dec_hidden"):
        seq2seq.Seq2Seq(V, K, 3, 5, attention="dot")
    step_fn, state = toy_step_model(0)
    with pytest.raises(ValueError, match="beam_width"):
        seq2seq.beam_search(step_fn, state, 1, 2, 0, 5)


def test_attention_explorer_updates_and_reports_bad_text():
    from rnn_helpers.tasks import dates
    from rnn_helpers.lessons.attention_explorer import AttentionExplorer

    tv = dates.TARGET_VOCAB
    model = seq2seq.Seq2Seq(len(dates.SOURCE_VOCAB), len(tv), 4, 8, attention="general",
                            start_id=tv.start_id, end_id=tv.end_id, rng=np.random.default_rng(4))
    explorer = AttentionExplorer(model, ["3 May 1979", "1979/05/03"], dpi=30)
    assert isinstance(explorer.prediction, str)
    assert explorer.alpha.shape[1] == len("3 May 1979")
    np.testing.assert_allclose(explorer.alpha.sum(axis=1), 1.0, rtol=1e-6)
    assert "image/png" in explorer._repr_mimebundle_()
    explorer.controls["text"].value = "1979/05/03"
    assert explorer.alpha.shape[1] == 10
    explorer.controls["text"].value = "3 May 1979 ✓"
    assert "cannot read" in explorer.message.value
    with pytest.raises(ValueError, match="attention"):
        AttentionExplorer(seq2seq.Seq2Seq(len(dates.SOURCE_VOCAB), len(tv), attention=None), ["x"])
