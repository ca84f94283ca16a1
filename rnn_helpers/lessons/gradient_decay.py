"""Why gradients vanish or explode in a recurrent network: products of Jacobians.

One step of the recurrence is ``h_t = f(a_t)`` with ``a_t = W h_{t-1} + U x_t + b``
(column vectors; in code ``f(x_t @ U.T + h_prev @ W.T + b)``). Its Jacobian is

    dh_t / dh_{t-1} = diag(f'(a_t)) W,

so the sensitivity of the last state to a state k steps earlier is the product

    dh_T / dh_{T-k} = J_T J_{T-1} ... J_{T-k+1},    J_t = diag(f'(a_t)) W,

and backpropagation multiplies the gradient by its transpose. In the linear case
(f' = 1) the product is W^k, and for W = Q diag(lambda) Q^T its norm is rho^k, with rho
the spectral radius (largest |lambda|). With a nonlinearity, |f'| <= gamma (gamma = 1 for
tanh, 1/4 for the logistic sigmoid), so ||J_t|| <= gamma * sigma_max(W): if
gamma * sigma_max(W) < 1 the gradient vanishes whatever the trajectory.

Functions: ``run_recurrence`` (the trajectory), ``jacobian_norms`` (the measured norms),
``matrix_with_eigenvalues`` / ``non_normal_matrix`` (test matrices with a chosen
spectrum), ``fitted_rate`` (per-step factor of a measured curve) and ``decay_curve``
(everything the decay explorer plots).
"""
from typing import NamedTuple

import numpy as np

from ..training import initialisation
from ..lstm import sigmoid
from ..validation import as_float_array

NONLINEARITIES = ("linear", "tanh", "sigmoid")

#: Upper bound of |f'| for each nonlinearity (tanh'(0) = 1, sigmoid'(0) = 1/4).
GAMMA = {"linear": 1.0, "tanh": 1.0, "sigmoid": 0.25}


def _check_nonlinearity(nonlinearity):
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity should be one of {NONLINEARITIES}, but got {nonlinearity!r}")


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} should be an integer >= {minimum}, but got {value!r}")
    return int(value)


def _check_finite(name, value, minimum=None):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or (minimum is not None and value < minimum):
        bound = "" if minimum is None else f" >= {minimum}"
        raise ValueError(f"{name} should be a finite number{bound}, but got {value!r}")
    return float(value)


def _activate(a, nonlinearity):
    if nonlinearity == "tanh":
        return np.tanh(a)
    if nonlinearity == "sigmoid":
        return sigmoid(a)
    return a


def derivative_from_state(hs, nonlinearity):
    """f'(a_t) written with the state h_t = f(a_t): 1 for linear, 1 - h^2 for tanh,
    h (1 - h) for the sigmoid. hs: array of any shape -> array of the same shape."""
    _check_nonlinearity(nonlinearity)
    hs = np.asarray(hs, dtype=np.float64)
    if nonlinearity == "tanh":
        return 1.0 - hs ** 2
    if nonlinearity == "sigmoid":
        return hs * (1.0 - hs)
    return np.ones_like(hs)


def run_recurrence(W, inputs, nonlinearity="tanh", h0=None):
    """The trajectory h_t = f(inputs_t + W h_{t-1}) of one sequence.

    W (H, H); inputs (T, H): the input drive U x_t + b of every step, already projected;
    h0 (H,), zeros by default. Returns hs (T, H) = h_1 ... h_T. The linear recurrence may
    overflow to inf for a spectral radius above 1 (no warning is printed).
    """
    _check_nonlinearity(nonlinearity)
    dims = {}
    W = as_float_array("W", W, ("H", "H"), dims)
    inputs = as_float_array("inputs", inputs, ("T", "H"), dims)
    h = np.zeros(dims["H"]) if h0 is None else as_float_array("h0", h0, ("H",), dims)
    hs = np.empty(inputs.shape)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(inputs.shape[0]):
            h = _activate(inputs[t] + h @ W.T, nonlinearity)
            hs[t] = h
    return hs


def _jacobian_log_norms(W, derivatives):
    """log ||J_T ... J_{T-k+1}||_2 for k = 0..T, with J_t = diag(derivatives[t-1]) W.

    The running product is divided by its norm after every step (the logarithms of the
    norms add up), so it never overflows or underflows, whatever the number of steps.
    """
    T, H = derivatives.shape
    log_norms = np.full(T + 1, -np.inf)
    log_norms[0] = 0.0
    product = np.eye(H)
    for k in range(1, T + 1):
        product = product @ (derivatives[T - k][:, None] * W)
        norm = np.linalg.norm(product, 2)
        if norm == 0.0:
            break  # every longer product is zero as well
        log_norms[k] = log_norms[k - 1] + np.log(norm)
        product = product / norm
    return log_norms


def _check_trajectory(W, hs, T, nonlinearity):
    """Validated W (H, H) and the derivatives f'(a_t) (T, H) of the trajectory."""
    _check_nonlinearity(nonlinearity)
    dims = {}
    W = as_float_array("W", W, ("H", "H"), dims)
    if hs is None:
        if nonlinearity != "linear":
            raise ValueError(f"hs (the hidden states, shape (T, H)) is needed for nonlinearity={nonlinearity!r}; "
                             "only the linear recurrence has Jacobians that do not depend on the trajectory")
        T = _check_int("T", T, 1)
        return W, np.ones((T, dims["H"]))
    if T is not None:
        raise ValueError("give either hs or T, not both (T is the length of hs)")
    hs = as_float_array("hs", hs, ("T", "H"), dims)
    if hs.shape[0] < 1:
        raise ValueError(f"hs should hold at least one state, but got shape {hs.shape}")
    return W, derivative_from_state(hs, nonlinearity)


def jacobian_norms(W, hs=None, nonlinearity="linear", T=None):
    """||dh_T / dh_{T-k}||_2 for k = 0, 1, ..., T (spectral norm of the Jacobian product).

    W (H, H): recurrent matrix (h_t = f(x_t @ U.T + h_{t-1} @ W.T + b) in code).
    hs (T, H): the states h_1 ... h_T of one sequence; they give f'(a_t) (1 - h_t^2 for
    tanh, h_t (1 - h_t) for the sigmoid). For nonlinearity="linear" give T instead.
    Returns an array (T + 1,): entry k is the norm of J_T J_{T-1} ... J_{T-k+1} with
    J_t = diag(f'(a_t)) W (entry 0 is the identity, norm 1). Norms beyond the float range
    are inf; no warning is printed.
    """
    W, derivatives = _check_trajectory(W, hs, T, nonlinearity)
    with np.errstate(over="ignore"):
        return np.exp(_jacobian_log_norms(W, derivatives))


def _check_eigenvalues(eigenvalues):
    values = np.asarray(eigenvalues)
    if values.ndim != 1 or values.size == 0 or values.dtype.kind not in "iufc":
        raise ValueError(f"eigenvalues should be a non-empty 1-D array of numbers, but got "
                         f"shape {values.shape} and dtype {values.dtype}")
    values = values.astype(np.complex128)
    if not np.all(np.isfinite(values)):
        raise ValueError("eigenvalues should be finite")
    upper, lower = values[values.imag > 0], values[values.imag < 0]
    if upper.size != lower.size or not np.allclose(np.sort_complex(upper),
                                                   np.sort_complex(lower.conj()), rtol=1e-12, atol=0):
        raise ValueError("eigenvalues of a real matrix come in complex-conjugate pairs: "
                         "for every complex eigenvalue a + bi give a - bi as well")
    return values[values.imag == 0].real, np.sort_complex(upper)


def _block_diagonal(eigenvalues):
    """A real normal matrix in block form, and the block index of every row.

    The real eigenvalues go on the diagonal, and each pair a +- bi becomes a 2x2
    rotation-scaling block [[a, -b], [b, a]].
    """
    real, pairs = _check_eigenvalues(eigenvalues)
    H = real.size + 2 * pairs.size
    B = np.zeros((H, H))
    B[np.arange(real.size), np.arange(real.size)] = real
    for j, lam in enumerate(pairs):
        i = real.size + 2 * j
        B[i:i + 2, i:i + 2] = [[lam.real, -lam.imag], [lam.imag, lam.real]]
    block_of = np.concatenate([np.arange(real.size), real.size + np.arange(2 * pairs.size) // 2])
    return B, block_of


def _random_orthogonal(H, seed):
    _check_int("seed", seed, 0)
    return initialisation.orthogonal(H, np.random.default_rng(seed))


def matrix_with_eigenvalues(eigenvalues, seed=0):
    """A real normal matrix W = Q B Q^T with the given eigenvalues (H of them).

    eigenvalues: 1-D array (H,), real or complex; complex ones in conjugate pairs.
    B holds the real eigenvalues on its diagonal and a rotation-scaling 2x2 block per
    conjugate pair; Q is a random orthogonal matrix drawn with ``seed``. With real
    eigenvalues W = Q diag(lambda) Q^T is symmetric. W is normal (W W^T = W^T W), so its
    singular values are the |lambda| and ||W^k||_2 = rho^k exactly.
    """
    B, _ = _block_diagonal(eigenvalues)
    Q = _random_orthogonal(B.shape[0], seed)
    return Q @ B @ Q.T


def non_normal_matrix(eigenvalues, coupling=1.0, seed=0):
    """A matrix with the same eigenvalues as ``matrix_with_eigenvalues`` but not normal.

    W = Q (B + coupling * N) Q^T with N strictly upper triangular above B's 2x2 blocks
    (entries N(0, 1/H) drawn with ``seed``): a (block) triangular matrix keeps the
    eigenvalues of its diagonal blocks, but its singular values grow with ``coupling``,
    so ||W^k|| first grows (transient growth) before it decays like rho^k.
    """
    coupling = _check_finite("coupling", coupling, 0.0)
    B, block_of = _block_diagonal(eigenvalues)
    H = B.shape[0]
    rng = np.random.default_rng(_check_int("seed", seed, 0) + 1)
    above = block_of[:, None] < block_of[None, :]   # strictly above the diagonal blocks
    N = np.where(above, rng.normal(0.0, 1.0 / np.sqrt(H), size=(H, H)), 0.0)
    Q = _random_orthogonal(H, seed)
    return Q @ (B + coupling * N) @ Q.T


def spectral_radius(W):
    """rho(W) = max |lambda| over the eigenvalues of W (H, H)."""
    W = as_float_array("W", W, ("H", "H"), {})
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def _fit_rate(log_norms, start):
    k = np.arange(log_norms.size)
    usable = (k >= start) & np.isfinite(log_norms)
    if usable.sum() < 2:
        return float("nan")
    return float(np.exp(np.polyfit(k[usable], log_norms[usable], 1)[0]))


def fitted_rate(norms, start=0):
    """Per-step factor of a measured curve: exp(slope) of a least-squares line through
    log(norms[k]) against k, for k >= start (zero or infinite entries are left out).

    norms (K,) -> float; NaN if fewer than two usable points remain.
    """
    norms = as_float_array("norms", norms, (None,), {})
    start = _check_int("start", start, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_norms = np.where(norms > 0, np.log(np.abs(norms)), -np.inf)
    return _fit_rate(log_norms, start)


class DecayCurve(NamedTuple):
    """Everything the decay explorer draws for one setting (arrays indexed by k = 0..T)."""
    distances: np.ndarray        # (T + 1,) k, the number of steps back in time
    norms: np.ndarray            # (T + 1,) measured ||dh_T / dh_{T-k}||_2 (inf beyond float range)
    log10_norms: np.ndarray      # (T + 1,) the same as base-10 logarithms (finite unless zero)
    predicted: np.ndarray        # (T + 1,) rho^k, the eigenvalue prediction
    bound: np.ndarray            # (T + 1,) (gamma * sigma_max)^k, the guaranteed upper bound
    eigenvalues: np.ndarray      # (H,) complex eigenvalues of W
    spectral_radius: float       # rho = max |lambda|
    max_singular_value: float    # sigma_max(W)
    gamma: float                 # bound of |f'|
    fitted_rate: float           # per-step factor fitted to the second half of the curve
    mean_derivative: float       # mean of f'(a_t) along the trajectory (1 when linear)
    matrix: np.ndarray           # (H, H) the recurrent matrix W
    hs: np.ndarray               # (T, H) the trajectory h_1 ... h_T


def base_spectrum(hidden_size, seed=0):
    """Eigenvalues with spectral radius exactly 1 for the explorer (H of them, real or in
    conjugate pairs): those of a random Gaussian H x H matrix, divided by its spectral
    radius, so they fill the unit disc as the eigenvalues of a randomly initialised W do."""
    H = _check_int("hidden_size", hidden_size, 1)
    rng = np.random.default_rng(_check_int("seed", seed, 0))
    eigenvalues = np.linalg.eigvals(rng.normal(size=(H, H)))
    return eigenvalues / np.max(np.abs(eigenvalues))


def decay_curve(spectral_radius, T, nonlinearity="linear", input_scale=0.0, normal=True,
                seed=0, hidden_size=32, coupling=2.0):
    """The computation behind the decay explorer, for one setting.

    W has the eigenvalues ``spectral_radius * base_spectrum(hidden_size, seed)`` and is
    normal (``matrix_with_eigenvalues``) or not (``non_normal_matrix`` with ``coupling``).
    The network runs T steps from h_0 = 0 driven by inputs ``input_scale * N(0, 1)``
    (a large input scale saturates tanh and the sigmoid), and the norms of
    dh_T / dh_{T-k} are measured along that trajectory. Returns a ``DecayCurve``.
    """
    rho = _check_finite("spectral_radius", spectral_radius, 0.0)
    T = _check_int("T", T, 1)
    _check_nonlinearity(nonlinearity)
    input_scale = _check_finite("input_scale", input_scale, 0.0)
    eigenvalues = rho * base_spectrum(hidden_size, seed)
    if normal:
        W = matrix_with_eigenvalues(eigenvalues, seed)
    else:
        W = non_normal_matrix(eigenvalues, coupling, seed)
    rng = np.random.default_rng(seed + 2)
    inputs = input_scale * rng.normal(size=(T, W.shape[0]))
    hs = run_recurrence(W, inputs, nonlinearity)
    derivatives = derivative_from_state(hs, nonlinearity)
    log_norms = _jacobian_log_norms(W, derivatives)
    distances = np.arange(T + 1)
    sigma_max = float(np.linalg.norm(W, 2))
    gamma = GAMMA[nonlinearity]
    with np.errstate(over="ignore", divide="ignore"):
        norms = np.exp(log_norms)
        predicted = rho ** distances
        bound = (gamma * sigma_max) ** distances
        log10_norms = log_norms / np.log(10.0)
    rate = _fit_rate(log_norms, start=T // 2)
    return DecayCurve(distances, norms, log10_norms, predicted, bound,
                      np.linalg.eigvals(W), rho, sigma_max, gamma, rate,
                      float(derivatives.mean()), W, hs)
