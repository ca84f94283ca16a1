"""Argument checks with error messages a student can act on.

Every public function of the course checks its inputs with these helpers, so a wrong
shape or dtype raises a ``ValueError`` that names the argument, the expected shape and
the shape received, instead of a numpy traceback from deep inside a matmul.

Shapes are written with symbolic dimensions that are bound on first use::

    dims = {}
    x_t = as_float_array("x_t", x_t, ("N", "D"), dims)
    U = as_float_array("U", U, ("H", "D"), dims)      # D must agree with x_t
"""
import numpy as np


def _tuple_text(items):
    return "(" + ", ".join(str(i) for i in items) + ("," if len(items) == 1 else "") + ")"


def _describe(spec, dims):
    """Render a shape spec such as ("N", "H") as "(N, H) = (3, 5)" where known."""
    names = _tuple_text(["any" if s is None else s for s in spec])
    if all(isinstance(s, int) or s in dims for s in spec):
        values = _tuple_text([s if isinstance(s, int) else dims[s] for s in spec])
        if values != names:
            return f"{names} = {values}"
    return names


def check_shape(name, shape, spec, dims, bound_by=None):
    """Check ``shape`` against ``spec``, binding unknown symbols in ``dims``.

    spec: tuple of int (exact size), str (a symbol shared between arguments) or None
    (any size). ``bound_by`` maps a symbol to the argument that fixed it, for messages.
    """
    shape = tuple(shape)
    if len(shape) != len(spec):
        raise ValueError(
            f"{name} should have {len(spec)} dimensions {_describe(spec, dims)}, "
            f"but got shape {shape}"
        )
    known = dict(dims)          # the sizes bound before this argument, for the message
    for size, want in zip(shape, spec):
        if want is None:
            continue
        if isinstance(want, int):
            ok = size == want
        elif want in dims:
            ok = size == dims[want]
        else:
            dims[want] = size
            if bound_by is not None:
                bound_by[want] = name
            ok = True
        if not ok:
            hint = ""
            if bound_by is not None and isinstance(want, str) and want in bound_by:
                hint = f" ({want} = {dims[want]} comes from {bound_by[want]})"
            raise ValueError(
                f"{name} should have shape {_describe(spec, known)}{hint}, but got shape {shape}"
            )


def as_float_array(name, value, spec, dims, bound_by=None):
    """Return ``value`` as a floating-point ndarray after checking its shape.

    Accepts float32 and float64 arrays (and nested lists of floats). Integer, boolean,
    complex and object arrays raise ValueError: the course computes in floating point.
    The input is never modified.
    """
    array = np.asarray(value)
    if array.dtype.kind != "f":
        raise ValueError(
            f"{name} should be a floating-point array (float64 or float32), "
            f"but got dtype {array.dtype}"
        )
    check_shape(name, array.shape, spec, dims, bound_by)
    return array


def as_real_or_complex_array(name, value, spec, dims, bound_by=None):
    """Like ``as_float_array``, but complex arrays (complex64, complex128) are accepted too.

    For the layers whose maths holds over the complex numbers (the diagonal linear
    recurrences of ``linear_rnn``, whose eigenvalues may be complex).
    """
    array = np.asarray(value)
    if array.dtype.kind not in "fc":
        raise ValueError(
            f"{name} should be a floating-point or complex array (float64, float32, complex128, "
            f"complex64), but got dtype {array.dtype}"
        )
    check_shape(name, array.shape, spec, dims, bound_by)
    return array


def as_int_array(name, value, spec, dims, bound_by=None):
    """Return ``value`` as an integer ndarray (labels, indices) after checking its shape."""
    array = np.asarray(value)
    if array.dtype.kind not in "iu":
        raise ValueError(f"{name} should be an integer array, but got dtype {array.dtype}")
    check_shape(name, array.shape, spec, dims, bound_by)
    return array


def as_bool_array(name, value, spec, dims, bound_by=None):
    """Return ``value`` as a boolean ndarray (masks) after checking its shape."""
    array = np.asarray(value)
    if array.dtype != bool:
        raise ValueError(f"{name} should be a boolean array, but got dtype {array.dtype}")
    check_shape(name, array.shape, spec, dims, bound_by)
    return array


def check_cache(name, cache, expected_type, producer):
    """Check that a backward received the cache its forward returned."""
    if not isinstance(cache, expected_type):
        raise ValueError(
            f"{name} should be the cache returned by {producer}, "
            f"but got an object of type {type(cache).__name__}"
        )


def check_positive(name, value, allow_zero=False):
    """Check that a scalar hyper-parameter is a positive finite number."""
    ok = np.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} should be a {bound} finite number, but got {value!r}")
