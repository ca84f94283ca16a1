"""The checks used by the notebooks' test cells resist wrong, lazy and cheating answers."""
import sys

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


def test_call_student_names_the_shapes_of_a_matmul_mistake():
    def rnn_step_forward(x_t, h_prev, U, W, b):
        return np.tanh(U @ x_t + h_prev @ W.T + b), None     # U x_t written as in the maths

    x_t, h_prev = np.ones((3, 4)), np.ones((3, 5))
    with pytest.raises(AssertionError) as info:
        grading.call_student(rnn_step_forward, x_t, h_prev, np.ones((5, 4)), np.ones((5, 5)), np.ones(5))
    message = str(info.value)
    assert "x_t: shape (3, 4)" in message and "U: shape (5, 4)" in message and "a row" in message
    assert "U.T" not in message      # the row form of U x_t is what notebook 01's Exercise 1 asks


def test_call_student_keeps_other_errors_and_results():
    assert grading.call_student(lambda a, b: a + b, 1, 2) == 3
    with pytest.raises(ValueError, match="not a shape"):
        grading.call_student(lambda: (_ for _ in ()).throw(ValueError("not a shape")))


def test_call_student_disables_the_reference():
    from rnn_helpers import rnn
    with pytest.raises(grading.ReferenceImplementationCalled):
        grading.call_student(rnn.rnn_step_forward, np.ones((1, 1)), np.ones((1, 1)),
                             np.ones((1, 1)), np.ones((1, 1)), np.ones(1))


def test_batch_only_refuses_rows_but_not_whole_array_work():
    x = grading.batch_only(np.arange(6.0).reshape(3, 2))
    for read_rows in (lambda: x[0], lambda: x[1, :], lambda: [row for row in x], lambda: x[np.int64(2)]):
        with pytest.raises(AssertionError, match="one entry of its first axis at a time"):
            read_rows()
    product = np.tanh(x @ np.ones((2, 4)) + 1.0)
    assert product.shape == (3, 4) and x[:, 1].shape == (3,) and x[1:].shape == (2, 2)
    assert str(x) == str(np.arange(6.0).reshape(3, 2))


def test_call_student_hands_back_plain_arrays():
    def step(x):
        return x * 2, (x, [x + 1], {"x": x})

    out, (cache, listed, mapped) = grading.call_student(step, grading.batch_only(np.ones((2, 3))))
    for array in (out, cache, listed[0], mapped["x"]):
        assert type(array) is np.ndarray
    grading.expect_close("out", out, 2 * np.ones((2, 3)))


def test_call_student_hands_back_the_very_containers_it_got_when_nothing_is_converted():
    grads = {"W": np.ones((2, 2))}
    listed = [grads["W"]]
    assert grading.call_student(lambda g: g, grads) is grads
    result = grading.call_student(lambda g, l: (g, l), grads, listed)
    assert result[0] is grads and result[1] is listed and result[0]["W"] is grads["W"]


def test_functions_replaced_binds_and_restores():
    namespace = {"helper": "student's", "user": lambda: namespace["helper"]()}
    reference = grading.load_reference("rnn")
    with grading.functions_replaced(namespace, helper=lambda: "course's", missing=reference.softmax):
        assert namespace["user"]() == "course's" and "missing" in namespace
        with grading.reference_disabled():
            assert namespace["missing"](np.zeros(2)).sum() == pytest.approx(1.0)   # a fresh copy still works
    assert namespace["helper"] == "student's" and "missing" not in namespace


def test_counting_generator_counts_calls_and_draws_like_its_seed():
    rng = grading.CountingGenerator(3)
    assert isinstance(rng, np.random.Generator) and rng.calls == 0
    np.testing.assert_array_equal(rng.random(4), np.random.Generator(np.random.PCG64(3)).random(4))
    rng.integers(0, 5, size=2)
    assert rng.calls == 2
    for _ in range(3):
        rng.choice(3, p=[0.2, 0.3, 0.5])
    assert rng.calls >= 5


def test_count_python_steps_grows_with_a_loop_over_time_and_not_with_a_scan():
    def loop(a):
        out = np.empty_like(a)
        previous = 0.0
        for t in range(a.shape[0]):
            previous = out[t] = a[t] + previous
        return out

    def doubling(a):
        out = a.copy()
        span = 1
        while span < out.shape[0]:
            out[span:] = out[span:] + out[:-span]
            span *= 2
        return out

    short, long = np.ones((64, 2)), np.ones((1024, 2))
    (result, loop_short), (_, loop_long) = (grading.count_python_steps(loop, x) for x in (short, long))
    (same, scan_short), (_, scan_long) = (grading.count_python_steps(doubling, x) for x in (short, long))
    np.testing.assert_array_equal(result, same)
    assert loop_long > 12 * loop_short
    assert scan_long < 2 * scan_short
    assert grading.count_python_steps(np.cumsum, long)[1] < 200


def test_count_python_steps_stops_a_call_that_runs_over_its_limit_even_through_except_exception():
    def tries_every_size(budget):
        H = 0
        while (H + 1) ** 2 <= budget:
            try:
                H += 1
            except Exception:
                pass
        return H

    assert grading.count_python_steps(tries_every_size, 100, step_limit=10 ** 4)[0] == 10
    with pytest.raises(AssertionError, match="tries_every_size ran more than 10,000 Python steps"):
        grading.count_python_steps(tries_every_size, 10 ** 12, step_limit=10 ** 4)
    assert sys.gettrace() is None
    with pytest.raises(ValueError, match="step_limit"):
        grading.count_python_steps(len, [1], step_limit=0.5)
