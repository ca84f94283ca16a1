"""Deep (stacked) RNNs: the hidden states of one recurrent layer are the inputs of the next.

With L layers, layer 0 reads x (T, N, D) and every layer l > 0 reads the states of layer
l-1. Each layer is a vanilla RNN (``rnn.rnn_forward``) or, with ``bidirectional=True``, a
bidirectional RNN (``bidirectional.birnn_forward``), whose (T, N, 2H) states feed the next
layer. Only the states of the top layer are returned; the loss reaches the lower layers
through the layers above them.

Parameters are a list with one tuple per layer:

* unidirectional: ``(U, W, b)`` with U (H, D) for layer 0 and (H, H) above it;
* bidirectional: ``(U_fwd, W_fwd, b_fwd, U_rev, W_rev, b_rev)`` with U (H, D) for layer 0 and (H, 2H)
  above it.

``StackedRNNModel`` puts a linear read-out on top, for tagging (an output at every
step) and for many-to-one classification.

Initial states follow PyTorch's layout: h0 is (L, N, H), or (2L, N, H) when bidirectional
with ``h0[2l]`` the forward and ``h0[2l + 1]`` the backward direction of layer l.
"""
from typing import NamedTuple

import numpy as np

from .training import initialisation
from .bidirectional import birnn_backward, birnn_forward
from .rnn import rnn_backward, rnn_forward
from .validation import as_float_array, check_cache

_NAMES = ("U", "W", "b")
_BI_NAMES = ("U_fwd", "W_fwd", "b_fwd", "U_rev", "W_rev", "b_rev")


class StackedRNNCache(NamedTuple):
    layers: tuple          # one rnn / birnn cache per layer, bottom first
    bidirectional: bool


def _check_layers(x, h0, layers, bidirectional):
    if not isinstance(bidirectional, bool):
        raise ValueError(f"bidirectional should be True or False, but got {bidirectional!r}")
    if not isinstance(layers, (list, tuple)) or len(layers) == 0:
        raise ValueError(f"layers should be a non-empty list of parameter tuples, but got {layers!r:.60}")
    names = _BI_NAMES if bidirectional else _NAMES
    directions = 2 if bidirectional else 1
    dims, origin = {}, {}
    x = as_float_array("x", x, ("T", "N", "D"), dims, origin)
    h0 = as_float_array("h0", h0, (directions * len(layers), "N", "H"), dims, origin)
    checked = []
    for l, layer in enumerate(layers):
        if not isinstance(layer, (list, tuple)) or len(layer) != len(names):
            raise ValueError(
                f"layers[{l}] should be a tuple ({', '.join(names)}) of {len(names)} arrays, "
                f"but got {type(layer).__name__}" + (f" of length {len(layer)}" if isinstance(layer, (list, tuple)) else "")
            )
        fan_in = "D" if l == 0 else directions * dims["H"]
        specs = {"U": ("H", fan_in), "W": ("H", "H"), "b": ("H",)}
        checked.append(tuple(
            as_float_array(f"layers[{l}] {name}", value, specs[name[0]], dims, origin)
            for name, value in zip(names, layer)
        ))
    return x, h0, checked


def stacked_rnn_forward(x, h0, layers, bidirectional=False):
    """L stacked RNN layers over x (T, N, D).

    h0 (L, N, H), or (2L, N, H) if bidirectional; layers: list of L parameter tuples
    (see the module docstring). Returns the top layer's states hs (T, N, H), or
    (T, N, 2H) if bidirectional, and a cache.
    """
    x, h0, layers = _check_layers(x, h0, layers, bidirectional)
    caches = []
    inputs = x
    for l, params in enumerate(layers):
        if bidirectional:
            inputs, cache = birnn_forward(inputs, h0[2 * l:2 * l + 2], *params)
        else:
            inputs, cache = rnn_forward(inputs, h0[l], *params)
        caches.append(cache)
    return inputs, StackedRNNCache(tuple(caches), bidirectional)


def stacked_rnn_backward(dhs, cache):
    """Backward pass of ``stacked_rnn_forward``.

    dhs is the upstream gradient on the top layer's states, shaped like them. Returns
    dx (T, N, D), dh0 (shaped like h0) and a list with one gradient tuple per layer, in
    the order of ``layers`` (dU, dW, db) or (dU_fwd, dW_fwd, db_fwd, dU_rev, dW_rev, db_rev).
    """
    check_cache("cache", cache, StackedRNNCache, "stacked_rnn_forward")
    top = cache.layers[-1]
    top_shape = (top.forward.hs.shape[:2] + (2 * top.forward.hs.shape[2],)) if cache.bidirectional else top.hs.shape
    upstream = as_float_array("dhs", dhs, top_shape, {})
    dh0s, dlayers = [], []
    for layer_cache in reversed(cache.layers):
        if cache.bidirectional:
            upstream, dh0, *dparams = birnn_backward(upstream, layer_cache)
        else:
            upstream, dh0, *dparams = rnn_backward(upstream, layer_cache)
            dh0 = dh0[None]
        dh0s.append(dh0)
        dlayers.append(tuple(dparams))
    dh0 = np.concatenate(dh0s[::-1], axis=0)
    return upstream, dh0, dlayers[::-1]


READOUTS = ("every_step", "last_step")


class StackedRNNModel:
    """Stacked (optionally bidirectional) vanilla RNN layers + linear read-out o = V h + c.

    The same interface as ``models.SequenceModel`` (``params``, ``forward``, ``backward``),
    so ``training.train`` and the optimisers drive it.

    x (T, N, D) -> outputs (T, N, K) with readout="every_step" (one output per step, read
    from the top layer's states), or (N, K) with readout="last_step" (many-to-one). For a
    unidirectional model "last_step" reads the top state at t = T-1; for a bidirectional
    one it reads the final state of each direction: the forward state at t = T-1 and the
    backward state at t = 0, both of which have read the whole sequence.

    Parameters (dict): per layer l, "U_l{l}", "W_l{l}", "b_l{l}" (unidirectional) or
    "U_fwd_l{l}", "W_fwd_l{l}", "b_fwd_l{l}", "U_rev_l{l}", "W_rev_l{l}", "b_rev_l{l}" (bidirectional),
    shapes as in ``stacked_rnn_forward``; read-out V (K, dirs*H), c (K,).
    """

    def __init__(self, input_size, hidden_size, output_size, *, num_layers=1, bidirectional=False,
                 readout="every_step", rng=None, init="default", dtype=np.float64):
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size),
                            ("output_size", output_size), ("num_layers", num_layers)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} should be a positive integer, but got {value!r}")
        if not isinstance(bidirectional, bool):
            raise ValueError(f"bidirectional should be True or False, but got {bidirectional!r}")
        if readout not in READOUTS:
            raise ValueError(f"readout should be one of {READOUTS}, but got {readout!r}")
        if init not in ("default", "orthogonal"):
            raise ValueError(f"init should be 'default' or 'orthogonal', but got {init!r}")
        rng = np.random.default_rng(0) if rng is None else rng
        self.input_size, self.hidden_size, self.output_size = input_size, hidden_size, output_size
        self.num_layers, self.bidirectional, self.readout = num_layers, bidirectional, readout
        self.dtype = np.dtype(dtype)
        self.directions = 2 if bidirectional else 1
        H = hidden_size
        params = {}
        for l in range(num_layers):
            fan_in = input_size if l == 0 else self.directions * H
            for suffix in self._direction_suffixes():
                params[f"U{suffix}_l{l}"] = initialisation.scaled_normal((H, fan_in), rng)
                params[f"W{suffix}_l{l}"] = (initialisation.scaled_normal((H, H), rng) if init == "default"
                                             else initialisation.orthogonal(H, rng))
                params[f"b{suffix}_l{l}"] = np.zeros(H)
        params["V"] = initialisation.scaled_normal((output_size, self.directions * H), rng)
        params["c"] = np.zeros(output_size)
        self.params = {name: value.astype(self.dtype) for name, value in params.items()}

    def _direction_suffixes(self):
        return ("_fwd", "_rev") if self.bidirectional else ("",)

    def _layer_names(self, l):
        return [f"{p}{suffix}_l{l}" for suffix in self._direction_suffixes() for p in "UWb"]

    def layers(self):
        """The parameters as the list of per-layer tuples that ``stacked_rnn_forward`` takes."""
        return [tuple(self.params[name] for name in self._layer_names(l)) for l in range(self.num_layers)]

    def num_parameters(self):
        """Total number of scalar parameters."""
        return sum(p.size for p in self.params.values())

    def initial_state(self, N):
        """Zero initial states (num_layers * directions, N, H)."""
        return np.zeros((self.num_layers * self.directions, N, self.hidden_size), dtype=self.dtype)

    def _check_input(self, x):
        x = as_float_array("x", x, ("T", "N", self.input_size), {})
        return x.astype(self.dtype, copy=False)

    def hidden_states(self, x, state=None):
        """The top layer's states (T, N, dirs*H) for the inputs x (T, N, D)."""
        x = self._check_input(x)
        state = self.initial_state(x.shape[1]) if state is None else state
        return stacked_rnn_forward(x, state, self.layers(), self.bidirectional)[0]

    def forward(self, x, state=None):
        """x (T, N, D) -> outputs, cache, final_state.

        final_state (num_layers * directions, N, H) holds the last state of every layer
        and direction (PyTorch's h_n); it can be passed back as ``state`` only for a
        unidirectional model (a backward RNN cannot continue into the next chunk).
        """
        x = self._check_input(x)
        state = self.initial_state(x.shape[1]) if state is None else state
        hs, cache = stacked_rnn_forward(x, state, self.layers(), self.bidirectional)
        H = self.hidden_size
        if self.bidirectional:
            final_state = np.stack([s for layer in cache.layers
                                    for s in (layer.forward.hs[-1], layer.reverse.hs[-1])])
        else:
            final_state = np.stack([layer.hs[-1] for layer in cache.layers])
        if self.readout == "every_step":
            features = hs
        elif self.bidirectional:
            features = np.concatenate([hs[-1, :, :H], hs[0, :, H:]], axis=-1)
        else:
            features = hs[-1]
        outputs = features @ self.params["V"].T + self.params["c"]
        return outputs, (cache, hs, features), final_state

    def backward(self, doutputs, cache):
        """Gradients of the loss wrt every parameter, given doutputs (shape of outputs)."""
        stack_cache, hs, features = cache
        V = self.params["V"]
        doutputs = as_float_array("doutputs", doutputs, features.shape[:-1] + (self.output_size,), {})
        flat = doutputs.reshape(-1, self.output_size)
        grads = {"V": flat.T @ features.reshape(flat.shape[0], -1), "c": flat.sum(axis=0)}
        dfeatures = doutputs @ V
        H = self.hidden_size
        if self.readout == "every_step":
            dhs = dfeatures
        else:
            dhs = np.zeros_like(hs)
            if self.bidirectional:
                dhs[-1, :, :H] = dfeatures[:, :H]
                dhs[0, :, H:] = dfeatures[:, H:]
            else:
                dhs[-1] = dfeatures
        _, _, dlayers = stacked_rnn_backward(dhs.astype(hs.dtype, copy=False), stack_cache)
        for l, dlayer in enumerate(dlayers):
            grads.update(zip(self._layer_names(l), dlayer))
        return grads
