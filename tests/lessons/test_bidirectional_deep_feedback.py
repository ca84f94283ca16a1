"""rnn_helpers.lessons.bidirectional_deep_feedback: notebook 08's typical wrong answers are named, right ones are not."""
import numpy as np

from rnn_helpers import bidirectional, deep_rnn
from rnn_helpers.lessons import bidirectional_deep_feedback as feedback


def _birnn(seed=0, T=5, N=2, D=3, H=4):
    rng = np.random.default_rng(seed)
    params = [0.6 * rng.normal(size=shape) for shape in [(H, D), (H, H), (H,)] * 2]
    return rng.normal(size=(T, N, D)), rng.normal(size=(2, N, H)), params, rng.normal(size=(T, N, 2 * H))


def test_birnn_forward_mistakes_are_named():
    x, h0, params, _ = _birnn()
    right = bidirectional.birnn_forward(x, h0, *params)[0]
    H = h0.shape[-1]
    assert feedback.birnn_forward_mistake(bidirectional, right, x, h0, params) is None
    swapped = np.concatenate([right[..., H:], right[..., :H]], axis=-1)
    assert "swapped" in feedback.birnn_forward_mistake(bidirectional, swapped, x, h0, params)
    computation_order = np.concatenate([right[..., :H], right[::-1, :, H:]], axis=-1)
    assert "order they were computed" in feedback.birnn_forward_mistake(bidirectional, computation_order, x, h0, params)


def test_birnn_backward_mistakes_are_named():
    x, h0, params, dhs = _birnn(1)
    right = bidirectional.birnn_backward(dhs, bidirectional.birnn_forward(x, h0, *params)[1])
    assert feedback.birnn_backward_mistake(bidirectional, right, dhs, x, h0, params) is None
    dh0_swapped = (right[0], right[1][::-1]) + tuple(right[2:])
    assert "dh0" in feedback.birnn_backward_mistake(bidirectional, dh0_swapped, dhs, x, h0, params)


def test_stacked_backward_mistakes_are_named():
    x, h0, layers, caches, dhs = feedback.stacked_test_inputs(deep_rnn, np.random.default_rng(2), 4, 2, 3, 5, 3)
    assert len(caches) == 3
    dx, dh0, grads = deep_rnn.stacked_rnn_backward(dhs, deep_rnn.stacked_rnn_forward(x, h0, layers)[1])
    assert feedback.stacked_backward_mistake(deep_rnn, (dx, dh0, grads), dhs, x, h0, layers) is None
    assert "reverse order" in feedback.stacked_backward_mistake(deep_rnn, (dx, dh0[::-1], grads), dhs, x, h0, layers)
    assert "grads is in the reverse order" in feedback.stacked_backward_mistake(
        deep_rnn, (dx, dh0, grads[::-1]), dhs, x, h0, layers)
