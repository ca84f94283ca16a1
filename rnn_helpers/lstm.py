"""The LSTM cell: forward and backward, one step and a whole sequence.

Notation (column vectors in the maths, the same matrices in code). The four blocks of
``U`` (4H, D), ``W`` (4H, H) and ``b`` (4H,) are stacked in the order i, f, g, o::

    i_t = sigmoid(U_i x_t + W_i h_{t-1} + b_i)      input gate
    f_t = sigmoid(U_f x_t + W_f h_{t-1} + b_f)      forget gate
    g_t =    tanh(U_g x_t + W_g h_{t-1} + b_g)      candidate
    o_t = sigmoid(U_o x_t + W_o h_{t-1} + b_o)      output gate
    c_t = f_t * c_{t-1} + i_t * g_t                 cell state
    h_t = o_t * tanh(c_t)                           hidden state

Shapes: x_t (N, D), h and c (N, H); sequences are time-major, x (T, N, D), hs and
cs (T, N, H). All four gates come from one matmul: ``a = x_t @ U.T + h_prev @ W.T + b``
has shape (N, 4H) and ``a[:, k*H:(k+1)*H]`` is the pre-activation of gate k.
"""
from typing import NamedTuple

import numpy as np

from .validation import as_float_array, check_cache


class LSTMStepCache(NamedTuple):
    x_t: np.ndarray
    h_prev: np.ndarray
    c_prev: np.ndarray
    U: np.ndarray
    W: np.ndarray
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c_t: np.ndarray


class LSTMCache(NamedTuple):
    x: np.ndarray
    h0: np.ndarray
    c0: np.ndarray
    U: np.ndarray
    W: np.ndarray
    gates: np.ndarray   # (T, N, 4H): the activated i, f, g, o of every step
    cs: np.ndarray
    hs: np.ndarray
    tanh_cs: np.ndarray  # (T, N, H): tanh(c_t), kept for the backward


def sigmoid(a):
    """Logistic function 1 / (1 + exp(-a)), without overflow for any finite a.

    Computed through the identity sigmoid(a) = (1 + tanh(a / 2)) / 2: tanh never
    overflows (it saturates at +-1), and it is fast in float32 and float64 alike.
    The dtype of ``a`` is kept.
    """
    a = np.asarray(a)
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def _check_params(x_name, x, h_name, h, c_name, c, U, W, b, time_major):
    dims, origin = {}, {}
    spec_x = ("T", "N", "D") if time_major else ("N", "D")
    x = as_float_array(x_name, x, spec_x, dims, origin)
    h = as_float_array(h_name, h, ("N", "H"), dims, origin)
    c = as_float_array(c_name, c, ("N", "H"), dims, origin)
    dims["4H"], origin["4H"] = 4 * dims["H"], f"4 * H of {h_name}"
    U = as_float_array("U", U, ("4H", "D"), dims, origin)
    W = as_float_array("W", W, ("4H", "H"), dims, origin)
    b = as_float_array("b", b, ("4H",), dims, origin)
    return x, h, c, U, W, b


def _activate(a):
    """Pre-activations a (..., 4H) -> gates (..., 4H): sigmoid for i, f, o and tanh for g."""
    H = a.shape[-1] // 4
    gates = np.empty_like(a)
    gates[..., :2 * H] = sigmoid(a[..., :2 * H])
    gates[..., 2 * H:3 * H] = np.tanh(a[..., 2 * H:3 * H])
    gates[..., 3 * H:] = sigmoid(a[..., 3 * H:])
    return gates


def _split(gates):
    """The four blocks i, f, g, o of an array (..., 4H), as views."""
    H = gates.shape[-1] // 4
    return gates[..., :H], gates[..., H:2 * H], gates[..., 2 * H:3 * H], gates[..., 3 * H:]


def _preactivation_gradient(dh, dc, i, f, g, o, c_prev, tanh_c):
    """Backward through one cell, from dh_t and dc_t (the total gradient on c_t
    arriving from later steps) to the pre-activations and to c_{t-1}.

    Returns da (N, 4H) and dc_prev (N, H).
    """
    dc = dc + dh * o * (1.0 - tanh_c ** 2)      # h_t = o * tanh(c_t)
    da = np.concatenate([
        dc * g * i * (1.0 - i),                  # di * sigmoid'
        dc * c_prev * f * (1.0 - f),             # df * sigmoid'
        dc * i * (1.0 - g ** 2),                 # dg * tanh'
        dh * tanh_c * o * (1.0 - o),             # do * sigmoid'
    ], axis=-1)
    return da, dc * f


def lstm_step_forward(x_t, h_prev, c_prev, U, W, b):
    """One step: x_t (N, D), h_prev (N, H), c_prev (N, H) -> h_t, c_t (N, H), cache."""
    x_t, h_prev, c_prev, U, W, b = _check_params(
        "x_t", x_t, "h_prev", h_prev, "c_prev", c_prev, U, W, b, False)
    gates = _activate(x_t @ U.T + h_prev @ W.T + b)
    i, f, g, o = _split(gates)
    c_t = f * c_prev + i * g
    h_t = o * np.tanh(c_t)
    return h_t, c_t, LSTMStepCache(x_t, h_prev, c_prev, U, W, i, f, g, o, c_t)


def lstm_step_backward(dh_t, dc_t, cache):
    """Backward of one step.

    dh_t, dc_t (N, H): gradients of the loss on h_t and on c_t (dc_t is the part that
    does not pass through h_t, e.g. from the next step). Returns dx_t (N, D),
    dh_prev (N, H), dc_prev (N, H), dU (4H, D), dW (4H, H), db (4H,).
    """
    check_cache("cache", cache, LSTMStepCache, "lstm_step_forward")
    dh_t = as_float_array("dh_t", dh_t, cache.c_t.shape, {})
    dc_t = as_float_array("dc_t", dc_t, cache.c_t.shape, {})
    da, dc_prev = _preactivation_gradient(
        dh_t, dc_t, cache.i, cache.f, cache.g, cache.o, cache.c_prev, np.tanh(cache.c_t))
    dx_t = da @ cache.U
    dh_prev = da @ cache.W
    dU = da.T @ cache.x_t
    dW = da.T @ cache.h_prev
    db = da.sum(axis=0)
    return dx_t, dh_prev, dc_prev, dU, dW, db


def lstm_forward(x, h0, c0, U, W, b):
    """A whole sequence: x (T, N, D), h0 and c0 (N, H) -> hs, cs (T, N, H), cache.

    The same equations as lstm_step_forward, organised for speed:

    * the input projection ``x @ U.T + b`` does not depend on the recurrence, so it is one
      matmul over the whole sequence; only ``h @ W.T`` stays inside the time loop;
    * all four activations come from ONE exp over the (N, 4H) pre-activations, numpy's exp
      being about twice as fast as its tanh: sigmoid(a) = 1 / (1 + exp(-a)) for i, f, o and
      tanh(a) = 2 / (1 + exp(-2a)) - 1 for the candidate g. The factors -1 and -2 are folded
      into the rows of U, W and b once, before the loop, so each step computes
      ``1 / (1 + exp(a))`` over the whole row, then ``2 r - 1`` on the g block. Where exp
      overflows to inf, 1 / inf = 0 is the right limit: the overflow warning is silenced;
    * tanh(c_t) is kept in the cache, so the backward does not compute it again;
    * every step writes into preallocated arrays (the ``out=`` arguments and in-place
      operators), so the loop allocates nothing.
    """
    x, h0, c0, U, W, b = _check_params("x", x, "h0", h0, "c0", c0, U, W, b, True)
    T, N, D = x.shape
    H = h0.shape[1]
    dtype = np.result_type(x, U, b, h0, W, c0)
    fold = np.repeat(np.array([-1.0, -1.0, -2.0, -1.0], dtype=dtype), H)  # per block i, f, g, o
    U_fold, W_fold, b_fold = U * fold[:, None], W * fold[:, None], b * fold
    # gates starts as the input part of the (folded) pre-activations, (T, N, 4H); the loop
    # turns gates[t] into the activated i, f, g, o of step t in place.
    gates = (x.reshape(T * N, D) @ U_fold.T).astype(dtype, copy=False).reshape(T, N, 4 * H)
    gates += b_fold
    cs = np.empty((T, N, H), dtype=dtype)
    hs = np.empty((T, N, H), dtype=dtype)
    tanh_cs = np.empty((T, N, H), dtype=dtype)
    recurrent = np.empty((N, 4 * H), dtype=dtype)    # h_{t-1} @ W_fold.T
    input_times_candidate = np.empty((N, H), dtype=dtype)
    # A contiguous copy of W_fold.T: BLAS is faster on it than on the transposed view.
    W_fold_T = np.ascontiguousarray(W_fold.T)
    h, c = h0, c0
    with np.errstate(over="ignore"):
        for t in range(T):
            a = gates[t]
            np.matmul(h, W_fold_T, out=recurrent)
            a += recurrent
            np.exp(a, out=a)                          # every block: r = 1 / (1 + exp(a))
            a += 1.0
            np.reciprocal(a, out=a)
            i, f, g, o = _split(a)
            g *= 2.0                                  # g = tanh = 2 r - 1
            g -= 1.0
            np.multiply(f, c, out=cs[t])             # c_t = f * c_{t-1} + i * g
            np.multiply(i, g, out=input_times_candidate)
            cs[t] += input_times_candidate
            np.tanh(cs[t], out=tanh_cs[t])           # h_t = o * tanh(c_t)
            np.multiply(o, tanh_cs[t], out=hs[t])
            h, c = hs[t], cs[t]
    return hs, cs, LSTMCache(x, h0, c0, U, W, gates, cs, hs, tanh_cs)


def lstm_backward(dhs, cache, dcs=None):
    """Backpropagation through time.

    dhs (T, N, H) is the upstream gradient on every hidden state, dcs (T, N, H) the
    optional upstream gradient on every cell state (zeros where a state feeds no loss).
    Returns dx (T, N, D), dh0 (N, H), dc0 (N, H), dU (4H, D), dW (4H, H), db (4H,).

    The chain rule of lstm_step_backward, organised for speed. With dh and dc the total
    gradients on h_t and c_t (dc includes the path through h_t)::

        dc   = dc_from_later_steps + dh * o (1 - tanh(c_t)^2)
        da_i = dc * g i (1 - i)          da_f = dc * c_{t-1} f (1 - f)
        da_g = dc * i (1 - g^2)          da_o = dh * tanh(c_t) o (1 - o)

    Each step works on its own rows of the cache, (N, 4H) at a time, while they sit in the
    processor's cache: whole-sequence passes over the (T, N, 4H) arrays cost more in memory
    traffic than they save in numpy calls. ``s (1 - s)`` is taken over the whole row of
    gates at once (the g block is then overwritten with 1 - g^2). The weight gradients are
    sums over all steps: one matmul each after the loop.
    """
    check_cache("cache", cache, LSTMCache, "lstm_forward")
    x, h0, c0, U, W, gates, cs, hs, tanh_cs = cache
    dhs = as_float_array("dhs", dhs, hs.shape, {})
    if dcs is not None:
        dcs = as_float_array("dcs", dcs, cs.shape, {})
    T, N, H = hs.shape
    dtype = np.result_type(gates, dhs) if dcs is None else np.result_type(gates, dhs, dcs)
    das = np.empty((T, N, 4 * H), dtype=dtype)
    dh = np.empty((N, H), dtype=dtype)
    dc = np.empty((N, H), dtype=dtype)
    through_h = np.empty((N, H), dtype=dtype)     # o (1 - tanh(c_t)^2)
    dh_next = np.zeros((N, H), dtype=dtype)
    dc_next = np.zeros((N, H), dtype=dtype)
    for t in reversed(range(T)):
        i, f, g, o = _split(gates[t])
        da = das[t]
        da_i, da_f, da_g, da_o = _split(da)
        tanh_c = tanh_cs[t]
        np.add(dhs[t], dh_next, out=dh)
        np.square(tanh_c, out=through_h)          # dc = dc_next + dh o (1 - tanh(c_t)^2)
        np.subtract(1.0, through_h, out=through_h)
        through_h *= o
        through_h *= dh
        np.add(dc_next, through_h, out=dc)
        if dcs is not None:
            dc += dcs[t]
        np.subtract(1.0, gates[t], out=da)        # s (1 - s) for every block
        da *= gates[t]
        da_i *= g                                 # g i (1 - i)
        da_f *= cs[t - 1] if t else c0           # c_{t-1} f (1 - f)
        np.square(g, out=da_g)                    # i (1 - g^2)
        np.subtract(1.0, da_g, out=da_g)
        da_g *= i
        da_i *= dc
        da_f *= dc
        da_g *= dc
        da_o *= tanh_c                            # dh tanh(c_t) o (1 - o)
        da_o *= dh
        np.multiply(dc, f, out=dc_next)
        np.matmul(da, W, out=dh_next)
    flat_da = das.reshape(T * N, 4 * H)
    dx = (flat_da @ U).reshape(T, N, -1)
    dU = flat_da.T @ x.reshape(T * N, -1)
    # dW = sum over t of da_t.T @ h_{t-1}, with h_{t-1} = h0 at t = 0
    dW = flat_da[N:].T @ hs[:-1].reshape(-1, H) + das[0].T @ h0
    db = flat_da.sum(axis=0)
    return dx, dh_next, dc_next, dU, dW, db



def cell_jacobian(x_t, c_prev, o_prev, U, W, b, through="ifg", wrt="c_prev"):
    """dc_t/dc_{t-1} (H, H) of one step of one sequence, with h_{t-1} = o_{t-1} * tanh(c_{t-1}).

    x_t (D,), c_prev (H,), o_prev (H,) (the previous step's output gate, held fixed).
    Row j is the gradient of c_t[j], from one backward pass through the step: the gradient
    reaching c_{t-1} directly, plus the one reaching h_{t-1}, carried back to c_{t-1}.
    ``through``: the gates among "i", "f", "g" whose dependence on h_{t-1} counts; the others
    keep their values but are held fixed (``through=""`` leaves the direct path alone).
    ``wrt="h_prev"`` gives dc_t/dh_{t-1} instead, with c_{t-1} held fixed.
    """
    o_prev = as_float_array("o_prev", o_prev, ("H",), {})
    H = o_prev.shape[0]
    c_prev = as_float_array("c_prev", c_prev, ("H",), {"H": H})
    x_t = as_float_array("x_t", x_t, ("D",), {})
    if not set(through) <= set("ifg"):
        raise ValueError(f"through should hold some of the gates 'i', 'f', 'g', but got {through!r}")
    if wrt not in ("c_prev", "h_prev"):
        raise ValueError(f"wrt should be 'c_prev' or 'h_prev', but got {wrt!r}")
    h_prev = o_prev * np.tanh(c_prev)
    U, W, b = (np.array(a, dtype=np.float64) for a in (U, W, b))
    for k, gate in enumerate("ifgo"):
        if gate not in through:                         # same value, no dependence on h_{t-1}
            rows = slice(k * H, (k + 1) * H)
            b[rows] += W[rows] @ h_prev
            W[rows] = 0.0
    batch = H                                           # one copy of the step per row of J
    _, _, cache = lstm_step_forward(np.tile(x_t, (batch, 1)), np.tile(h_prev, (batch, 1)),
                                    np.tile(c_prev, (batch, 1)), U, W, b)
    _, dh_prev, dc_prev, _, _, _ = lstm_step_backward(np.zeros((batch, H)), np.eye(H), cache)
    if wrt == "h_prev":
        return dh_prev
    return dc_prev + dh_prev * (o_prev * (1.0 - np.tanh(c_prev) ** 2))
