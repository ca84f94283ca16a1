"""rnn_helpers.lessons.language_model: the reference LM step and sampling distribution of notebook 07."""
import numpy as np
import pytest

from rnn_helpers.gradcheck import numerical_gradient, rel_error
from rnn_helpers.lessons import language_model
from rnn_helpers.lessons.language_model import init_params, loss_and_grads, sampling_distribution
from rnn_helpers.optim import clip_grad_norm


def test_loss_and_grads_pass_a_gradient_check():
    rng = np.random.default_rng(0)
    params = init_params(7, 3, 4, rng)
    tokens = np.array([[1, 1], [2, 1], [1, 6], [0, 1], [5, 5]])   # repeated tokens
    targets = rng.integers(0, 7, size=(5, 2))
    h0, c0 = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    loss, grads, (h_T, c_T) = loss_and_grads(params, tokens, targets, h0, c0)
    assert set(grads) == set(params) and h_T.shape == c_T.shape == (2, 4)
    for name in params:
        def f(value, name=name):
            return loss_and_grads({**params, name: value}, tokens, targets, h0, c0)[0]
        assert rel_error(grads[name], numerical_gradient(f, params[name].copy())) < 1e-6, name


def test_rnn_loss_and_grads_pass_a_gradient_check():
    rng = np.random.default_rng(3)
    params = init_params(6, 3, 5, rng, cell="rnn")
    assert params["U"].shape == (5, 3) and params["W"].shape == (5, 5) and language_model.cell_of(params) == "rnn"
    tokens, targets = np.array([[1, 1], [2, 1], [5, 0]]), rng.integers(0, 6, size=(3, 2))
    h0 = rng.normal(size=(2, 5))
    loss, grads, (h_T,) = language_model.rnn_loss_and_grads(params, tokens, targets, h0)
    assert set(grads) == set(params) and h_T.shape == (2, 5)
    for name in params:
        def f(value, name=name):
            return language_model.rnn_loss_and_grads({**params, name: value}, tokens, targets, h0)[0]
        assert rel_error(grads[name], numerical_gradient(f, params[name].copy())) < 1e-6, name


def test_sizes_of_the_two_models():
    lstm, rnn = init_params(96, 32, 128, np.random.default_rng(0)), init_params(96, 32, 250, np.random.default_rng(0),
                                                                                  cell="rnn")
    assert language_model.count_parameters(lstm) == 96 * 32 + 4 * 128 * (32 + 128 + 1) + 96 * 128 + 96
    assert language_model.count_parameters(rnn) == 96 * 32 + 250 * (32 + 250 + 1) + 96 * 250 + 96
    assert language_model.multiply_adds_per_token(lstm) == 4 * 128 * (32 + 128) + 96 * 128
    with pytest.raises(ValueError, match="cell should be one of"):
        init_params(5, 2, 3, np.random.default_rng(0), cell="gru")


def test_learning_rate_sweep_holds_one_perplexity_per_model_seed_and_rate():
    sweep = language_model.LEARNING_RATE_SWEEP
    assert set(sweep["perplexity"]) == set(sweep["rates"]) == {"LSTM", "RNN"}
    for name, by_seed in sweep["perplexity"].items():
        assert tuple(by_seed) == sweep["seeds"]
        assert all(len(values) == len(sweep["rates"][name]) and min(values) > 1 for values in by_seed.values())


@pytest.mark.parametrize("cell", ["lstm", "rnn"])
def test_forward_step_and_held_out_log_probs_agree(cell):
    rng = np.random.default_rng(4)
    params = init_params(7, 3, 4, rng, cell=cell)
    stream = rng.integers(0, 7, size=41)
    logits, _ = language_model.forward(params, stream[:-1, None], language_model.zero_state(params, 1))
    state, stepped = language_model.zero_state(params, 1), []
    for token in stream[:-1]:
        step_logits, state = language_model.step(params, np.array([token]), state)
        stepped.append(step_logits)
    np.testing.assert_allclose(np.array(stepped), logits, atol=1e-12)
    shifted = logits[:, 0] - logits[:, 0].max(axis=1, keepdims=True)
    want = shifted[np.arange(40), stream[1:]] - np.log(np.exp(shifted).sum(axis=1))
    log_probs, targets = language_model.held_out_log_probs(params, stream, streams=1, chunk=7)
    np.testing.assert_allclose(log_probs, want, atol=1e-12)
    np.testing.assert_array_equal(targets, stream[1:])
    four, targets4 = language_model.held_out_log_probs(params, stream, streams=4, chunk=3)   # 4 pieces of 10
    np.testing.assert_array_equal(targets4, stream[1:])
    np.testing.assert_allclose(four[:10], want[:10], atol=1e-12)          # the first piece starts like the stream


def test_initial_loss_is_about_log_vocabulary_per_step():
    params = init_params(50, 8, 16, np.random.default_rng(1))
    tokens = np.random.default_rng(2).integers(0, 50, size=(10, 4))
    loss, _, _ = loss_and_grads(params, tokens, tokens, np.zeros((4, 16)), np.zeros((4, 16)))
    assert loss / 10 == pytest.approx(np.log(50), rel=0.1)


def test_sampling_distribution_temperature_and_top_k():
    logits = np.array([[1.0, 3.0, 2.0, 0.0]])
    plain = sampling_distribution(logits)
    np.testing.assert_allclose(plain, np.exp(logits) / np.exp(logits).sum())
    hot = sampling_distribution(logits, temperature=2.0)
    np.testing.assert_allclose(hot, np.exp(logits / 2) / np.exp(logits / 2).sum())
    top2 = sampling_distribution(logits, top_k=2)
    np.testing.assert_allclose(top2, [[0, np.e / (np.e + 1), 1 / (np.e + 1), 0]])
    np.testing.assert_array_equal(sampling_distribution(logits, temperature=0), [[0, 1, 0, 0]])
    np.testing.assert_array_equal(sampling_distribution(logits * 1e3, temperature=1e-3), [[0, 1, 0, 0]])
    ties = sampling_distribution(np.zeros((1, 5)), top_k=3)
    np.testing.assert_allclose(ties, [[1 / 3] * 3 + [0, 0]])      # exactly k kept, lower indices


def test_sampling_distribution_top_p_keeps_the_smallest_nucleus():
    logits = np.log(np.array([[0.5, 0.25, 0.15, 0.1], [0.25, 0.25, 0.25, 0.25]]))
    np.testing.assert_allclose(sampling_distribution(logits, top_p=0.7)[0], [2 / 3, 1 / 3, 0, 0])
    np.testing.assert_allclose(sampling_distribution(logits, top_p=0.8)[0], np.array([0.5, 0.25, 0.15, 0]) / 0.9)
    np.testing.assert_allclose(sampling_distribution(logits, top_p=0.3)[1], [0.5, 0.5, 0, 0])    # ties: lower ids
    np.testing.assert_allclose(sampling_distribution(logits, top_p=1e-9)[0], [1, 0, 0, 0])      # the top token stays
    np.testing.assert_allclose(sampling_distribution(logits, top_p=1.0), np.exp(logits))
    # top-k first, then top-p on the renormalised top-k distribution
    np.testing.assert_allclose(sampling_distribution(logits, top_k=2, top_p=0.7)[0], [2 / 3, 1 / 3, 0, 0])
    np.testing.assert_allclose(sampling_distribution(logits, top_k=2, top_p=0.6)[0], [1, 0, 0, 0])


def test_sample_tokens_and_generate():
    params = init_params(5, 2, 3, np.random.default_rng(6))
    picks = language_model.sample_tokens(np.tile([0.0, 0.2, 0.8, 0.0, 0.0], (3000, 1)), np.random.default_rng(0))
    assert set(np.unique(picks)) == {1, 2} and abs(np.mean(picks == 2) - 0.8) < 0.03
    prompt = np.array([[1, 2, 3], [0, 0, 4]])
    ids, log_probs = language_model.generate(params, prompt, 6, np.random.default_rng(1), temperature=0)
    assert ids.shape == log_probs.shape == (6, 3) and np.all(log_probs <= 0)
    again, _ = language_model.generate(params, prompt, 6, np.random.default_rng(2), temperature=0)
    np.testing.assert_array_equal(ids, again)                                 # greedy: no randomness


def test_train_lowers_the_loss_and_uses_the_parts_it_is_given():
    stream = np.tile(np.array([0, 1, 2, 3, 2, 1]), 50)
    params = init_params(4, 3, 8, np.random.default_rng(0))
    calls = []

    def clip(grads, max_norm):
        calls.append(max_norm)
        return clip_grad_norm(grads, max_norm)

    losses, evaluations = language_model.train(params, stream, 60, np.random.default_rng(1), 0.05, window=6, batch=4,
                                               clip=clip, progress=False, evaluate=(20, lambda p: p["c"].copy()))
    assert losses.shape == (60,) and losses[-5:].mean() < 0.5 * losses[:5].mean()
    assert calls == [5.0] * 60 and [step for step, _ in evaluations] == [20, 40, 60]


@pytest.mark.parametrize("kwargs, message", [
    ({"top_p": 0.0}, r"top_p should be None or a number in \(0, 1\]"),
    ({"top_p": 1.5}, r"top_p should be None or a number in \(0, 1\]"),
    ({"temperature": -1.0}, "temperature should be a non-negative"),
    ({"top_k": 0}, r"top_k should be None or an int in \[1, 4\]"),
    ({"top_k": 5}, r"top_k should be None or an int in \[1, 4\]"),
])
def test_sampling_distribution_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sampling_distribution(np.zeros((2, 4)), **kwargs)


def test_reference_building_blocks_survive_reference_disabled_and_are_restored():
    from rnn_helpers import grading
    from rnn_helpers.lessons.language_model import BUILDING_BLOCKS, reference_building_blocks

    def mine(*args):
        raise AssertionError("the student's own layer was called")

    namespace = {"embedding_forward": mine}
    with reference_building_blocks(namespace), grading.reference_disabled():
        out, _ = namespace["embedding_forward"](np.array([[1]]), np.eye(2))
        loss, _ = namespace["softmax_cross_entropy"](np.zeros((1, 1, 3)), np.array([[0]]))
        assert set(BUILDING_BLOCKS) <= set(namespace)
    np.testing.assert_array_equal(out, [[[0.0, 1.0]]])
    assert loss == pytest.approx(np.log(3))
    assert namespace == {"embedding_forward": mine}
