"""A stack of minGRU (or minLSTM) layers with a linear read-out: the model that trains without a
loop over time.

It has the interface of ``SequenceModel`` (``params``, ``forward``, ``backward``,
``num_parameters``), so the course's training loop, clipping and optimisers train it
unchanged. Layer l maps its input (T, N, D_l) to states (T, N, H_l) with
``linear_rnn.mingru_forward`` (``cell="mingru"``), ``linear_rnn.minlstm_forward``
(``cell="minlstm"``) or ``linear_rnn.fixed_decay_forward`` (``cell="fixed_decay"``), one matmul
and one associative scan each; the next layer reads those states, so its gates depend on the
past through them. The read-out o = V h + c reads the last state (``readout="last_step"``,
outputs (N, K)) or every state (``"every_step"``, outputs (T, N, K)).

Parameters: ``U0`` (G H_0, D), ``b0`` (G H_0,), ``U1`` (G H_1, H_0), ``b1``, ..., ``V`` (K, H_last),
``c`` (K,), with G = 2 blocks for minGRU and its fixed-decay control (the gate z, then the
candidate) and G = 3 for minLSTM (the forget gate f, the input gate i, then the candidate): the
gates are the rows [:(G - 1) H] of each U and b, the candidate the last H rows.

Two time-invariant versions of minGRU, for notebook 11's selectivity ablation:

* ``cell="fixed_decay"``: the same parameters and the same input-dependent gate z_t, but the
  decay is 1 - sigmoid(b_z) at every step, h_t = (1 - sigmoid(b_z)) h_{t-1} + z_t h~_t: the
  gate scales what is written (a nonlinearity of the input), never what is kept;
* ``selective=False``: the gates' input weights (rows [:(G - 1) H] of every U) are zero and
  stay zero, so every gate is the same at every step: h_t = a h_{t-1} + (1 - a) h~_t with a
  fixed, learned decay a per unit, and the stack is linear in its input from end to end.
"""
import numpy as np

from ..linear_rnn import (fixed_decay_backward, fixed_decay_forward, mingru_backward, mingru_forward,
                          minlstm_backward, minlstm_forward)
from ..validation import as_float_array
from . import initialisation

READOUTS = ("every_step", "last_step")
#: cell -> (blocks stacked in U and b, forward, backward)
CELLS = {"mingru": (2, mingru_forward, mingru_backward), "minlstm": (3, minlstm_forward, minlstm_backward),
         "fixed_decay": (2, fixed_decay_forward, fixed_decay_backward)}


class MinGRUModel:
    """Stacked minGRU (or minLSTM) layers of sizes ``hidden_sizes`` and a linear read-out of size ``output_size``.

    ``gate_bias`` sets the decay every unit starts with: minGRU's update gates (and the fixed-decay
    control's) get the bias b_z = gate_bias, so z = sigmoid(gate_bias); minLSTM's get b_f = -gate_bias and
    b_i = gate_bias, so that its normalised input gate i' = i / (f + i) is the same
    sigmoid(gate_bias) (sigmoid(-g) + sigmoid(g) = 1). A negative value starts every unit with
    a long memory (decay 1 - sigmoid(gate_bias) close to 1), in every cell alike.
    """

    def __init__(self, input_size, hidden_sizes, output_size, *, cell="mingru", readout="last_step",
                 selective=True, gate_bias=0.0, rng=None, dtype=np.float64):
        if cell not in CELLS:
            raise ValueError(f"cell should be one of {tuple(CELLS)}, but got {cell!r}")
        if readout not in READOUTS:
            raise ValueError(f"readout should be one of {READOUTS}, but got {readout!r}")
        hidden_sizes = tuple(hidden_sizes)
        sizes = (input_size, *hidden_sizes, output_size)
        if not hidden_sizes or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1
                                   for s in sizes):
            raise ValueError("input_size, output_size and every hidden size should be positive integers, "
                             f"but got {input_size!r}, {hidden_sizes!r}, {output_size!r}")
        if not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng should be a numpy Generator (course_rng(seed)), but got {type(rng).__name__}")
        self.cell, self.readout, self.selective, self.dtype = cell, readout, selective, np.dtype(dtype)
        self.input_size, self.hidden_sizes, self.output_size = input_size, hidden_sizes, output_size
        blocks, self._forward, self._backward = CELLS[cell]
        params = {}
        for layer, (D, H) in enumerate(zip(sizes[:-2], hidden_sizes)):
            U = initialisation.scaled_normal((blocks * H, D), rng)
            if not selective:
                U[:(blocks - 1) * H] = 0.0
            b = np.zeros(blocks * H)
            if cell == "minlstm":
                b[:H], b[H:2 * H] = -gate_bias, gate_bias
            else:
                b[:H] = gate_bias
            params[f"U{layer}"], params[f"b{layer}"] = U, b
        params["V"] = initialisation.scaled_normal((output_size, hidden_sizes[-1]), rng)
        params["c"] = np.zeros(output_size)
        self.params = {name: value.astype(self.dtype) for name, value in params.items()}

    def num_parameters(self):
        """Total number of scalar parameters (the frozen gate weights of the ablation included)."""
        return sum(p.size for p in self.params.values())

    def num_trainable_parameters(self):
        """The parameters that training changes: without the ablation's gate weights held at zero."""
        frozen = 0 if self.selective else sum(
            self.params[f"U{layer}"][:-H].size for layer, H in enumerate(self.hidden_sizes))
        return self.num_parameters() - frozen

    def forward(self, x):
        """x (T, N, D) -> outputs, cache, final states (a list, one (N, H_l) per layer)."""
        x = as_float_array("x", x, ("T", "N", self.input_size), {}).astype(self.dtype, copy=False)
        caches, inputs = [], x
        for layer, H in enumerate(self.hidden_sizes):
            h0 = np.zeros((x.shape[1], H), dtype=self.dtype)
            inputs, cache = self._forward(inputs, h0, self.params[f"U{layer}"], self.params[f"b{layer}"])
            caches.append(cache)
        hs = inputs
        read = hs if self.readout == "every_step" else hs[-1]
        outputs = read @ self.params["V"].T + self.params["c"]
        return outputs, (caches, hs), [cache.hs[-1] for cache in caches]

    def backward(self, doutputs, cache):
        """Gradients of the loss with respect to every parameter, given doutputs (shape of outputs)."""
        caches, hs = cache
        T, N, H = hs.shape
        V = self.params["V"]
        if self.readout == "every_step":
            doutputs = as_float_array("doutputs", doutputs, (T, N, self.output_size), {})
            flat = doutputs.reshape(T * N, -1)
            grads = {"V": flat.T @ hs.reshape(T * N, H), "c": flat.sum(axis=0)}
            dhs = doutputs @ V
        else:
            doutputs = as_float_array("doutputs", doutputs, (N, self.output_size), {})
            grads = {"V": doutputs.T @ hs[-1], "c": doutputs.sum(axis=0)}
            dhs = np.zeros_like(hs)
            dhs[-1] = doutputs @ V
        for layer in reversed(range(len(self.hidden_sizes))):
            dhs, _, dU, db = self._backward(dhs.astype(self.dtype, copy=False), caches[layer])
            if not self.selective:
                dU[:-self.hidden_sizes[layer]] = 0.0     # the gates ignore the input: no gradient
            grads[f"U{layer}"], grads[f"b{layer}"] = dU, db
        return grads
