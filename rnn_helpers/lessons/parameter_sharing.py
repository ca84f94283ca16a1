"""Parameter sharing in numbers (notebook 01): an Elman RNN against a network on a window of T steps.

The RNN has U (H, D), W (H, H), b (H,) and a read-out V (K, H), c (K,), whatever the
length T of its sequences. A feed-forward network that reads the T input vectors of a
window at once (concatenated, T D numbers), with one hidden layer of H units and K logits
for each of the T steps, has arrays whose sizes grow with T.
"""
import numpy as np


def _positive_ints(**values):
    for name, value in values.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} should be a positive int, but got {value!r}")


def rnn_shapes(D, H, K):
    """Shapes of the Elman RNN's arrays, name -> shape."""
    _positive_ints(D=D, H=H, K=K)
    return {"U": (H, D), "W": (H, H), "b": (H,), "V": (K, H), "c": (K,)}


def window_shapes(D, H, K, T):
    """Shapes of the window network's arrays: hidden layer W1, b1 and output layer W2, b2."""
    _positive_ints(D=D, H=H, K=K, T=T)
    return {"W1": (H, T * D), "b1": (H,), "W2": (T * K, H), "b2": (T * K,)}


def size(shapes):
    """Number of scalars in arrays of the given shapes (a dict name -> shape)."""
    return sum(int(np.prod(shape)) for shape in shapes.values())


def parameter_counts(D, H, K, T):
    """{"rnn": int, "window": int}: the scalar parameters of both models for windows of T steps."""
    return {"rnn": size(rnn_shapes(D, H, K)), "window": size(window_shapes(D, H, K, T))}
