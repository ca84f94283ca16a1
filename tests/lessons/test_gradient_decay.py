"""rnn_helpers.lessons.gradient_decay against independent computations."""
import warnings

import numpy as np
import pytest

from rnn_helpers.lessons import gradient_decay as gd
from rnn_helpers.rnn import rnn_forward


@pytest.fixture(autouse=True)
def warnings_are_errors():
    """Overflow and underflow are part of these experiments: none may warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def recurrence(h_start, xs, U, W, b, f):
    """h_t = f(x_t @ U.T + h_{t-1} @ W.T + b) from h_start over the inputs xs (k, D)."""
    h = h_start
    for x in xs:
        h = f(x @ U.T + h @ W.T + b)
    return h


def finite_difference_jacobian(h_start, xs, U, W, b, f, eps=1e-6):
    """d h_end / d h_start (H, H) by centred differences of the real recurrence."""
    H = h_start.size
    J = np.empty((H, H))
    for j in range(H):
        step = np.zeros(H)
        step[j] = eps
        J[:, j] = (recurrence(h_start + step, xs, U, W, b, f)
                   - recurrence(h_start - step, xs, U, W, b, f)) / (2 * eps)
    return J


ACTIVATIONS = {"tanh": np.tanh, "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)), "linear": lambda a: a}


@pytest.mark.parametrize("nonlinearity", ["tanh", "sigmoid", "linear"])
def test_jacobian_norms_match_finite_differences_of_the_recurrence(nonlinearity):
    rng = np.random.default_rng(0)
    T, H, D = 7, 5, 3
    f = ACTIVATIONS[nonlinearity]
    U, W, b = rng.normal(size=(H, D)), rng.normal(size=(H, H)), rng.normal(size=H) * 0.3
    xs = rng.normal(size=(T, D))
    hs = [rng.normal(size=H) * 0.5]          # h_0
    for x in xs:
        hs.append(f(x @ U.T + hs[-1] @ W.T + b))
    hs = np.array(hs)                        # (T + 1, H): h_0 ... h_T
    norms = gd.jacobian_norms(W, hs[1:], nonlinearity) if nonlinearity != "linear" \
        else gd.jacobian_norms(W, T=T)
    assert norms.shape == (T + 1,)
    for k in range(T + 1):
        J = finite_difference_jacobian(hs[T - k], xs[T - k:], U, W, b, f)
        expected = np.linalg.norm(J, 2)
        assert norms[k] == pytest.approx(expected, rel=1e-6), f"k={k}"


def test_jacobian_norms_equal_the_explicit_product_in_the_right_order():
    rng = np.random.default_rng(1)
    T, H = 12, 6
    W = rng.normal(size=(H, H))
    hs = np.tanh(rng.normal(size=(T, H)))
    jacobians = [np.diag(1 - hs[t] ** 2) @ W for t in range(T)]   # J_1 ... J_T
    norms = gd.jacobian_norms(W, hs, "tanh")
    for k in range(1, T + 1):
        product = np.linalg.multi_dot(jacobians[T - k:][::-1] + [np.eye(H)])  # J_T ... J_{T-k+1}
        assert norms[k] == pytest.approx(np.linalg.norm(product, 2), rel=1e-10)
    wrong_order = np.linalg.multi_dot(jacobians[T - 4:] + [np.eye(H)])
    assert abs(norms[4] - np.linalg.norm(wrong_order, 2)) > 1e-6 * norms[4]


@pytest.mark.parametrize("eigenvalues", [
    [0.9, -0.5, 0.3, 0.1],
    [0.8 + 0.3j, 0.8 - 0.3j, -0.2, 0.6j, -0.6j],
])
def test_linear_normal_matrix_decays_exactly_like_rho_to_the_k(eigenvalues):
    W = gd.matrix_with_eigenvalues(eigenvalues, seed=3)
    rho = np.max(np.abs(eigenvalues))
    norms = gd.jacobian_norms(W, T=40)
    np.testing.assert_allclose(norms, rho ** np.arange(41), rtol=1e-9)
    assert gd.fitted_rate(norms) == pytest.approx(rho, rel=1e-9)
    assert gd.spectral_radius(W) == pytest.approx(rho, rel=1e-12)


def test_matrix_with_eigenvalues_is_q_lambda_q_transpose():
    eigenvalues = np.array([1.5, -0.7, 0.2, 0.05, -1.1])
    W = gd.matrix_with_eigenvalues(eigenvalues, seed=7)
    np.testing.assert_allclose(W, W.T, atol=1e-12)                     # symmetric
    np.testing.assert_allclose(np.linalg.eigvalsh(W), np.sort(eigenvalues), atol=1e-12)
    assert np.abs(W - np.diag(np.diag(W))).max() > 0.1                # a real rotation, not diagonal
    np.testing.assert_array_equal(W, gd.matrix_with_eigenvalues(eigenvalues, seed=7))
    assert not np.allclose(W, gd.matrix_with_eigenvalues(eigenvalues, seed=8))


def test_complex_eigenvalues_give_a_real_normal_matrix():
    eigenvalues = np.array([0.5 + 0.5j, 0.5 - 0.5j, 0.9, -0.3 + 0.1j, -0.3 - 0.1j])
    W = gd.matrix_with_eigenvalues(eigenvalues)
    assert W.dtype == np.float64
    np.testing.assert_allclose(W @ W.T, W.T @ W, atol=1e-12)
    np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(W)), np.sort_complex(eigenvalues), atol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), np.sort(np.abs(eigenvalues))[::-1], atol=1e-12)


def test_non_normal_matrix_keeps_eigenvalues_but_grows_transiently():
    eigenvalues = 0.8 * gd.base_spectrum(16, seed=2)
    W = gd.non_normal_matrix(eigenvalues, coupling=2.0, seed=2)
    np.testing.assert_allclose(np.sort_complex(np.linalg.eigvals(W)), np.sort_complex(eigenvalues), atol=1e-6)
    assert np.abs(W @ W.T - W.T @ W).max() > 0.1
    assert np.linalg.norm(W, 2) > 2.0 > gd.spectral_radius(W)
    norms = gd.jacobian_norms(W, T=150)
    assert norms[1:20].max() > 3.0              # transient growth although rho < 1
    assert norms[-1] < 1e-6                     # ... and eventual decay
    assert gd.fitted_rate(norms, start=100) == pytest.approx(0.8, rel=0.02)
    np.testing.assert_allclose(gd.non_normal_matrix(eigenvalues, coupling=0.0, seed=2),
                               gd.matrix_with_eigenvalues(eigenvalues, seed=2))


def test_run_recurrence_with_tanh_is_the_course_rnn():
    rng = np.random.default_rng(4)
    T, H = 6, 4
    W, inputs, h0 = rng.normal(size=(H, H)), rng.normal(size=(T, H)), rng.normal(size=H)
    hs = gd.run_recurrence(W, inputs, "tanh", h0)
    expected, _ = rnn_forward(inputs[:, None, :], h0[None], np.eye(H), W, np.zeros(H))
    np.testing.assert_allclose(hs, expected[:, 0], rtol=1e-12)


def test_derivative_from_state_matches_the_derivative_of_the_activation():
    a = np.linspace(-4, 4, 17)
    eps = 1e-6
    for name in ("tanh", "sigmoid", "linear"):
        f = ACTIVATIONS[name]
        numerical = (f(a + eps) - f(a - eps)) / (2 * eps)
        np.testing.assert_allclose(gd.derivative_from_state(f(a), name), numerical, rtol=1e-6, atol=1e-10)
    assert gd.GAMMA == {"linear": 1.0, "tanh": 1.0, "sigmoid": 0.25}


def test_exploding_norms_overflow_to_inf_without_warnings():
    W = gd.matrix_with_eigenvalues([3.0, 0.5])
    norms = gd.jacobian_norms(W, T=1000)
    assert np.isinf(norms[-1]) and norms[600] == pytest.approx(3.0 ** 600, rel=1e-9)
    curve = gd.decay_curve(1.5, 200, "linear", normal=False)
    assert np.all(np.isfinite(curve.log10_norms))
    hs = gd.run_recurrence(W, np.ones((1000, 2)), "linear")
    assert np.isinf(hs[-1]).any()


def test_saturated_sigmoid_vanishes_without_underflow_warnings():
    curve = gd.decay_curve(1.0, 200, "sigmoid", input_scale=10.0)
    assert np.all(np.isfinite(curve.log10_norms)) and curve.log10_norms[-1] < -150
    assert 0 < curve.mean_derivative < 0.25


@pytest.mark.parametrize("rho", [0.5, 0.9, 1.0, 1.1])
def test_decay_curve_linear_normal_matches_the_prediction(rho):
    curve = gd.decay_curve(rho, 50)
    k = np.arange(51)
    np.testing.assert_array_equal(curve.distances, k)
    np.testing.assert_allclose(curve.predicted, rho ** k, rtol=1e-12)
    np.testing.assert_allclose(curve.norms, rho ** k, rtol=1e-9)
    np.testing.assert_allclose(curve.log10_norms, k * np.log10(rho), atol=1e-9)
    assert curve.fitted_rate == pytest.approx(rho, rel=1e-9)
    assert curve.spectral_radius == rho and curve.max_singular_value == pytest.approx(rho, rel=1e-9)
    assert np.max(np.abs(curve.eigenvalues)) == pytest.approx(rho, rel=1e-9)
    assert curve.matrix.shape == (32, 32) and curve.hs.shape == (50, 32)


@pytest.mark.parametrize("nonlinearity", ["linear", "tanh", "sigmoid"])
@pytest.mark.parametrize("normal", [True, False])
@pytest.mark.parametrize("input_scale", [0.0, 2.0])
def test_measured_norms_never_exceed_the_bound(nonlinearity, normal, input_scale):
    """||J_T ... J_{T-k+1}|| <= (gamma sigma_max)^k: the sufficient condition's proof."""
    curve = gd.decay_curve(1.2, 60, nonlinearity, input_scale, normal=normal)
    assert curve.gamma == gd.GAMMA[nonlinearity]
    assert np.all(curve.log10_norms <= np.log10(curve.bound) + 1e-9)


def test_saturation_speeds_up_vanishing():
    rates = [gd.decay_curve(1.2, 100, "tanh", scale).fitted_rate for scale in (0.0, 0.5, 2.0, 5.0)]
    assert rates[0] == pytest.approx(1.2, rel=1e-6)       # h stays at 0, where tanh' = 1
    assert rates[0] > rates[1] > rates[2] > rates[3]
    assert rates[-1] < 0.5


def test_fitted_rate():
    norms = 3.0 * 0.7 ** np.arange(30)
    assert gd.fitted_rate(norms) == pytest.approx(0.7)
    norms[:5] = 100.0                                        # a transient before `start`
    assert gd.fitted_rate(norms, start=5) == pytest.approx(0.7)
    assert np.isnan(gd.fitted_rate(np.array([1.0, 0.0, 0.0])))
    assert gd.fitted_rate(np.array([1.0, 2.0, np.inf])) == pytest.approx(2.0)


def test_inputs_are_not_modified():
    rng = np.random.default_rng(5)
    W, hs = rng.normal(size=(4, 4)), np.tanh(rng.normal(size=(6, 4)))
    eigenvalues = np.array([0.5, 0.2 + 0.1j, 0.2 - 0.1j])
    copies = W.copy(), hs.copy(), eigenvalues.copy()
    gd.jacobian_norms(W, hs, "tanh")
    gd.matrix_with_eigenvalues(eigenvalues)
    gd.non_normal_matrix(eigenvalues)
    for before, after in zip(copies, (W, hs, eigenvalues)):
        np.testing.assert_array_equal(before, after)


def test_bad_inputs_raise_clear_errors():
    W = np.eye(3)
    with pytest.raises(ValueError, match="W"):
        gd.jacobian_norms(np.ones((3, 4)), T=5)
    with pytest.raises(ValueError, match="hs"):
        gd.jacobian_norms(W, np.ones((5, 4)), "tanh")
    with pytest.raises(ValueError, match="hs"):
        gd.jacobian_norms(W, nonlinearity="tanh", T=5)
    with pytest.raises(ValueError, match="not both"):
        gd.jacobian_norms(W, np.zeros((5, 3)), "tanh", T=5)
    with pytest.raises(ValueError, match="nonlinearity"):
        gd.jacobian_norms(W, np.zeros((5, 3)), "relu")
    with pytest.raises(ValueError, match="T"):
        gd.jacobian_norms(W, T=0)
    with pytest.raises(ValueError, match="floating-point"):
        gd.jacobian_norms(np.eye(3, dtype=int), T=3)
    with pytest.raises(ValueError, match="conjugate"):
        gd.matrix_with_eigenvalues([0.5 + 0.1j, 0.3])
    with pytest.raises(ValueError, match="eigenvalues"):
        gd.matrix_with_eigenvalues(np.eye(2))
    with pytest.raises(ValueError, match="coupling"):
        gd.non_normal_matrix([0.5, 0.2], coupling=-1.0)
    with pytest.raises(ValueError, match="spectral_radius"):
        gd.decay_curve(-0.5, 10)
    with pytest.raises(ValueError, match="input_scale"):
        gd.decay_curve(0.5, 10, "tanh", input_scale=float("nan"))
    with pytest.raises(ValueError, match="inputs"):
        gd.run_recurrence(W, np.zeros((4, 2)))
