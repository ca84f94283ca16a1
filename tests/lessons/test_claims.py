"""A claim prints a check mark when it holds and stops the notebook when it does not."""
import numpy as np
import pytest

from rnn_helpers.lessons.claims import ClaimFailed, claim


def test_a_true_claim_prints_a_check_mark(capsys):
    assert claim(0.0014 < 0.01, "LSTM validation MSE 0.0014 < 0.01") is None   # no stray True
    assert capsys.readouterr().out == "✓ LSTM validation MSE 0.0014 < 0.01\n"


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
