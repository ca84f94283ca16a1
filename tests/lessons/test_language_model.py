"""rnn_helpers.lessons.language_model: the reference LM step and sampling distribution of notebook 07."""
import numpy as np
import pytest

from rnn_helpers.gradcheck import numerical_gradient, rel_error
from rnn_helpers.lessons.language_model import init_params, loss_and_grads, sampling_distribution


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


@pytest.mark.parametrize("kwargs, message", [
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
