"""The checks used by the notebooks' test cells resist wrong, lazy and cheating answers."""
import numpy as np
import pytest

import rnn_helpers.rnn
from rnn_helpers import grading
from rnn_helpers.rnn import rnn_step_forward as aliased_reference


def inputs():
    rng = np.random.default_rng(0)
    return (rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(4, 3)),
            rng.normal(size=(4, 4)), rng.normal(size=4))


def test_reference_is_disabled_under_any_name_and_restored_after():
    with grading.reference_disabled():
        with pytest.raises(grading.ReferenceImplementationCalled, match="rnn_helpers.rnn.rnn_step_forward"):
            aliased_reference(*inputs())
        with pytest.raises(grading.ReferenceImplementationCalled):
            rnn_helpers.rnn.rnn_forward(np.zeros((1, 2, 3)), *inputs()[1:])
    h, _ = aliased_reference(*inputs())
    assert h.shape == (2, 4)


def test_reference_methods_are_disabled_too():
    from rnn_helpers.optim import Adam
    opt = Adam()
    with grading.reference_disabled():
        with pytest.raises(grading.ReferenceImplementationCalled):
            opt.step({"w": np.zeros(1)}, {"w": np.ones(1)})


def test_load_reference_is_immune_to_monkeypatching(monkeypatch):
    monkeypatch.setattr(rnn_helpers.rnn, "rnn_step_forward", lambda *a: (np.zeros((2, 4)), None))
    fresh = grading.load_reference("rnn")
    h, _ = fresh.rnn_step_forward(*inputs())
    assert np.abs(h).sum() > 0
    with grading.reference_disabled():
        assert fresh.rnn_step_forward(*inputs())[0].shape == (2, 4)


def test_reference_in_a_subpackage_is_disabled_too():
    from rnn_helpers.lessons.leaky_units import leaky_rnn_forward
    x = np.zeros((3, 2, 4))
    with grading.reference_disabled():
        with pytest.raises(grading.ReferenceImplementationCalled,
                           match="rnn_helpers.lessons.leaky_units.leaky_rnn_forward"):
            leaky_rnn_forward(x, np.zeros((2, 4)), np.eye(4), np.eye(4), np.zeros(4), 0.5)


def test_load_reference_takes_dotted_names_in_subpackages():
    fresh = grading.load_reference("lessons.leaky_units")
    assert fresh.__name__ == "rnn_helpers.lessons.leaky_units"
    assert callable(fresh.leaky_rnn_forward)
    with pytest.raises(ValueError, match="no module rnn_helpers.lessons.nonexistent"):
        grading.load_reference("lessons.nonexistent")


class AlwaysEqual:
    def __eq__(self, other):
        return True

    __array_priority__ = 1000


@pytest.mark.parametrize("got", [AlwaysEqual(), None, [[0.0]], np.ma.masked_array([[0.0]])])
def test_expect_close_accepts_only_real_arrays(got):
    with pytest.raises(AssertionError, match="should be a numpy array"):
        grading.expect_close("h_t", got, np.zeros((1, 1)))


def test_expect_close_messages():
    expected = np.arange(6.0).reshape(2, 3)
    with pytest.raises(AssertionError, match=r"h_t has shape \(3, 2\), expected \(2, 3\): did you transpose"):
        grading.expect_close("h_t", expected.T.copy(), expected, hint="did you transpose W?")
    wrong = expected.copy()
    wrong[1, 2] += 1
    with pytest.raises(AssertionError, match=r"at index \(1, 2\) it is 6, expected 5"):
        grading.expect_close("h_t", wrong, expected)
    with pytest.raises(AssertionError, match="NaN"):
        grading.expect_close("h_t", np.full((2, 3), np.nan), expected)
    grading.expect_close("h_t", expected + 1e-12, expected)


def test_expect_scalar_and_equal():
    grading.expect_scalar("loss", np.float64(2.0), 2.0)
    with pytest.raises(AssertionError, match="should be a number"):
        grading.expect_scalar("loss", AlwaysEqual(), 2.0)
    with pytest.raises(AssertionError, match="loss is 3, expected 2"):
        grading.expect_scalar("loss", 3.0, 2.0)
    grading.expect_equal("count", np.int64(7), 7)
    with pytest.raises(AssertionError, match="should be of type int"):
        grading.expect_equal("count", AlwaysEqual(), 7)
    with pytest.raises(AssertionError, match="should be of type int"):
        grading.expect_equal("count", True, 1)


def test_expect_unchanged():
    with pytest.raises(AssertionError, match="modified its input x"):
        grading.expect_unchanged("x", np.zeros(2), np.ones(2))
