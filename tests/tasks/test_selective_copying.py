import numpy as np
import pytest

from rnn_helpers.tasks.selective_copying import copying_accuracy, copying_loss, make_selective_copying
from rnn_helpers.gradcheck import numerical_gradient, rel_error


def test_marked_tokens_are_the_targets_in_order():
    x, y = make_selective_copying(50, 12, 3, 5, np.random.default_rng(0))
    assert x.shape == (12, 50, 6) and y.shape == (3, 50)
    np.testing.assert_array_equal(x[:, :, :5].sum(axis=2), 1.0)
    np.testing.assert_array_equal(x[:, :, 5].sum(axis=0), 3)
    for n in range(50):
        marked = np.flatnonzero(x[:, n, 5])
        np.testing.assert_array_equal(x[marked, n, :5].argmax(axis=1), y[:, n])


def test_loss_gradient_and_accuracy():
    rng = np.random.default_rng(1)
    _, y = make_selective_copying(4, 6, 2, 3, rng)
    outputs = rng.normal(size=(4, 6))
    loss, doutputs = copying_loss(outputs, y)
    assert rel_error(doutputs, numerical_gradient(lambda o: copying_loss(o, y)[0], outputs.copy())) < 1e-7
    perfect = np.zeros((4, 2, 3))
    perfect[np.arange(4)[:, None], np.arange(2), y.T] = 10.0
    assert copying_accuracy(perfect.reshape(4, 6), y) == 1.0


def test_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="K"):
        make_selective_copying(2, 3, 4, 2, rng)
    with pytest.raises(ValueError, match="V"):
        make_selective_copying(2, 3, 1, 1, rng)
    with pytest.raises(ValueError, match="rng"):
        make_selective_copying(2, 3, 1, 2, 0)
