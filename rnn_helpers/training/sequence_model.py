"""A recurrent layer (vanilla RNN, ReLU RNN, LSTM or GRU) followed by a linear read-out.

The model the course trains on its tasks: character language models and binary addition
(a read-out at every step), the adding problem and classification (a read-out of the last
state only). Parameters live in one dict so that ``optim`` and ``training`` work on any
model with the same interface (``params``, ``forward``, ``backward``).
"""
import numpy as np

from .. import relu_rnn, rnn
from . import initialisation
from ..validation import as_float_array

#: Number of stacked gate blocks in U, W and b for each cell (contract of COURSE.md).
#: "relu_rnn" is the vanilla recurrence with ReLU instead of tanh (with init="identity": the IRNN).
GATE_BLOCKS = {"rnn": 1, "relu_rnn": 1, "gru": 3, "lstm": 4}
READOUTS = ("every_step", "last_step")
INITS = ("default", "orthogonal", "identity")


def readout_backward(doutputs, hs, V):
    """Backward of the read-out o_t = c + V h_t applied at every step with the same V and c.

    doutputs (T, N, K) is the gradient on the outputs, hs (T, N, H) the hidden states.
    Returns dhs (T, N, H), the gradient sent back to every state, and dV (K, H), dc (K,),
    the sums over all steps and sequences.
    """
    T, N, H = hs.shape
    flat = doutputs.reshape(T * N, -1)
    return doutputs @ V, flat.T @ hs.reshape(T * N, H), flat.sum(axis=0)


def _positive_int(name, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} should be a positive integer, but got {value!r}")


class SequenceModel:
    """Recurrent layer + linear read-out o = V h + c.

    x (T, N, D) -> outputs (T, N, K) with readout="every_step", (N, K) with "last_step".
    Parameters: U (G*H, D), W (G*H, H), b (G*H,), V (K, H), c (K,) with G gate blocks.
    """

    def __init__(self, cell, input_size, hidden_size, output_size, *, readout="every_step",
                 rng=None, init="default", forget_bias=1.0, dtype=np.float64):
        if cell not in GATE_BLOCKS:
            raise ValueError(f"cell should be one of {sorted(GATE_BLOCKS)}, but got {cell!r}")
        if readout not in READOUTS:
            raise ValueError(f"readout should be one of {READOUTS}, but got {readout!r}")
        if init not in INITS:
            raise ValueError(f"init should be one of {INITS}, but got {init!r}")
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size),
                            ("output_size", output_size)):
            _positive_int(name, value)
        rng = np.random.default_rng(0) if rng is None else rng
        self.cell, self.readout, self.dtype = cell, readout, np.dtype(dtype)
        self.input_size, self.hidden_size, self.output_size = input_size, hidden_size, output_size
        G, H, D, K = GATE_BLOCKS[cell], hidden_size, input_size, output_size
        if init == "default":
            W = initialisation.scaled_normal((G * H, H), rng)
        elif init == "orthogonal":
            W = np.concatenate([initialisation.orthogonal(H, rng) for _ in range(G)])
        else:
            W = np.concatenate([initialisation.identity(H) for _ in range(G)])
        b = np.zeros(G * H)
        if cell == "lstm":
            b[H:2 * H] = forget_bias  # gate order i, f, g, o
        params = {"U": initialisation.scaled_normal((G * H, D), rng), "W": W, "b": b,
                  "V": initialisation.scaled_normal((K, H), rng), "c": np.zeros(K)}
        self.params = {name: value.astype(self.dtype) for name, value in params.items()}

    def num_parameters(self):
        """Total number of scalar parameters."""
        return sum(p.size for p in self.params.values())

    def initial_state(self, N):
        """Zero state for a batch of N: h (N, H), or (h, c) for the LSTM."""
        h = np.zeros((N, self.hidden_size), dtype=self.dtype)
        return (h, h.copy()) if self.cell == "lstm" else h

    def _layer_forward(self, x, state):
        p = self.params
        if self.cell == "lstm":
            from ..lstm import lstm_forward

            hs, cs, cache = lstm_forward(x, state[0], state[1], p["U"], p["W"], p["b"])
            return hs, cache, (hs[-1], cs[-1])
        if self.cell == "gru":
            from ..gru import gru_forward

            hs, cache = gru_forward(x, state, p["U"], p["W"], p["b"])
        elif self.cell == "relu_rnn":
            hs, cache = relu_rnn.relu_rnn_forward(x, state, p["U"], p["W"], p["b"])
        else:
            hs, cache = rnn.rnn_forward(x, state, p["U"], p["W"], p["b"])
        return hs, cache, hs[-1]

    def _layer_backward(self, dhs, cache):
        if self.cell == "lstm":
            from ..lstm import lstm_backward

            _, _, _, dU, dW, db = lstm_backward(dhs, cache)
        elif self.cell == "gru":
            from ..gru import gru_backward

            _, _, dU, dW, db = gru_backward(dhs, cache)
        elif self.cell == "relu_rnn":
            _, _, dU, dW, db = relu_rnn.relu_rnn_backward(dhs, cache)
        else:
            _, _, dU, dW, db = rnn.rnn_backward(dhs, cache)
        return dU, dW, db

    def hidden_states(self, x, state=None):
        """The hidden states hs (T, N, H) for the inputs x (T, N, D)."""
        x = self._check_input(x)
        state = self.initial_state(x.shape[1]) if state is None else state
        return self._layer_forward(x, state)[0]

    def _check_input(self, x):
        x = as_float_array("x", x, ("T", "N", self.input_size), {})
        return x.astype(self.dtype, copy=False)

    def forward(self, x, state=None):
        """x (T, N, D) -> outputs, cache, final_state (the state to carry to the next chunk)."""
        x = self._check_input(x)
        state = self.initial_state(x.shape[1]) if state is None else state
        hs, layer_cache, final_state = self._layer_forward(x, state)
        V, c = self.params["V"], self.params["c"]
        outputs = (hs if self.readout == "every_step" else hs[-1]) @ V.T + c
        return outputs, (layer_cache, hs), final_state

    def backward(self, doutputs, cache):
        """Gradients of the loss wrt every parameter, given doutputs (shape of outputs)."""
        layer_cache, hs = cache
        V = self.params["V"]
        T, N, H = hs.shape
        if self.readout == "every_step":
            doutputs = as_float_array("doutputs", doutputs, (T, N, self.output_size), {})
            dhs, dV, dc = readout_backward(doutputs, hs, V)
        else:
            doutputs = as_float_array("doutputs", doutputs, (N, self.output_size), {})
            dV = doutputs.T @ hs[-1]
            dc = doutputs.sum(axis=0)
            dhs = np.zeros_like(hs)
            dhs[-1] = doutputs @ V
        dU, dW, db = self._layer_backward(dhs.astype(hs.dtype, copy=False), layer_cache)
        return {"U": dU, "W": dW, "b": db, "V": dV, "c": dc}
