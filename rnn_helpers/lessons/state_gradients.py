"""How far back the output's gradient reaches: norms of d y_T / d (state k steps earlier).

For a ``SequenceModel`` with one output read from the last step (``readout="last_step"``),
one backward pass from y_T gives the gradient on every earlier state. For an LSTM the
gradient on the cell state c_{T-k} is split into the total derivative (through every path,
including the one through h_{T-k} = o_{T-k} * tanh(c_{T-k})) and the part that the direct
path alone carries: the gradient entering c_T, times f_T * f_{T-1} * ... * f_{T-k+1}.
"""
import numpy as np

from .. import lstm, rnn


def _mean_norm(g):
    return float(np.linalg.norm(g, axis=1).mean())


def state_gradient_norms(model, x):
    """Mean norms over the batch of d y_T / d (state k steps back), k = 1 .. T-1.

    model: a SequenceModel ("rnn" or "lstm") with one output; x (T, N, D). Computed in float64.
    Returns a dict of arrays (T-1,): "h" -> on h_{T-k}; for the LSTM also "c" -> on c_{T-k}
    (total derivative) and "direct" -> the direct path's part; and "entering" -> the norm of
    the gradient entering the last cell state c_T (LSTM) as a float.
    """
    if model.cell not in ("rnn", "lstm") or model.output_size != 1:
        raise ValueError(f"state_gradient_norms: expected an rnn or lstm SequenceModel with one output, "
                         f"got cell {model.cell!r} with {model.output_size} outputs")
    p = {name: value.astype(np.float64) for name, value in model.params.items()}
    T, N, _ = x.shape
    H = model.hidden_size
    dh = np.tile(p["V"][0], (N, 1))                    # d y_T / d h_T (one output)
    norms = {"h": []}
    if model.cell == "rnn":
        h, caches = np.zeros((N, H)), []
        for x_t in x:
            h, cache = rnn.rnn_step_forward(x_t, h, p["U"], p["W"], p["b"])
            caches.append(cache)
        for cache in reversed(caches[1:]):
            _, dh, _, _, _ = rnn.rnn_step_backward(dh, cache)
            norms["h"].append(_mean_norm(dh))
        return {"h": np.array(norms["h"])}
    norms["c"], norms["direct"] = [], []
    h, c, caches = np.zeros((N, H)), np.zeros((N, H)), []
    for x_t in x:
        h, c, cache = lstm.lstm_step_forward(x_t, h, c, p["U"], p["W"], p["b"])
        caches.append(cache)
    dc = np.zeros((N, H))
    direct = dh * caches[-1].o * (1 - np.tanh(caches[-1].c_t) ** 2)   # the gradient entering c_T
    entering = _mean_norm(direct)
    for t in range(T - 1, 0, -1):
        _, dh, dc, _, _, _ = lstm.lstm_step_backward(dh, dc, caches[t])
        direct = direct * caches[t].f
        before = caches[t - 1]                          # the step that produced c_{t-1}, h_{t-1}
        norms["h"].append(_mean_norm(dh))
        norms["c"].append(_mean_norm(dc + dh * before.o * (1 - np.tanh(before.c_t) ** 2)))
        norms["direct"].append(_mean_norm(direct))
    result = {name: np.array(values) for name, values in norms.items()}
    result["entering"] = entering
    return result
