import numpy as np
import pytest

from rnn_helpers.tasks.adding_problem import BASELINE_MSE, make_adding_problem


def test_structure_and_target():
    x, y = make_adding_problem(500, 20, np.random.default_rng(0))
    assert x.shape == (20, 500, 2) and y.shape == (500, 1)
    markers = x[:, :, 1]
    np.testing.assert_array_equal(markers.sum(axis=0), 2)
    np.testing.assert_array_equal(markers[:10].sum(axis=0), 1)
    np.testing.assert_allclose(y[:, 0], (x[:, :, 0] * markers).sum(axis=0))


def test_baseline_is_the_variance_of_the_target():
    _, y = make_adding_problem(200_000, 10, np.random.default_rng(1))
    assert y.mean() == pytest.approx(1.0, abs=0.01)
    assert np.mean((y - 1.0) ** 2) == pytest.approx(BASELINE_MSE, rel=0.02)


def test_seeded_and_validated():
    a = make_adding_problem(3, 5, np.random.default_rng(7))
    b = make_adding_problem(3, 5, np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ValueError, match="T should be an integer >= 2"):
        make_adding_problem(3, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="n should be a positive integer"):
        make_adding_problem(0, 5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng should be a numpy Generator"):
        make_adding_problem(3, 5, 0)
