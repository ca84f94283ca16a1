import numpy as np
import pytest

from rnn_helpers.validation import as_bool_array, as_float_array, as_int_array, check_positive


def test_symbols_are_bound_across_arguments_and_named_in_errors():
    dims, origin = {}, {}
    as_float_array("x_t", np.zeros((3, 4)), ("N", "D"), dims, origin)
    with pytest.raises(ValueError) as error:
        as_float_array("U", np.zeros((5, 3)), ("H", "D"), dims, origin)
    assert str(error.value) == "U should have shape (H, D) (D = 4 comes from x_t), but got shape (5, 3)"


def test_exact_sizes_any_sizes_and_ranks():
    as_float_array("v", np.zeros((2, 7)), (2, None), {})
    with pytest.raises(ValueError, match=r"v should have 2 dimensions \(2, any\), but got shape \(2,\)"):
        as_float_array("v", np.zeros(2), (2, None), {})


def test_dtypes():
    assert as_float_array("x", [[1.0]], (1, 1), {}).dtype == np.float64
    assert as_float_array("x", np.ones(1, np.float32), (1,), {}).dtype == np.float32
    for bad in (np.ones(1, int), np.ones(1, bool), np.ones(1, complex), np.array([None])):
        with pytest.raises(ValueError, match="x should be a floating-point array"):
            as_float_array("x", bad, (1,), {})
    with pytest.raises(ValueError, match="y should be an integer array"):
        as_int_array("y", np.ones(1), (1,), {})
    with pytest.raises(ValueError, match="mask should be a boolean array"):
        as_bool_array("mask", np.ones(1), (1,), {})


def test_check_positive():
    check_positive("lr", 0.1)
    check_positive("momentum", 0.0, allow_zero=True)
    for bad in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="lr should be a positive finite number"):
            check_positive("lr", bad)
