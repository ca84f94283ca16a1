"""rnn_helpers.lessons.loss_cliff: the one-unit RNN, its gradient, and descent with clipping."""
import numpy as np
import pytest

from rnn_helpers.lessons.loss_cliff import cliff_loss, cliff_loss_and_grad, cliff_states, gradient_descent


def direct_loss(w, b, T=50, h0=0.5, target=0.7):
    h = h0
    for _ in range(T):
        h = w / (1.0 + np.exp(-h)) + b
    return (h - target) ** 2


def test_loss_matches_a_direct_scalar_computation():
    for w, b in [(1.0, 0.0), (5.0, -2.5), (9.0, -4.0), (-2.0, 1.0)]:
        assert cliff_loss(w, b) == pytest.approx(direct_loss(w, b), rel=1e-12)
    assert cliff_states(2.0, 0.1, T=3).shape == (4,)


def test_loss_broadcasts_over_a_grid():
    w = np.linspace(0, 10, 4)[None, :]
    b = np.linspace(-5, 0, 3)[:, None]
    grid = cliff_loss(w, b, T=20)
    assert grid.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            assert grid[i, j] == pytest.approx(direct_loss(w[0, j], b[i, 0], T=20), rel=1e-12)


@pytest.mark.parametrize("w,b", [(1.0, 0.0), (4.0, -2.0), (9.0, -4.0), (6.0, -3.2)])
def test_gradient_matches_centred_differences(w, b):
    T, eps = 30, 1e-6
    _, dw, db = cliff_loss_and_grad(w, b, T=T)
    num_w = (cliff_loss(w + eps, b, T=T) - cliff_loss(w - eps, b, T=T)) / (2 * eps)
    num_b = (cliff_loss(w, b + eps, T=T) - cliff_loss(w, b - eps, T=T)) / (2 * eps)
    assert dw == pytest.approx(num_w, rel=1e-5, abs=1e-7)
    assert db == pytest.approx(num_b, rel=1e-5, abs=1e-7)


def test_the_surface_has_a_cliff():
    # Along b = -3.5 the loss drops by more than a factor 3 within a tiny change of w,
    # and the gradient there is orders of magnitude larger than on the plateau.
    w = np.linspace(6.0, 7.0, 2001)
    loss = cliff_loss(w, -3.5)
    jump = np.argmax(np.abs(np.diff(loss)))
    assert loss[jump] / loss[jump + 1] > 3
    _, dw_wall, _ = cliff_loss_and_grad(np.linspace(w[jump], w[jump + 1], 1001), -3.5)
    _, dw_flat, _ = cliff_loss_and_grad(6.0, -3.5)
    assert np.abs(dw_wall).max() > 1e3 * abs(dw_flat)


def test_descent_without_clipping_jumps_and_with_clipping_does_not():
    free = gradient_descent((10.0, -5.0), 0.05, 100)
    clipped = gradient_descent((10.0, -5.0), 0.05, 100, clip="norm", threshold=5.0)
    by_value = gradient_descent((10.0, -5.0), 0.05, 100, clip="value", threshold=5.0)
    steps = lambda run: np.linalg.norm(np.diff(run["path"], axis=0), axis=1)
    assert steps(free).max() > 10
    assert steps(clipped).max() <= 0.05 * 5.0 + 1e-12
    assert np.abs(np.diff(by_value["path"], axis=0)).max() <= 0.05 * 5.0 + 1e-12
    assert free["path"].shape == (101, 2) and free["loss"].shape == (101,) and free["grad_norm"].shape == (100,)
    # the recorded loss is the loss at the recorded point
    assert free["loss"][37] == pytest.approx(cliff_loss(*free["path"][37]), rel=1e-12)


def test_norm_clipping_keeps_the_direction_of_the_step():
    run = gradient_descent((10.0, -5.0), 0.05, 40, clip="norm", threshold=1.0)
    for i in range(40):
        _, dw, db = cliff_loss_and_grad(*run["path"][i])
        step = run["path"][i] - run["path"][i + 1]
        cos = step @ np.array([dw, db]) / (np.linalg.norm(step) * np.hypot(dw, db))
        assert cos == pytest.approx(1.0, abs=1e-9)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="w and b"):
        cliff_loss(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="T"):
        cliff_loss(1.0, 0.0, T=0)
    with pytest.raises(ValueError, match="clip"):
        gradient_descent((1.0, 0.0), 0.1, 5, clip="both", threshold=1.0)
    with pytest.raises(ValueError, match="threshold"):
        gradient_descent((1.0, 0.0), 0.1, 5, clip="norm")
    with pytest.raises(ValueError, match="start"):
        gradient_descent((1.0, 0.0, 2.0), 0.1, 5)
    with pytest.raises(ValueError, match="w"):
        cliff_loss(np.array([1, 2]), 0.0)
