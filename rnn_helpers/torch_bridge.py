"""The course's recurrent layers in PyTorch: weight conversion and torch's GRU in numpy.

PyTorch's ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU`` store, for layer k (and ``_reverse`` for
the backward direction of a bidirectional layer)::

    weight_ih_l{k}  (G*H, D)   the course's U      (G = 1 rnn, 4 lstm, 3 gru)
    weight_hh_l{k}  (G*H, H)   the course's W
    bias_ih_l{k}    (G*H,)     \\ two biases where the course has one b: for the RNN and
    bias_hh_l{k}    (G*H,)     /  the LSTM only their sum matters (b = b_ih + b_hh)

The orientation is the course's (rows are output units), the LSTM's gate order i, f, g, o
is the course's, and the GRU's blocks r, z, n are in the course's order too. But torch's GRU
is a different cell (see notebook 10)::

    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))      reset AFTER the matmul
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}                           z and 1 - z swapped

The swap is exact to convert: sigmoid(-a) = 1 - sigmoid(a), so negating the z rows of U, W
and b turns the course's z into torch's. The reset position is not: r * (W h) and W (r * h)
differ unless W is diagonal. ``gru_reset_after_forward`` is torch's GRU in numpy, and
``torch_layer_forward`` its RNN and LSTM, from torch's own arrays.

Only ``load_state`` needs torch, and imports it when called; everything else is numpy.
"""
import numpy as np

from .lstm import lstm_forward
from .rnn import rnn_forward
from .validation import as_float_array

_GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def torch_available():
    """True if PyTorch can be imported."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _check_layer(cell, U, W, b):
    dims, origin = {}, {}
    G = _GATES[cell]
    W = as_float_array("W", W, (None, "H"), dims, origin)
    dims["GH"], origin["GH"] = G * dims["H"], f"{G} * H of W"
    W = as_float_array("W", W, ("GH", "H"), dims, origin)
    U = as_float_array("U", U, ("GH", "D"), dims, origin)
    b = as_float_array("b", b, ("GH",), dims, origin)
    return U, W, b


def torch_names(layer=0, reverse=False):
    """The four parameter names of one layer and direction, e.g. 'weight_ih_l0_reverse'."""
    suffix = f"_l{layer}" + ("_reverse" if reverse else "")
    return tuple(f"{kind}{suffix}" for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))


def course_to_torch(cell, U, W, b, layer=0, reverse=False):
    """The course's U, W, b of an rnn or lstm layer -> dict of torch parameter arrays.

    The whole bias goes to ``bias_ih`` and ``bias_hh`` is zero (any split with
    b_ih + b_hh = b gives the same layer). For the GRU use ``course_gru_to_torch_z_flip``.
    """
    if cell not in ("rnn", "lstm"):
        raise ValueError(f"cell should be 'rnn' or 'lstm' (the GRU has course_gru_to_torch_z_flip), "
                         f"but got {cell!r}")
    U, W, b = _check_layer(cell, U, W, b)
    names = torch_names(layer, reverse)
    return dict(zip(names, (U.copy(), W.copy(), b.copy(), np.zeros_like(b))))


def course_gru_to_torch_z_flip(U, W, b, layer=0, reverse=False):
    """The course's GRU weights -> torch's GRU parameter arrays, z converted exactly.

    torch's update gate is the course's 1 - z: the z rows of U, W and b are negated
    (sigmoid(-a) = 1 - sigmoid(a)). The candidate's bias goes to b_in and b_hn = 0. The
    reset gate stays where torch puts it (after the matmul), so the torch layer equals the
    course's layer only where r * (W_n h) = W_n (r * h), e.g. if r = 1 or W_n is diagonal.
    """
    U, W, b = _check_layer("gru", U, W, b)
    H = W.shape[1]
    names = torch_names(layer, reverse)
    return dict(zip(names, (_negate_z(U, H), _negate_z(W, H), _negate_z(b, H), np.zeros_like(b))))


def _negate_z(A, H):
    """A copy of A (GRU blocks r, z, n stacked along axis 0) with the z block negated."""
    A = np.array(A)
    A[H:2 * H] *= -1
    return A


def torch_gru_to_course_z_flip(state, layer=0, reverse=False):
    """Inverse of course_gru_to_torch_z_flip: torch GRU arrays -> U, W, b (numpy).

    The r and z biases are summed (b_ir + b_hr); b_hn must be zero, because a bias inside
    the reset product has no place in the course's GRU.
    """
    w_ih, w_hh, b_ih, b_hh = (np.asarray(state[n]) for n in torch_names(layer, reverse))
    H = w_hh.shape[1]
    if np.any(b_hh[2 * H:] != 0):
        raise ValueError("bias_hh's n block (b_hn) should be zero: the course's GRU has no "
                         "bias inside the reset product")
    return _negate_z(w_ih, H), _negate_z(w_hh, H), _negate_z(b_ih + b_hh, H)


def torch_to_course(state, layer=0, reverse=False):
    """torch's arrays of one rnn or lstm layer and direction -> the course's U, W, b, arrays of their own.

    state: dict with torch's four arrays of this layer (``torch_names``), G = 1 (RNN) or 4 (LSTM).
    The arrays returned share no memory with state's, so training the torch layer further (in
    place) leaves them as they are. For the GRU use ``torch_gru_to_course_z_flip``.
    """
    names = torch_names(layer, reverse)
    dims, origin = {}, {}
    w_hh = as_float_array(names[1], state[names[1]], (None, "H"), dims, origin)
    if w_hh.shape[0] not in (w_hh.shape[1], 4 * w_hh.shape[1]):
        raise ValueError(f"{names[1]} should be an RNN's (H, H) or an LSTM's (4H, H), but got shape {w_hh.shape}")
    dims["GH"], origin["GH"] = w_hh.shape[0], f"the rows of {names[1]}"
    w_ih = as_float_array(names[0], state[names[0]], ("GH", "D"), dims, origin)
    b_ih, b_hh = (as_float_array(name, state[name], ("GH",), dims, origin) for name in names[2:])
    return w_ih.copy(), w_hh.copy(), b_ih + b_hh


def torch_h0_shape(num_layers, bidirectional, batch, hidden):
    """Shape of torch's h0 (and c0): (num_layers * num_directions, batch, hidden)."""
    return (num_layers * (2 if bidirectional else 1), batch, hidden)


def torch_layer_forward(x, h0, state, c0=None, layer=0, reverse=False):
    """torch's ``nn.RNN`` (tanh) or ``nn.LSTM`` layer in numpy, from its own four arrays.

    x (T, N, D), h0 (N, H), c0 (N, H) for the LSTM (zeros if None, as torch's default);
    state: dict with torch's arrays of this layer (G = 1: RNN, G = 4: LSTM). Returns hs (T, N, H).
    The two biases enter only as their sum, the course's b.
    """
    U, W, b = torch_to_course(state, layer, reverse)
    if W.shape[0] == W.shape[1]:
        return rnn_forward(x, h0, U, W, b)[0]
    c0 = np.zeros_like(h0) if c0 is None else c0
    return lstm_forward(x, h0, c0, U, W, b)[0]


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))


def gru_reset_after_forward(x, h0, state, layer=0, reverse=False):
    """torch's GRU layer (reset after the matmul, z and 1 - z swapped) in numpy.

    x (T, N, D), h0 (N, H), state: dict with torch's four arrays of this layer.
    Returns hs (T, N, H). Forward only: used to show that torch's cell is reproduced to
    float precision, while the course's cell is a different model.
    """
    w_ih, w_hh, b_ih, b_hh = (np.asarray(state[n]) for n in torch_names(layer, reverse))
    dims = {}
    x = as_float_array("x", x, ("T", "N", "D"), dims)
    h0 = as_float_array("h0", h0, ("N", "H"), dims)
    H = dims["H"]
    gi = x @ w_ih.T + b_ih                                 # (T, N, 3H): input parts
    hs = np.empty(gi.shape[:2] + (H,), dtype=np.result_type(gi, h0, w_hh))
    h = h0
    for t in range(x.shape[0]):
        gh = h @ w_hh.T + b_hh                             # (N, 3H): hidden parts
        r = _sigmoid(gi[t, :, :H] + gh[:, :H])
        z = _sigmoid(gi[t, :, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gi[t, :, 2 * H:] + r * gh[:, 2 * H:])
        h = (1.0 - z) * n + z * h
        hs[t] = h
    return hs


def load_state(module, state):
    """Copy numpy arrays into a torch module's parameters of the same names (in place).

    Each array must have the parameter's shape; it is converted to the parameter's dtype.
    """
    import torch

    params = dict(module.named_parameters())
    with torch.no_grad():
        for name, value in state.items():
            if name not in params:
                raise ValueError(f"{type(module).__name__} has no parameter {name!r}; "
                                 f"it has {sorted(params)}")
            value = np.asarray(value)
            if tuple(params[name].shape) != value.shape:
                raise ValueError(f"{name} should have shape {tuple(params[name].shape)}, "
                                 f"but got shape {value.shape}")
            params[name].copy_(torch.tensor(value, dtype=params[name].dtype))
    return module
