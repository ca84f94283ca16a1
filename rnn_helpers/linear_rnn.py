"""Linear recurrences h_t = a_t * h_{t-1} + b_t: four ways to compute them, the backward,
the minGRU and minLSTM layers built on them, and causal linear attention written as a recurrence.

The recurrence is elementwise (a diagonal state matrix): a, b and h are (T, N, H), time
first, and h_0 (N, H) is given (zeros if None). Because the state enters linearly, every
h_t has a closed form, and all T states can be computed without a step-by-step loop:

* ``"loop"``: the definition, one step at a time (T dependent steps);
* ``"scan"``: an associative scan. The pairs (a, b) compose with the operator
  ``combine((a1, b1), (a2, b2)) = (a1 a2, a2 b1 + b2)`` ("apply step 1, then step 2"),
  which is associative, so prefixes can be combined in any grouping. Doubling the span
  at each level (Hillis and Steele 1986) takes ceil(log2 T) vectorised levels and
  T ceil(log2 T) - 2^ceil(log2 T) + 1 combines, O(T log T) work. Martin and Cundy (2018)
  used the scan to train linear RNNs;
* ``"blelloch"``: Blelloch's (1990) work-efficient scan: an up-sweep that combines
  neighbouring blocks into a tree of block totals, then a down-sweep that hands each
  block the prefix before it. Done in place on the inclusive prefixes (the arrangement of
  Brent and Kung 1982), it needs neither an identity element nor a power-of-two length:
  2 T - popcount(T) - floor(log2 T) - 1 combines (fewer than 2T, O(T) work, as the loop)
  in at most 2 floor(log2 T) levels;
* ``"cumulative"``: the closed form h_t = A_t (h_0 + sum_{s<=t} b_s / A_s) with
  A_t = a_1 ... a_t, evaluated in log space (Heinsen 2023). Computed literally, with a
  cumulative product and a cumulative sum, it breaks down as soon as A_t leaves the
  floating-point range (with a = 0.9 it underflows after about 6700 steps in
  float64 and 830 in float32, and then b_s / A_s is inf and h is NaN). In log space,
  log|A_t| is a cumulative sum and the sum over s a cumulative log-sum-exp, so nothing
  overflows; signs and complex phases travel separately as unit factors. Its rounding
  error grows with the size of log|A_t| (about eps * |log|A_t|| relatively, where the
  scan's stays near eps), and it is undefined where a decay is exactly 0 (log 0): there
  it raises ValueError and names the first such step; use "scan" or "loop" then.

All four agree to about 1e-12 in float64 where the closed form is defined and
|log|A_t|| stays moderate (tests/test_linear_rnn.py). Complex a and b are supported
(LRU's eigenvalues); gradients of a real loss with respect to a complex array z are
returned as dL/dRe(z) + i dL/dIm(z) (PyTorch's convention), so that the backward of
h_t = a_t h_{t-1} + b_t carries conj(a_t).

minGRU (Feng et al. 2024): the GRU with h_{t-1} removed from its gates and candidate::

    z_t = sigmoid(U_z x_t + b_z),   h~_t = U_h x_t + b_h,   h_t = (1 - z_t) h_{t-1} + z_t h~_t

a linear recurrence with a_t = 1 - z_t and b_t = z_t h~_t. U (2H, D) and b (2H,) stack
the blocks z, h~ (in that order).

minLSTM (Feng et al. 2024): the LSTM without h_{t-1} in its gates, without the output gate
and the tanh (the cell state is the output), and with forget and input gates normalised to
sum to 1::

    f_t = sigmoid(U_f x_t + b_f),   i_t = sigmoid(U_i x_t + b_i),   h~_t = U_h x_t + b_h,
    h_t = f'_t h_{t-1} + i'_t h~_t,   f'_t = f_t / (f_t + i_t),   i'_t = i_t / (f_t + i_t)

Since f' + i' = 1 it is minGRU's recurrence with z = i', which is computed as
sigmoid(softplus(-p_f) - softplus(-p_i)) from the pre-activations p (the same number, and
defined even where f_t + i_t underflows to 0). U (3H, D) and b (3H,) stack the blocks
f, i, h~ (in that order).

The time-invariant control of minGRU (``fixed_decay_forward``): the same parameters and the
same input-dependent gate z_t, but the decay does not read the input; it is the decay the
gate has at zero input, the same at every step::

    z_t = sigmoid(U_z x_t + b_z),   h~_t = U_h x_t + b_h,   h_t = (1 - sigmoid(b_z)) h_{t-1} + z_t h~_t

so z_t only scales what is written (a nonlinear, gated input), never what is kept. With
U_z = 0 it is minGRU with U_z = 0 (a linear recurrence of the input with a fixed decay).

Causal linear attention (Katharopoulos et al. 2020), with the feature map
phi(u) = elu(u) + 1 > 0::

    out_t = phi(q_t)^T S_t / (phi(q_t)^T z_t),   S_t = S_{t-1} + phi(k_t) v_t^T,   z_t = z_{t-1} + phi(k_t)

(``method="recurrent"``: a state S (N, Dk, Dv) carried over T steps), which equals the
masked attention sum_{j<=t} phi(q_t).phi(k_j) v_j / sum_{j<=t} phi(q_t).phi(k_j)
(``method="quadratic"``: a (T, T) weight matrix per sequence).

This module imports nothing from the course but ``validation``, so that the fresh copy
``grading.load_reference("linear_rnn")`` depends on nothing an answer cell could patch.
"""
from typing import NamedTuple

import numpy as np

from .validation import as_float_array, as_real_or_complex_array, check_cache

METHODS = ("loop", "scan", "blelloch", "cumulative")
ATTENTION_METHODS = ("recurrent", "quadratic")


class MinGRUCache(NamedTuple):
    x: np.ndarray
    h0: np.ndarray
    U: np.ndarray
    z: np.ndarray          # (T, N, H) update gates
    h_tilde: np.ndarray    # (T, N, H) candidates
    hs: np.ndarray         # (T, N, H) states


class FixedDecayCache(NamedTuple):
    x: np.ndarray
    h0: np.ndarray
    U: np.ndarray
    decay: np.ndarray      # (H,) the decay 1 - sigmoid(b_z) of every step
    z: np.ndarray          # (T, N, H) input gates
    h_tilde: np.ndarray    # (T, N, H) candidates
    hs: np.ndarray         # (T, N, H) states


class MinLSTMCache(NamedTuple):
    x: np.ndarray
    h0: np.ndarray
    U: np.ndarray
    f: np.ndarray          # (T, N, H) forget gates sigmoid(p_f), before normalisation
    i: np.ndarray          # (T, N, H) input gates sigmoid(p_i), before normalisation
    i_norm: np.ndarray     # (T, N, H) normalised input gates i' = i / (f + i)
    h_tilde: np.ndarray    # (T, N, H) candidates
    hs: np.ndarray         # (T, N, H) states


def sigmoid(a):
    """Logistic function as (1 + tanh(a / 2)) / 2, which never overflows.

    The same function as ``lstm.sigmoid`` and ``gru.sigmoid``, repeated here so that this
    module imports nothing but validation (see the module's docstring).
    """
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(a)))


def _check_method(method, allowed):
    if method not in allowed:
        raise ValueError(f"method should be one of {allowed}, but got {method!r}")


def _check_recurrence(a, b, h0):
    """a, b (T, N, H) and h0 (N, H) or None, real or complex; returns them and the dtype of h."""
    dims, origin = {}, {}
    a = as_real_or_complex_array("a", a, ("T", "N", "H"), dims, origin)
    b = as_real_or_complex_array("b", b, ("T", "N", "H"), dims, origin)
    if h0 is not None:
        h0 = as_real_or_complex_array("h0", h0, ("N", "H"), dims, origin)
    dtype = np.result_type(a, b, *([] if h0 is None else [h0]))
    h0 = np.zeros(a.shape[1:], dtype=dtype) if h0 is None else h0.astype(dtype)
    return a, b, h0, dtype


def combine(first, second):
    """Compose two steps of the recurrence: first (a1, b1), then second (a2, b2).

    h -> a1 h + b1 followed by h -> a2 h + b2 is h -> (a1 a2) h + (a2 b1 + b2). The operator
    is associative; it is not commutative (the order of the steps matters). Arrays of any
    broadcastable shapes; returns the pair (a1 * a2, a2 * b1 + b2) as new arrays.
    """
    a1, b1 = first
    a2, b2 = second
    return a1 * a2, a2 * b1 + b2


def _loop(a, b, h0, dtype):
    h = np.empty(a.shape, dtype=dtype)
    previous = h0
    for t in range(a.shape[0]):
        previous = h[t] = a[t] * previous + b[t]
    return h


def _steps(a, b, h0, dtype):
    """Copies A, B of the steps in the result's dtype, with h_0 folded into the first step.

    h_1 = a_1 h_0 + b_1, so with B[0] = a_1 h_0 + b_1 the b-part of every prefix is the state.
    """
    A = a.astype(dtype, copy=True)
    B = b.astype(dtype, copy=True)
    if A.shape[0]:
        B[0] += a[0] * h0
    return A, B


def _scan(a, b, h0, dtype):
    """Hillis-Steele doubling: after the level with span d, (A[t], B[t]) composes steps t-2d+1..t."""
    A, B = _steps(a, b, h0, dtype)
    span = 1
    while span < A.shape[0]:
        # Each element t >= span takes in the block that ends at t - span (right side is evaluated first).
        A[span:], B[span:] = combine((A[:-span], B[:-span]), (A[span:], B[span:]))
        span *= 2
    return B


def _blelloch(a, b, h0, dtype):
    """Blelloch's work-efficient scan, in place on inclusive prefixes, for any length T.

    Up-sweep, spans d = 1, 2, 4, ... while 2d <= T: position t = 2kd - 1 (k >= 1) takes in
    the block that ends at t - d, so it holds the steps t - 2d + 1..t (positions 2^j - 1 then
    hold full prefixes). Down-sweep, spans back down to 1: position t = (2k + 1)d - 1 (k >= 1)
    takes in the full prefix at t - d, which an earlier level completed.
    """
    A, B = _steps(a, b, h0, dtype)
    T = A.shape[0]
    spans = []
    span = 1
    while 2 * span <= T:
        spans.append(span)
        right, left = slice(2 * span - 1, T, 2 * span), slice(span - 1, T - span, 2 * span)
        A[right], B[right] = combine((A[left], B[left]), (A[right], B[right]))
        span *= 2
    for span in reversed(spans):
        right, left = slice(3 * span - 1, T, 2 * span), slice(2 * span - 1, T - span, 2 * span)
        A[right], B[right] = combine((A[left], B[left]), (A[right], B[right]))
    return B


def _cumulative(a, b, h0, dtype):
    """The closed form in log space: h_t = u_t |A_t| (h0 + sum_s c_s / |A_s|), c_s = b_s / u_s."""
    zeros = np.argwhere(a == 0)
    if zeros.size:
        t, n, k = (int(i) for i in zeros[0])
        raise ValueError(
            f'method="cumulative" needs every decay a_t to be non-zero: a[{t}, {n}, {k}] is 0, so the '
            f'product a_1 ... a_t is 0 from step {t} on and the closed form divides by it. Use '
            f'method="scan" or method="loop" for recurrences that reset the state')
    magnitude = np.abs(a)
    phase = np.cumprod(a / magnitude, axis=0)                   # u_t: signs or unit complex numbers
    log_A = np.concatenate([np.zeros((1,) + a.shape[1:], magnitude.dtype),
                            np.cumsum(np.log(magnitude), axis=0)])        # log|A_t|, t = 0..T
    terms = np.concatenate([h0[None], b * np.conj(phase)])      # c_s (u_s has |u_s| = 1), s = 0..T
    parts = [terms.real] + ([terms.imag] if np.iscomplexobj(terms) else [])
    sums = []
    with np.errstate(divide="ignore"):                          # log 0 = -inf: a part that is 0
        for part in parts:
            signed = 0.0
            for sign in (1.0, -1.0):
                # log sum_{s<=t} |c_s| / |A_s| over the terms of this sign, without leaving log space
                log_sum = np.logaddexp.accumulate(np.log(np.maximum(sign * part, 0.0)) - log_A, axis=0)
                signed = signed + sign * np.exp(log_A + log_sum)
            sums.append(signed)
    total = sums[0] if len(sums) == 1 else sums[0] + 1j * sums[1]
    h = phase * total[1:]
    return h.astype(dtype, copy=False)


def linear_scan(a, b, h0=None, method="scan"):
    """All states of h_t = a_t * h_{t-1} + b_t for t = 1..T.

    a, b (T, N, H), real or complex; h0 (N, H) or None (zeros); method "loop", "scan",
    "blelloch" or "cumulative" (see the module's docstring for what each does and when
    "cumulative" is undefined). Returns h (T, N, H), in the result type of a, b and h0.
    Inputs are not modified.
    """
    _check_method(method, METHODS)
    a, b, h0, dtype = _check_recurrence(a, b, h0)
    compute = {"loop": _loop, "scan": _scan, "blelloch": _blelloch, "cumulative": _cumulative}[method]
    return compute(a, b, h0, dtype)


def linear_scan_backward(dh, a, h, h0=None):
    """Backward of ``linear_scan``: dh (T, N, H) is the upstream gradient on every h_t.

    The total gradient on h_t is g_t = dh_t + conj(a_{t+1}) g_{t+1} (g_{T+1} = 0): the same
    linear recurrence, run backwards in time, so it is computed with the same scan on the
    reversed sequences (Blelloch's). Then db_t = g_t, da_t = g_t conj(h_{t-1}) and
    dh0 = conj(a_1) g_1.
    h is the output of the forward. Returns da, db (T, N, H) and dh0 (N, H); da and dh0 are
    real where a and h0 are, db has the type of h (for a real b beside a complex a, the
    gradient is its real part).
    """
    dims, origin = {}, {}
    dh = as_real_or_complex_array("dh", dh, ("T", "N", "H"), dims, origin)
    a = as_real_or_complex_array("a", a, ("T", "N", "H"), dims, origin)
    h = as_real_or_complex_array("h", h, ("T", "N", "H"), dims, origin)
    if h0 is not None:
        h0 = as_real_or_complex_array("h0", h0, ("N", "H"), dims, origin)
    dtype = np.result_type(dh, a, h, *([] if h0 is None else [h0]))
    h0 = np.zeros(a.shape[1:], dtype=dtype) if h0 is None else h0
    # Reversed time: step t of the backward pass has decay conj(a_{t+1}) and input dh_t.
    decay = np.concatenate([np.conj(a[1:]), np.zeros((1,) + a.shape[1:], dtype=a.dtype)])
    g = _blelloch(decay[::-1], dh[::-1], np.zeros(a.shape[1:], dtype=dtype), dtype)[::-1]
    h_prev = np.concatenate([h0[None].astype(dtype), h[:-1]])
    da = _real_if_real(g * np.conj(h_prev), a)
    dh0 = _real_if_real(np.conj(a[0]) * g[0], h0) if a.shape[0] else np.zeros_like(h0)
    return da, _real_if_real(g.copy(), h), dh0


def _real_if_real(grad, like):
    """The gradient with respect to a real array is real: the real part of the complex one."""
    return grad if np.iscomplexobj(like) else np.ascontiguousarray(grad.real)


def _check_layer(x, h0, U, b, blocks):
    """x (T, N, D), h0 (N, H), U (blocks * H, D), b (blocks * H,): the inputs of minGRU and minLSTM."""
    dims, origin = {}, {}
    x = as_float_array("x", x, ("T", "N", "D"), dims, origin)
    h0 = as_float_array("h0", h0, ("N", "H"), dims, origin)
    # The gate and candidate blocks are stacked along the first axis: blocks * H rows.
    rows = f"{blocks}H"
    dims[rows], origin[rows] = blocks * dims["H"], "h0"
    U = as_float_array("U", U, (rows, "D"), dims, origin)
    b = as_float_array("b", b, (rows,), dims, origin)
    return x, h0, U, b


def _project(x, U, b):
    """x (T, N, D) @ U.T + b for all steps at once: one 2-D matmul -> (T, N, rows of U)."""
    T, N, D = x.shape
    return (x.reshape(T * N, D) @ U.T + b).reshape(T, N, U.shape[0])


def _project_backward(dprojected, x, U):
    """Backward of ``_project``: dprojected (T, N, R) -> dx (T, N, D), dU (R, D), db (R,)."""
    T, N, D = x.shape
    flat = dprojected.reshape(T * N, -1)
    return (flat @ U).reshape(T, N, D), flat.T @ x.reshape(T * N, D), flat.sum(axis=0)


def _mix(z, h_tilde, h0):
    """h_t = (1 - z_t) h_{t-1} + z_t h~_t for all t, with one (work-efficient) scan."""
    return linear_scan(1.0 - z, z * h_tilde, h0, method="blelloch")


def _mix_backward(dhs, z, h_tilde, hs, h0):
    """Backward of ``_mix``: dhs (T, N, H) -> dz, dh_tilde (T, N, H), dh0 (N, H)."""
    da, dinput, dh0 = linear_scan_backward(dhs, 1.0 - z, hs, h0)
    return -da + dinput * h_tilde, dinput * z, dh0          # a = 1 - z, input b = z h~


def mingru_forward(x, h0, U, b):
    """minGRU over a sequence: x (T, N, D), h0 (N, H), U (2H, D), b (2H,) -> hs (T, N, H), cache.

    Gates and candidates depend on x only, so they are one matmul for all steps; the
    recurrence h_t = (1 - z_t) h_{t-1} + z_t h~_t is then one associative scan (Blelloch's).
    """
    x, h0, U, b = _check_layer(x, h0, U, b, blocks=2)
    H = h0.shape[1]
    projected = _project(x, U, b)
    z = sigmoid(projected[..., :H])
    h_tilde = projected[..., H:]
    hs = _mix(z, h_tilde, h0)
    return hs, MinGRUCache(x, h0, U, z, h_tilde, hs)


def mingru_backward(dhs, cache):
    """Backward of ``mingru_forward``: dhs (T, N, H) -> dx (T, N, D), dh0 (N, H), dU (2H, D), db (2H,)."""
    check_cache("cache", cache, MinGRUCache, "mingru_forward")
    x, h0, U, z, h_tilde, hs = cache
    dhs = as_float_array("dhs", dhs, hs.shape, {})
    dz, dh_tilde, dh0 = _mix_backward(dhs, z, h_tilde, hs, h0)
    dx, dU, db = _project_backward(np.concatenate([dz * z * (1.0 - z), dh_tilde], axis=-1), x, U)
    return dx, dh0, dU, db


def fixed_decay_forward(x, h0, U, b):
    """minGRU's time-invariant control: x (T, N, D), h0 (N, H), U (2H, D), b (2H,) -> hs (T, N, H), cache.

    The parameters of ``mingru_forward`` (blocks z, h~), and the same gate z_t; but the decay
    is 1 - sigmoid(b_z) at every step, so h_t = (1 - sigmoid(b_z)) h_{t-1} + z_t h~_t: the input
    decides what is written, not what is kept. One associative scan (Blelloch's).
    """
    x, h0, U, b = _check_layer(x, h0, U, b, blocks=2)
    H = h0.shape[1]
    projected = _project(x, U, b)
    z = sigmoid(projected[..., :H])
    h_tilde = projected[..., H:]
    decay = 1.0 - sigmoid(b[:H])
    hs = linear_scan(np.broadcast_to(decay, z.shape), z * h_tilde, h0, method="blelloch")
    return hs, FixedDecayCache(x, h0, U, decay, z, h_tilde, hs)


def fixed_decay_backward(dhs, cache):
    """Backward of ``fixed_decay_forward``: dhs (T, N, H) -> dx (T, N, D), dh0 (N, H), dU (2H, D), db (2H,)."""
    check_cache("cache", cache, FixedDecayCache, "fixed_decay_forward")
    x, h0, U, decay, z, h_tilde, hs = cache
    dhs = as_float_array("dhs", dhs, hs.shape, {})
    da, dinput, dh0 = linear_scan_backward(dhs, np.broadcast_to(decay, z.shape), hs, h0)
    dz, dh_tilde = dinput * h_tilde, dinput * z
    dx, dU, db = _project_backward(np.concatenate([dz * z * (1.0 - z), dh_tilde], axis=-1), x, U)
    H = decay.shape[0]
    db[:H] -= da.sum(axis=(0, 1)) * decay * (1.0 - decay)     # decay = 1 - sigmoid(b_z)
    return dx, dh0, dU, db


def softplus(u):
    """log(1 + exp(u)), elementwise, without overflow: max(u, 0) + log(1 + exp(-|u|)).

    (np.log(1 + e) for e in (0, 1] instead of np.log1p or np.logaddexp: the same numbers to an
    absolute 1e-16, and several times faster with numpy's plain log.)
    """
    u = np.asarray(u)
    return np.maximum(u, 0.0) + np.log(1.0 + np.exp(-np.abs(u)))


def minlstm_forward(x, h0, U, b):
    """minLSTM over a sequence: x (T, N, D), h0 (N, H), U (3H, D), b (3H,) -> hs (T, N, H), cache.

    Rows [:H] of U and b give the forget gate f, [H:2H] the input gate i, [2H:] the
    candidate h~. The normalised gates f' = f / (f + i) and i' = 1 - f' make
    h_t = f'_t h_{t-1} + i'_t h~_t minGRU's recurrence with z = i', one associative scan.
    """
    x, h0, U, b = _check_layer(x, h0, U, b, blocks=3)
    H = h0.shape[1]
    projected = _project(x, U, b)
    p_f, p_i, h_tilde = projected[..., :H], projected[..., H:2 * H], projected[..., 2 * H:]
    # i / (f + i) = sigmoid(log i - log f), with log sigmoid(p) = -softplus(-p): a ratio that
    # stays defined where f + i underflows.
    log_f, log_i = -softplus(-p_f), -softplus(-p_i)
    i_norm = sigmoid(log_i - log_f)
    hs = _mix(i_norm, h_tilde, h0)
    return hs, MinLSTMCache(x, h0, U, np.exp(log_f), np.exp(log_i), i_norm, h_tilde, hs)


def minlstm_backward(dhs, cache):
    """Backward of ``minlstm_forward``: dhs (T, N, H) -> dx (T, N, D), dh0 (N, H), dU (3H, D), db (3H,)."""
    check_cache("cache", cache, MinLSTMCache, "minlstm_forward")
    x, h0, U, f, i, i_norm, h_tilde, hs = cache
    dhs = as_float_array("dhs", dhs, hs.shape, {})
    di_norm, dh_tilde, dh0 = _mix_backward(dhs, i_norm, h_tilde, hs, h0)
    # i' = sigmoid(q), q = log i - log f, and d log sigmoid(p) / dp = 1 - sigmoid(p).
    dq = di_norm * i_norm * (1.0 - i_norm)
    dx, dU, db = _project_backward(np.concatenate([-dq * (1.0 - f), dq * (1.0 - i), dh_tilde], axis=-1), x, U)
    return dx, dh0, dU, db


def feature_map(u):
    """phi(u) = elu(u) + 1: u + 1 for u > 0, exp(u) otherwise; always positive."""
    u = np.asarray(u)
    return np.where(u > 0, u + 1.0, np.exp(np.minimum(u, 0.0)))


def causal_linear_attention(q, k, v, method="recurrent"):
    """Causal linear attention with phi = elu + 1.

    q, k (T, N, Dk), v (T, N, Dv) -> out (T, N, Dv), out_t = sum_{j<=t} w_tj v_j with
    w_tj = phi(q_t).phi(k_j) / sum_{i<=t} phi(q_t).phi(k_i). ``"recurrent"`` carries the
    state S_t (N, Dk, Dv) and z_t (N, Dk) through T steps (memory independent of T);
    ``"quadratic"`` forms the masked (T, T) weights of every sequence at once.
    """
    _check_method(method, ATTENTION_METHODS)
    dims, origin = {}, {}
    q = as_float_array("q", q, ("T", "N", "Dk"), dims, origin)
    k = as_float_array("k", k, ("T", "N", "Dk"), dims, origin)
    v = as_float_array("v", v, ("T", "N", "Dv"), dims, origin)
    fq, fk = feature_map(q), feature_map(k)
    dtype = np.result_type(fq, fk, v)
    if method == "quadratic":
        scores = np.matmul(fq.transpose(1, 0, 2), fk.transpose(1, 2, 0))      # (N, T, T): [n, t, j]
        scores = np.tril(scores)                                                # keys j <= t
        out = (scores @ v.transpose(1, 0, 2)) / scores.sum(axis=2, keepdims=True)
        return out.transpose(1, 0, 2).astype(dtype, copy=False)
    T, N, Dk = q.shape
    S = np.zeros((N, Dk, v.shape[2]), dtype=dtype)
    norm = np.zeros((N, Dk), dtype=dtype)
    out = np.empty((T, N, v.shape[2]), dtype=dtype)
    for t in range(T):
        S += fk[t][:, :, None] * v[t][:, None, :]
        norm += fk[t]
        out[t] = (fq[t][:, None, :] @ S)[:, 0] / np.sum(fq[t] * norm, axis=1, keepdims=True)
    return out
