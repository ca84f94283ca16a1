import numpy as np
import pytest

from rnn_helpers.gradcheck import numerical_gradient, rel_error


def test_rel_error_definition():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    assert rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    assert rel_error(np.array([0.0]), np.array([1e-10])) == pytest.approx(1e-10 / 1e-8)
    with pytest.raises(ValueError, match="same shape"):
        rel_error(np.zeros(2), np.zeros(3))


def test_numerical_gradient_of_a_scalar_function():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = numerical_gradient(lambda a: np.sum(a ** 3), x)
    np.testing.assert_allclose(grad, 3 * x ** 2, rtol=1e-8)


def test_numerical_gradient_with_upstream_gradient_and_restoring_x():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 4))
    x = rng.normal(size=(4, 2))
    before = x.copy()
    df = rng.normal(size=(3, 2))
    grad = numerical_gradient(lambda a: A @ a, x, df)
    np.testing.assert_allclose(grad, A.T @ df, rtol=1e-8)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])
    def f(a):
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_numerical_gradient_rejects_bad_arguments():
    with pytest.raises(ValueError, match="floating-point numpy array"):
        numerical_gradient(lambda a: a.sum(), np.array([1, 2]))
    with pytest.raises(ValueError, match="pass its upstream gradient as df"):
        numerical_gradient(lambda a: a * 2, np.ones(3))
    with pytest.raises(ValueError, match="df should have the shape of f"):
        numerical_gradient(lambda a: a * 2, np.ones(3), np.ones(2))
