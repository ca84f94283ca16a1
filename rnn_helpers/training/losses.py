"""Losses for regression read-outs (classification uses rnn.softmax_cross_entropy)."""
import numpy as np

from ..validation import as_float_array


def mean_squared_error(pred, target):
    """Mean over all elements of (pred - target)^2. Returns (loss, dpred)."""
    pred = as_float_array("pred", pred, np.shape(pred), {})
    target = as_float_array("target", target, pred.shape, {})
    diff = pred - target
    return float(np.mean(diff ** 2)), 2.0 * diff / diff.size
