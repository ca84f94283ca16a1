"""The gated recurrent unit (GRU): forward and backward, one step and a whole sequence.

Notation (column vectors in the maths, the same matrices in code)::

    r_t = sigmoid(U_r x_t + W_r h_{t-1} + b_r)            reset gate
    z_t = sigmoid(U_z x_t + W_z h_{t-1} + b_z)            update gate
    n_t = tanh(U_n x_t + W_n (r_t * h_{t-1}) + b_n)       candidate state
    h_t = (1 - z_t) * h_{t-1} + z_t * n_t

The reset gate is applied to h_{t-1} *before* the matmul with W_n, as in Cho et al. (2014).
The update gate weighs the candidate, as in Chung et al. (2014); Cho et al. and PyTorch put z
on the old state instead (the same cell with z and 1 - z swapped), and PyTorch applies the
reset gate after the matmul.

Shapes: x_t (N, D), h (N, H). The three blocks are stacked in the order r, z, n:
U (3H, D), W (3H, H), b (3H,), so ``U[:H]`` is U_r, ``U[H:2*H]`` is U_z and ``U[2*H:]``
is U_n. Sequences are time-major: x (T, N, D), hs (T, N, H).
"""
from typing import NamedTuple

import numpy as np

from .validation import as_float_array, check_cache


class GRUStepCache(NamedTuple):
    x_t: np.ndarray
    h_prev: np.ndarray
    U: np.ndarray
    W: np.ndarray
    r: np.ndarray
    z: np.ndarray
    n: np.ndarray


class GRUCache(NamedTuple):
    x: np.ndarray
    h0: np.ndarray
    U: np.ndarray
    W: np.ndarray
    rs: np.ndarray
    zs: np.ndarray
    ns: np.ndarray
    hs: np.ndarray


def sigmoid(a):
    """Logistic function 1 / (1 + exp(-a)) as (1 + tanh(a / 2)) / 2: never overflows.

    The same function as ``lstm.sigmoid``, repeated so that this module imports nothing
    but validation: a fresh copy made by ``grading.load_reference("gru")`` then depends on
    nothing an answer cell could have patched.
    """
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(a)))


def _check_params(x_name, x, h_name, h, U, W, b, time_major):
    dims, origin = {}, {}
    spec_x = ("T", "N", "D") if time_major else ("N", "D")
    x = as_float_array(x_name, x, spec_x, dims, origin)
    h = as_float_array(h_name, h, ("N", "H"), dims, origin)
    # The gate blocks r, z, n are stacked along the first axis: 3H rows for hidden size H.
    dims["3H"], origin["3H"] = 3 * dims["H"], h_name
    U = as_float_array("U", U, ("3H", "D"), dims, origin)
    W = as_float_array("W", W, ("3H", "H"), dims, origin)
    b = as_float_array("b", b, ("3H",), dims, origin)
    return x, h, U, W, b


def _gates(a_x, h_prev, W):
    """One step of the recurrence, given the input part a_x = x_t @ U.T + b (N, 3H).

    Returns r, z, n, h_t, each (N, H).
    """
    H = h_prev.shape[1]
    # Reset and update gates: one matmul with the stacked [W_r; W_z].
    rz = sigmoid(a_x[:, :2 * H] + h_prev @ W[:2 * H].T)
    r, z = rz[:, :H], rz[:, H:]
    # Candidate: the reset gate scales h_prev before it meets W_n.
    n = np.tanh(a_x[:, 2 * H:] + (r * h_prev) @ W[2 * H:].T)
    h_t = (1.0 - z) * h_prev + z * n
    return r, z, n, h_t


def _gates_backward(dh_t, h_prev, W, r, z, n):
    """Backward of one step of the recurrence.

    Returns da (N, 3H), the gradient on the three pre-activations stacked r, z, n, and
    dh_prev (N, H). The weight gradients follow from da (see gru_step_backward).
    """
    H = h_prev.shape[1]
    # h_t = (1 - z) h_prev + z n
    dn = dh_t * z
    dz = dh_t * (n - h_prev)
    dh_prev = dh_t * (1.0 - z)                  # the direct, leaky path
    # n = tanh(a_n), a_n = ... + W_n (r * h_prev)
    da_n = dn * (1.0 - n ** 2)
    d_rh = da_n @ W[2 * H:]
    dr = d_rh * h_prev
    dh_prev = dh_prev + d_rh * r
    # r = sigmoid(a_r), z = sigmoid(a_z), both with h_prev @ [W_r; W_z].T inside
    da_rz = np.concatenate([dr * r * (1.0 - r), dz * z * (1.0 - z)], axis=1)
    dh_prev = dh_prev + da_rz @ W[:2 * H]
    da = np.concatenate([da_rz, da_n], axis=1)
    return da, dh_prev


def _weight_grad_W(da, h_prev, r):
    """dW (3H, H) from da (M, 3H), h_prev (M, H) and r (M, H), M rows (steps x batch)."""
    H = h_prev.shape[1]
    dW_rz = da[:, :2 * H].T @ h_prev
    dW_n = da[:, 2 * H:].T @ (r * h_prev)
    return np.concatenate([dW_rz, dW_n], axis=0)


def gru_step_forward(x_t, h_prev, U, W, b):
    """One step: x_t (N, D), h_prev (N, H), U (3H, D), W (3H, H), b (3H,) -> h_t (N, H), cache."""
    x_t, h_prev, U, W, b = _check_params("x_t", x_t, "h_prev", h_prev, U, W, b, False)
    r, z, n, h_t = _gates(x_t @ U.T + b, h_prev, W)
    return h_t, GRUStepCache(x_t, h_prev, U, W, r, z, n)


def gru_step_backward(dh_t, cache):
    """Backward of one step: dh_t (N, H) -> dx_t (N, D), dh_prev (N, H), dU, dW, db."""
    check_cache("cache", cache, GRUStepCache, "gru_step_forward")
    dh_t = as_float_array("dh_t", dh_t, cache.h_prev.shape, {})
    da, dh_prev = _gates_backward(dh_t, cache.h_prev, cache.W, cache.r, cache.z, cache.n)
    dx_t = da @ cache.U
    dU = da.T @ cache.x_t
    dW = _weight_grad_W(da, cache.h_prev, cache.r)
    db = da.sum(axis=0)
    return dx_t, dh_prev, dU, dW, db


def gru_forward(x, h0, U, W, b):
    """A whole sequence: x (T, N, D), h0 (N, H) -> hs (T, N, H), cache.

    The same equations as gru_step_forward, organised for speed:

    * the input projection ``x_t @ U.T + b`` of every step does not depend on the
      recurrence, so it is one matmul over the whole sequence before the time loop;
    * the two gates are computed together over the (N, 2H) block as
      sigmoid(a) = 1 / (1 + exp(-a)), numpy's exp being several times faster than its tanh
      in float64. The factor -1 is folded into the r and z rows of U, W and b once, before
      the loop, so each step computes ``1 / (1 + exp(a))``. Where exp overflows to inf,
      1 / inf = 0 is the right limit: the overflow warning is silenced;
    * the new state is computed as h_t = h_{t-1} + z * (n - h_{t-1}), the same
      interpolation as (1 - z) h_{t-1} + z n with one operation fewer;
    * every step writes into preallocated arrays (``out=`` and in-place operators).
    """
    x, h0, U, W, b = _check_params("x", x, "h0", h0, U, W, b, True)
    T, N, D = x.shape
    H = h0.shape[1]
    dtype = np.result_type(x, U, b, h0, W)
    fold = np.repeat(np.array([-1.0, -1.0, 1.0], dtype=dtype), H)       # per block r, z, n
    U_fold, W_fold, b_fold = U * fold[:, None], W * fold[:, None], b * fold
    projected = x.reshape(T * N, D) @ U_fold.T                  # (T * N, 3H), dtype `dtype`
    projected += b_fold
    projected = projected.reshape(T, N, 3 * H)
    rzs = np.empty((T, N, 2 * H), dtype=dtype)       # r and z of every step, side by side
    ns = np.empty((T, N, H), dtype=dtype)
    hs = np.empty((T, N, H), dtype=dtype)
    reset_h = np.empty((N, H), dtype=dtype)          # r * h_{t-1}
    step = np.empty((N, H), dtype=dtype)             # z * (n - h_{t-1})
    # Contiguous copies of the transposed blocks: BLAS is faster on them than on views.
    W_rz_T = np.ascontiguousarray(W_fold[:2 * H].T)
    W_n_T = np.ascontiguousarray(W_fold[2 * H:].T)
    h = h0
    with np.errstate(over="ignore"):
        for t in range(T):
            rz = rzs[t]
            np.matmul(h, W_rz_T, out=rz)
            rz += projected[t, :, :2 * H]
            np.exp(rz, out=rz)                       # r and z: 1 / (1 + exp(a))
            rz += 1.0
            np.reciprocal(rz, out=rz)
            r, z = rz[:, :H], rz[:, H:]
            np.multiply(r, h, out=reset_h)
            n = ns[t]
            np.matmul(reset_h, W_n_T, out=n)
            n += projected[t, :, 2 * H:]
            np.tanh(n, out=n)
            np.subtract(n, h, out=step)
            step *= z
            np.add(h, step, out=hs[t])
            h = hs[t]
    return hs, GRUCache(x, h0, U, W, rzs[..., :H], rzs[..., H:], ns, hs)


def gru_backward(dhs, cache):
    """Backpropagation through time.

    dhs (T, N, H) is the upstream gradient on every hidden state (zeros where a state
    feeds no loss). Returns dx (T, N, D), dh0 (N, H), dU (3H, D), dW (3H, H), db (3H,).
    Only the recurrence runs step by step; the weight gradients are sums over all steps,
    computed after the loop as one matmul each.
    """
    check_cache("cache", cache, GRUCache, "gru_forward")
    x, h0, U, W, rs, zs, ns, hs = cache
    dhs = as_float_array("dhs", dhs, hs.shape, {})
    T, N, H = hs.shape
    h_prevs = np.concatenate([h0[None], hs[:-1]], axis=0)       # h_{t-1} for every t
    das = np.empty((T, N, 3 * H), dtype=np.result_type(hs, dhs))
    dh_next = np.zeros((N, H), dtype=das.dtype)
    for t in reversed(range(T)):
        das[t], dh_next = _gates_backward(dhs[t] + dh_next, h_prevs[t], W, rs[t], zs[t], ns[t])
    flat_da = das.reshape(T * N, 3 * H)
    dx = das @ U
    dU = flat_da.T @ x.reshape(T * N, -1)
    dW = _weight_grad_W(flat_da, h_prevs.reshape(T * N, H), rs.reshape(T * N, H))
    db = flat_da.sum(axis=0)
    return dx, dh_next, dU, dW, db
