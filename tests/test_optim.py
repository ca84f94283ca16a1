import numpy as np
import pytest

from rnn_helpers.optim import SGD, Adam, clip_grad_norm, clip_grad_value, global_norm


def grads():
    return {"W": np.array([[3.0, 0.0], [0.0, 0.0]]), "b": np.array([4.0, 0.0])}


def test_clip_grad_norm_rescales_keeping_direction():
    g = grads()
    clipped, total = clip_grad_norm(g, 1.0)
    assert total == pytest.approx(5.0)
    assert global_norm(clipped) == pytest.approx(1.0)
    np.testing.assert_allclose(clipped["W"], g["W"] / 5)
    np.testing.assert_allclose(clipped["b"], g["b"] / 5)
    assert g["W"][0, 0] == 3.0, "input modified"
    unchanged, total = clip_grad_norm(g, 10.0)
    np.testing.assert_array_equal(unchanged["b"], g["b"])
    assert unchanged["b"] is not g["b"], "clip_grad_norm must return new arrays"


def test_clip_grad_value_clips_each_entry():
    g = grads()
    clipped = clip_grad_value(g, 3.5)
    np.testing.assert_array_equal(clipped["b"], [3.5, 0.0])
    np.testing.assert_array_equal(clipped["W"], g["W"])
    assert g["b"][0] == 4.0


@pytest.mark.parametrize("call, message", [
    (lambda: clip_grad_norm(grads(), 0.0), "max_norm should be a positive"),
    (lambda: clip_grad_value(grads(), -1), "value should be a positive"),
    (lambda: clip_grad_norm([np.ones(2)], 1.0), "grads should be a dict"),
    (lambda: clip_grad_norm({"W": np.ones(2, dtype=int)}, 1.0), r"grads\['W'\] should be a floating-point"),
])
def test_clipping_rejects_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_sgd_and_momentum():
    params = {"w": np.array([1.0, 2.0])}
    SGD(lr=0.1).step(params, {"w": np.array([1.0, -1.0])})
    np.testing.assert_allclose(params["w"], [0.9, 2.1])
    opt = SGD(lr=1.0, momentum=0.5)
    params = {"w": np.zeros(1)}
    opt.step(params, {"w": np.ones(1)})
    opt.step(params, {"w": np.ones(1)})
    np.testing.assert_allclose(params["w"], [-(1.0 + 1.5)])


def test_adam_first_step_moves_by_lr_in_the_sign_of_the_gradient():
    params = {"w": np.array([1.0, 1.0])}
    Adam(lr=0.01).step(params, {"w": np.array([5.0, -0.001])})
    np.testing.assert_allclose(params["w"], [0.99, 1.01], rtol=1e-6)


def test_adam_minimises_a_quadratic():
    rng = np.random.default_rng(0)
    target = rng.normal(size=5)
    params = {"w": np.zeros(5)}
    opt = Adam(lr=0.05)
    for _ in range(2000):
        opt.step(params, {"w": 2 * (params["w"] - target)})
    np.testing.assert_allclose(params["w"], target, atol=1e-3)


def test_optimiser_rejects_mismatched_grads():
    with pytest.raises(ValueError, match=r"grads\['w'\] should have shape \(2,\)"):
        Adam().step({"w": np.zeros(2)}, {"w": np.zeros(3)})
    with pytest.raises(ValueError, match="which params does not have"):
        SGD(0.1).step({"w": np.zeros(2)}, {"v": np.zeros(2)})
    with pytest.raises(ValueError, match="beta1"):
        Adam(beta1=1.0)


def test_global_norm_of_huge_gradients_is_inf_without_warnings():
    with np.errstate(all="raise"):
        assert global_norm({"w": np.array([1e200, 1e200])}) == np.inf
