"""A claim prints what it checked, on whose code, when it holds and stops the notebook when it does not."""
import numpy as np
import pytest

from rnn_helpers.lessons.claims import ClaimFailed, claim


def test_a_true_claim_says_it_checked_the_courses_code(capsys):
    assert claim(0.0014 < 0.01, "LSTM validation MSE 0.0014 < 0.01") is None   # no stray True
    assert capsys.readouterr().out == "checked on the course's code: LSTM validation MSE 0.0014 < 0.01\n"


def test_a_false_claim_raises_and_prints_nothing(capsys):
    with pytest.raises(ClaimFailed, match="MSE 0.2 < 0.01"):
        claim(0.2 < 0.01, "MSE 0.2 < 0.01")
    assert capsys.readouterr().out == ""


def test_numpy_bools_count_but_arrays_and_numbers_do_not():
    claim(np.float64(1.0) > 0, "numpy comparison")
    with pytest.raises(TypeError, match="holds must be a bool"):
        claim(np.array([True, True]), "an array")
    with pytest.raises(TypeError, match="holds must be a bool"):
        claim(1, "a number")


def test_a_timing_claim_that_fails_reports_and_goes_on(capsys, monkeypatch):
    from rnn_helpers.lessons.claims import timing_claim
    monkeypatch.delenv("RNN_COURSE_STRICT_TIMINGS", raising=False)
    timing_claim(False, "the scan is faster than the loop")
    assert capsys.readouterr().out.startswith("not seen in this run")
    timing_claim(True, "the scan is faster than the loop")
    assert capsys.readouterr().out == "checked on the course's code: the scan is faster than the loop\n"


def test_a_timing_claim_fails_the_test_suite(monkeypatch):
    from rnn_helpers.lessons.claims import timing_claim
    monkeypatch.setenv("RNN_COURSE_STRICT_TIMINGS", "1")
    with pytest.raises(ClaimFailed):
        timing_claim(False, "the scan is faster than the loop")


def test_after_the_sealed_environment_ran_the_students_functions_a_claim_says_so_and_goes_on(capsys, monkeypatch):
    """In the sealed environment the experiments run on the student's own functions: once any has, the
    claims name them (again when the list changes), and one that fails there prints a cross and lets the
    notebook go on."""
    from rnn_helpers.instructor import sealing
    from rnn_helpers.lessons import claims
    monkeypatch.setattr(claims, "_named", [])
    monkeypatch.setattr(sealing, "RAN_THE_STUDENTS", {"rnn_forward": "01_sequences"})
    claim(True, "the loss falls")
    claim(True, "the loss falls again")
    assert capsys.readouterr().out == (
        "(in this sealed environment your own rnn_forward ran in place of the course's, which are not shipped "
        "here: the results below may come from them)\nchecked on this run's results: the loss falls\n"
        "checked on this run's results: the loss falls again\n")
    sealing.RAN_THE_STUDENTS["embedding_forward"] = "07_generation"
    claim(False, "the loss falls")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("(in this sealed environment your own embedding_forward, rnn_forward ran")
    assert out[1] == ("✗ not seen in this run's results: the loss falls; the course's code gives it: check your own "
                      "embedding_forward, rnn_forward with their exercises' tests")
    monkeypatch.setattr(sealing, "RAN_THE_STUDENTS", {})
    with pytest.raises(ClaimFailed):
        claim(False, "the loss falls")
