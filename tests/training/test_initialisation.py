"""rnn_helpers.training.initialisation: orthogonality, determinism, the sign correction, errors."""
import numpy as np
import pytest

from rnn_helpers.training.initialisation import identity, orthogonal, scaled_normal


@pytest.mark.parametrize("n", [1, 2, 5, 32])
def test_square_orthogonal_matrix_has_orthonormal_rows_and_columns(n):
    Q = orthogonal(n, np.random.default_rng(n))
    assert Q.shape == (n, n)
    np.testing.assert_allclose(Q.T @ Q, np.eye(n), atol=1e-12)
    np.testing.assert_allclose(Q @ Q.T, np.eye(n), atol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(Q, compute_uv=False), np.ones(n), rtol=1e-12)


@pytest.mark.parametrize("shape", [(7, 3), (3, 7)])
def test_rectangular_orthogonal_matrix_is_orthonormal_along_its_short_side(shape):
    Q = orthogonal(shape, np.random.default_rng(0), gain=2.0)
    assert Q.shape == shape
    small = min(shape)
    gram = Q.T @ Q if shape[0] >= shape[1] else Q @ Q.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-12)


def test_gain_scales_every_singular_value():
    Q = orthogonal(6, np.random.default_rng(3), gain=0.5)
    np.testing.assert_allclose(np.linalg.svd(Q, compute_uv=False), np.full(6, 0.5), rtol=1e-12)


def test_orthogonal_follows_the_documented_recipe_with_sign_correction():
    n = 5
    A = np.random.default_rng(11).standard_normal((n, n))
    q, r = np.linalg.qr(A)
    expected = q @ np.diag(np.sign(np.diag(r)))
    Q = orthogonal(n, np.random.default_rng(11))
    np.testing.assert_allclose(Q, expected, rtol=1e-12)
    # With the correction, Q^T A = R has a positive diagonal.
    assert np.all(np.diag(Q.T @ A) > 0)


def test_orthogonal_is_deterministic_given_the_rng_and_differs_between_seeds():
    a = orthogonal(8, np.random.default_rng(5))
    b = orthogonal(8, np.random.default_rng(5))
    c = orthogonal(8, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 0.1
    assert np.abs(a - np.eye(8)).max() > 0.1


def test_orthogonal_matrices_are_uniformly_distributed():
    # For a Haar-distributed Q every entry has mean 0 and variance 1/n.
    rng = np.random.default_rng(0)
    n = 4
    samples = np.array([orthogonal(n, rng) for _ in range(4000)])
    np.testing.assert_allclose(samples.mean(axis=0), np.zeros((n, n)), atol=0.03)
    np.testing.assert_allclose(samples.var(axis=0), np.full((n, n), 1.0 / n), atol=0.02)


def test_identity_and_scaled_normal():
    np.testing.assert_array_equal(identity(3, scale=0.5), 0.5 * np.eye(3))
    W = scaled_normal((400, 100), np.random.default_rng(0), gain=2.0)
    assert abs(W.std() - 2.0 / np.sqrt(100)) < 0.005


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, (3,), (3, 0), "4"])
def test_orthogonal_rejects_bad_sizes(bad):
    with pytest.raises(ValueError, match="shape_or_n|n should"):
        orthogonal(bad, np.random.default_rng(0))


def test_bad_rng_and_sizes_raise_value_errors():
    with pytest.raises(ValueError, match="rng"):
        orthogonal(3, 0)
    with pytest.raises(ValueError, match="n should"):
        identity(0)
    with pytest.raises(ValueError, match="gain"):
        orthogonal(3, np.random.default_rng(0), gain=np.inf)
