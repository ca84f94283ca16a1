"""The bidirectional RNN: one vanilla RNN reads the sequence forward in time, a second
one reads it backward in time, and their hidden states are concatenated.

Notation (column vectors in the maths, the same matrices in code; an arrow marks the
direction, so that no symbol clashes with the forget gate's f or the reset gate's r)::

    forward RNN:   ->h_t = tanh(U_fwd x_t + W_fwd ->h_{t-1} + b_fwd),   t = 0, 1, ..., T-1
    backward RNN:  <-h_t = tanh(U_rev x_t + W_rev <-h_{t+1} + b_rev),   t = T-1, ..., 1, 0
    output:        hs[t] = [->h_t ; <-h_t]                                (2H values)

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


def birnn_forward(x, h0, U_fwd, W_fwd, b_fwd, U_rev, W_rev, b_rev):
    """Bidirectional vanilla RNN over a sequence.

    x (T, N, D), h0 (2, N, H); forward direction U_fwd (H, D), W_fwd (H, H), b_fwd (H,);
    backward direction U_rev, W_rev, b_rev with the same shapes.
    Returns hs (T, N, 2H) = [forward states, backward states] and a cache.
    """
    dims, origin = {}, {}
    x = as_float_array("x", x, ("T", "N", "D"), dims, origin)
    h0 = as_float_array("h0", h0, (2, "N", "H"), dims, origin)
    arrays = {}
    for name, value, spec in (("U_fwd", U_fwd, ("H", "D")), ("W_fwd", W_fwd, ("H", "H")), ("b_fwd", b_fwd, ("H",)),
                              ("U_rev", U_rev, ("H", "D")), ("W_rev", W_rev, ("H", "H")), ("b_rev", b_rev, ("H",))):
        arrays[name] = as_float_array(name, value, spec, dims, origin)
    hs_f, cache_f = rnn_forward(x, h0[0], arrays["U_fwd"], arrays["W_fwd"], arrays["b_fwd"])
    hs_r, cache_r = rnn_forward(x[::-1], h0[1], arrays["U_rev"], arrays["W_rev"], arrays["b_rev"])
    hs = np.concatenate([hs_f, hs_r[::-1]], axis=-1)
    return hs, BiRNNCache(cache_f, cache_r)


def birnn_backward(dhs, cache):
    """Backward pass of ``birnn_forward``.

    dhs (T, N, 2H) is the upstream gradient on every output. Returns
    dx (T, N, D), dh0 (2, N, H), dU_fwd, dW_fwd, db_fwd, dU_rev, dW_rev, db_rev.
    """
    check_cache("cache", cache, BiRNNCache, "birnn_forward")
    T, N, H = cache.forward.hs.shape
    dhs = as_float_array("dhs", dhs, (T, N, 2 * H), {})
    dx_f, dh0_f, dU_fwd, dW_fwd, db_fwd = rnn_backward(dhs[..., :H], cache.forward)
    # The backward RNN saw the sequence reversed: reverse its upstream gradient the same
    # way, and reverse the gradient it returns on its inputs back to the original order.
    dx_r, dh0_r, dU_rev, dW_rev, db_rev = rnn_backward(dhs[::-1, :, H:], cache.reverse)
    dx = dx_f + dx_r[::-1]
    dh0 = np.stack([dh0_f, dh0_r])
    return dx, dh0, dU_fwd, dW_fwd, db_fwd, dU_rev, dW_rev, db_rev
