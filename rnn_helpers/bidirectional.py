"""The bidirectional RNN: one vanilla RNN reads the sequence forward in time, a second
one reads it backward in time, and their hidden states are concatenated.

Notation (column vectors in the maths, the same matrices in code)::

    forward RNN:   h_t = tanh(U_f x_t + W_f h_{t-1} + b_f),   t = 0, 1, ..., T-1
    backward RNN:  g_t = tanh(U_r x_t + W_r g_{t+1} + b_r),   t = T-1, ..., 1, 0
    output:        hs[t] = [h_t ; g_t]                         (2H values)

Convention (the one PyTorch uses for ``bidirectional=True``):

* ``hs`` is (T, N, 2H): ``hs[..., :H]`` holds the forward states, ``hs[..., H:]`` the
  backward states, both indexed by the ORIGINAL time step t. So ``hs[t]`` sees x_0..x_t
  through its first half and x_t..x_{T-1} through its second half.
* ``h0`` is (2, N, H): ``h0[0]`` is the forward RNN's state before x_0, ``h0[1]`` the
  backward RNN's state "after" x_{T-1}, i.e. before it reads x_{T-1}.
* The final state of each direction is ``hs[-1, :, :H]`` (forward, it has read the whole
  sequence) and ``hs[0, :, H:]`` (backward, it has read the whole sequence too).

The backward RNN is the contract's ``rnn_forward`` run on ``x[::-1]``; its states are
flipped back so that they line up with the forward ones.
"""
from typing import NamedTuple

import numpy as np

from .rnn import RNNCache, rnn_backward, rnn_forward
from .validation import as_float_array, check_cache


class BiRNNCache(NamedTuple):
    forward: RNNCache   # cache of the forward RNN over x
    reverse: RNNCache   # cache of the backward RNN over x[::-1]


def birnn_forward(x, h0, U_f, W_f, b_f, U_r, W_r, b_r):
    """Bidirectional vanilla RNN over a sequence.

    x (T, N, D), h0 (2, N, H); forward direction U_f (H, D), W_f (H, H), b_f (H,);
    backward direction U_r, W_r, b_r with the same shapes.
    Returns hs (T, N, 2H) = [forward states, backward states] and a cache.
    """
    dims, origin = {}, {}
    x = as_float_array("x", x, ("T", "N", "D"), dims, origin)
    h0 = as_float_array("h0", h0, (2, "N", "H"), dims, origin)
    arrays = {}
    for name, value, spec in (("U_f", U_f, ("H", "D")), ("W_f", W_f, ("H", "H")), ("b_f", b_f, ("H",)),
                              ("U_r", U_r, ("H", "D")), ("W_r", W_r, ("H", "H")), ("b_r", b_r, ("H",))):
        arrays[name] = as_float_array(name, value, spec, dims, origin)
    hs_f, cache_f = rnn_forward(x, h0[0], arrays["U_f"], arrays["W_f"], arrays["b_f"])
    hs_r, cache_r = rnn_forward(x[::-1], h0[1], arrays["U_r"], arrays["W_r"], arrays["b_r"])
    hs = np.concatenate([hs_f, hs_r[::-1]], axis=-1)
    return hs, BiRNNCache(cache_f, cache_r)


def birnn_backward(dhs, cache):
    """Backward pass of ``birnn_forward``.

    dhs (T, N, 2H) is the upstream gradient on every output. Returns
    dx (T, N, D), dh0 (2, N, H), dU_f, dW_f, db_f, dU_r, dW_r, db_r.
    """
    check_cache("cache", cache, BiRNNCache, "birnn_forward")
    T, N, H = cache.forward.hs.shape
    dhs = as_float_array("dhs", dhs, (T, N, 2 * H), {})
    dx_f, dh0_f, dU_f, dW_f, db_f = rnn_backward(dhs[..., :H], cache.forward)
    # The backward RNN saw the sequence reversed: reverse its upstream gradient the same
    # way, and reverse the gradient it returns on its inputs back to the original order.
    dx_r, dh0_r, dU_r, dW_r, db_r = rnn_backward(dhs[::-1, :, H:], cache.reverse)
    dx = dx_f + dx_r[::-1]
    dh0 = np.stack([dh0_f, dh0_r])
    return dx, dh0, dU_f, dW_f, db_f, dU_r, dW_r, db_r
