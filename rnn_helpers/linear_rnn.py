"""Linear recurrences h_t = a_t * h_{t-1} + b_t: three ways to compute them, the backward,
the minGRU layer built on them, and causal linear attention written as a recurrence.

The recurrence is elementwise (a diagonal state matrix): a, b and h are (T, N, H), time
first, and h_0 (N, H) is given (zeros if None). Because the state enters linearly, every
h_t has a closed form, and all T states can be computed without a step-by-step loop:

* ``"loop"``: the definition, one step at a time (T dependent steps);
* ``"scan"``: an associative scan. The pairs (a, b) compose with the operator
  ``combine((a1, b1), (a2, b2)) = (a1 a2, a2 b1 + b2)`` ("apply step 1, then step 2"),
  which is associative, so prefixes can be combined in any grouping. Doubling the span
  at each level (Hillis and Steele 1986) takes ceil(log2 T) vectorised levels and
  O(T log T) work; Blelloch's (1990) work-efficient version takes 2 log2 T levels and
  O(T) work. Martin and Cundy (2018) used the scan to train linear RNNs;
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

All three agree to about 1e-12 in float64 where the closed form is defined and
|log|A_t|| stays moderate (tests/test_linear_rnn.py). Complex a and b are supported
(LRU's eigenvalues); gradients of a real loss with respect to a complex array z are
returned as dL/dRe(z) + i dL/dIm(z) (PyTorch's convention), so that the backward of
h_t = a_t h_{t-1} + b_t carries conj(a_t).

minGRU (Feng et al. 2024): the GRU with h_{t-1} removed from its gates and candidate::

    z_t = sigmoid(U_z x_t + b_z),   h~_t = U_h x_t + b_h,   h_t = (1 - z_t) h_{t-1} + z_t h~_t

a linear recurrence with a_t = 1 - z_t and b_t = z_t h~_t. U (2H, D) and b (2H,) stack
the blocks z, h~ (in that order).

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

METHODS = ("loop", "scan", "cumulative")
ATTENTION_METHODS = ("recurrent", "quadratic")


class MinGRUCache(NamedTuple):
    x: np.ndarray
    h0: np.ndarray
    U: np.ndarray
    z: np.ndarray          # (T, N, H) update gates
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


def _scan(a, b, h0, dtype):
    """Hillis-Steele doubling: after the level with span d, (A[t], B[t]) composes steps t-2d+1..t."""
    A = a.astype(dtype, copy=True)
    B = b.astype(dtype, copy=True)
    if A.shape[0] == 0:
        return B
    B[0] += a[0] * h0                    # fold h_0 into the first step: h_1 = a_1 h_0 + b_1
    span = 1
    while span < A.shape[0]:
        # Each element t >= span takes in the block that ends at t - span (right side is evaluated first).
        A[span:], B[span:] = combine((A[:-span], B[:-span]), (A[span:], B[span:]))
        span *= 2
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

    a, b (T, N, H), real or complex; h0 (N, H) or None (zeros); method "loop", "scan" or
    "cumulative" (see the module's docstring for what each does and when "cumulative" is
    undefined). Returns h (T, N, H), in the result type of a, b and h0. Inputs are not modified.
    """
    _check_method(method, METHODS)
    a, b, h0, dtype = _check_recurrence(a, b, h0)
    compute = {"loop": _loop, "scan": _scan, "cumulative": _cumulative}[method]
    return compute(a, b, h0, dtype)


def linear_scan_backward(dh, a, h, h0=None):
    """Backward of ``linear_scan``: dh (T, N, H) is the upstream gradient on every h_t.

    The total gradient on h_t is g_t = dh_t + conj(a_{t+1}) g_{t+1} (g_{T+1} = 0): the same
    linear recurrence, run backwards in time, so it is computed with the same scan on the
    reversed sequences. Then db_t = g_t, da_t = g_t conj(h_{t-1}) and dh0 = conj(a_1) g_1.
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
    g = _scan(decay[::-1], dh[::-1], np.zeros(a.shape[1:], dtype=dtype), dtype)[::-1]
    h_prev = np.concatenate([h0[None].astype(dtype), h[:-1]])
    da = _real_if_real(g * np.conj(h_prev), a)
    dh0 = _real_if_real(np.conj(a[0]) * g[0], h0) if a.shape[0] else np.zeros_like(h0)
    return da, _real_if_real(g.copy(), h), dh0


def _real_if_real(grad, like):
    """The gradient with respect to a real array is real: the real part of the complex one."""
    return grad if np.iscomplexobj(like) else np.ascontiguousarray(grad.real)


def _check_mingru(x, h0, U, b):
    dims, origin = {}, {}
    x = as_float_array("x", x, ("T", "N", "D"), dims, origin)
    h0 = as_float_array("h0", h0, ("N", "H"), dims, origin)
    # The blocks z and h~ are stacked along the first axis: 2H rows for hidden size H.
    dims["2H"], origin["2H"] = 2 * dims["H"], "h0"
    U = as_float_array("U", U, ("2H", "D"), dims, origin)
    b = as_float_array("b", b, ("2H",), dims, origin)
    return x, h0, U, b


def mingru_forward(x, h0, U, b):
    """minGRU over a sequence: x (T, N, D), h0 (N, H), U (2H, D), b (2H,) -> hs (T, N, H), cache.

    Gates and candidates depend on x only, so they are one matmul for all steps; the
    recurrence h_t = (1 - z_t) h_{t-1} + z_t h~_t is then one associative scan.
    """
    x, h0, U, b = _check_mingru(x, h0, U, b)
    (T, N, D), H = x.shape, h0.shape[1]
    projected = (x.reshape(T * N, D) @ U.T + b).reshape(T, N, 2 * H)     # one 2-D matmul for all steps
    z = sigmoid(projected[..., :H])
    h_tilde = projected[..., H:]
    hs = linear_scan(1.0 - z, z * h_tilde, h0, method="scan")
    return hs, MinGRUCache(x, h0, U, z, h_tilde, hs)


def mingru_backward(dhs, cache):
    """Backward of ``mingru_forward``: dhs (T, N, H) -> dx (T, N, D), dh0 (N, H), dU (2H, D), db (2H,)."""
    check_cache("cache", cache, MinGRUCache, "mingru_forward")
    x, h0, U, z, h_tilde, hs = cache
    dhs = as_float_array("dhs", dhs, hs.shape, {})
    da, dinput, dh0 = linear_scan_backward(dhs, 1.0 - z, hs, h0)
    dz = -da + dinput * h_tilde                      # a = 1 - z, input b = z h~
    dprojected = np.concatenate([dz * z * (1.0 - z), dinput * z], axis=-1)
    T, N, D = x.shape
    flat = dprojected.reshape(T * N, -1)
    return (flat @ U).reshape(T, N, D), dh0, flat.T @ x.reshape(T * N, D), flat.sum(axis=0)


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
