"""Checks used by the notebooks' test cells.

The test cells follow one pattern::

    from rnn_helpers import grading
    reference = grading.load_reference("rnn")        # a fresh, unpatched copy
    expected, _ = reference.rnn_step_forward(x, h, U, W, b)
    with grading.reference_disabled():               # the student's code runs here
        got, cache = rnn_step_forward(x, h, U, W, b)
    grading.expect_close("h_t", got, expected, hint="did you add the bias b?")

* ``load_reference`` executes the module's source again, so an answer cell that replaced
  functions in ``rnn_helpers`` cannot change the expected values.
* ``reference_disabled`` makes every function of the course's reference modules raise
  while the student's code runs, whatever name it was imported under: an answer that
  only calls the reference earns nothing.
* The ``expect_*`` functions raise ``AssertionError`` with a message a student can act
  on, and accept only real numpy arrays (an object whose ``__eq__`` always returns True
  does not pass).
"""
import contextlib
import importlib.util
import inspect
import pathlib
import sys
import types

import numpy as np

#: Modules of rnn_helpers that are never disabled: the checks themselves and the
#: argument validation they share with the student's environment.
_ALWAYS_ALLOWED = {"rnn_helpers", "rnn_helpers.grading", "rnn_helpers.validation"}


class ReferenceImplementationCalled(Exception):
    """Raised when graded code calls one of the course's reference implementations."""


def _raise_reference_called(name):
    raise ReferenceImplementationCalled(
        f"your code called {name}, the course's reference implementation. "
        "Write this exercise yourself (you may use numpy and the functions you "
        "wrote earlier in this notebook)."
    )


def _reference_called(*args, **kwargs):
    # This code runs with the globals of the module whose function it replaces, so it
    # reaches everything it needs through builtins only.
    name = __import__("sys")._getframe().f_code.co_name
    __import__("rnn_helpers.grading", fromlist=["_"])._raise_reference_called(name)


def load_reference(name):
    """Return a fresh copy of ``rnn_helpers.<name>``, executed from its source file.

    ``name`` is the module's dotted name inside the package: ``"rnn"``, or
    ``"lessons.leaky_units"`` for a module in a subpackage.
    """
    import rnn_helpers

    module_name = f"rnn_helpers.{name}"
    path = pathlib.Path(rnn_helpers.__path__[0], *name.split(".")).with_suffix(".py")
    if not path.is_file():
        raise ValueError(f"load_reference: no module rnn_helpers.{name} (looked for {path})")
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = module_name.rpartition(".")[0]
    spec.loader.exec_module(module)
    return module


def _reference_functions():
    """Every plain function and method defined in the loaded rnn_helpers modules."""
    found = []
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("rnn_helpers") or module_name in _ALWAYS_ALLOWED:
            continue
        if not isinstance(module, types.ModuleType):
            continue
        for obj in list(vars(module).values()):
            if inspect.isfunction(obj) and obj.__module__ == module_name:
                found.append((obj, f"{module_name}.{obj.__name__}"))
            elif inspect.isclass(obj) and obj.__module__ == module_name:
                for attr, member in vars(obj).items():
                    func = getattr(member, "__func__", member)
                    if inspect.isfunction(func):
                        found.append((func, f"{module_name}.{obj.__name__}.{attr}"))
    return found


@contextlib.contextmanager
def reference_disabled():
    """Within the block, every reference function of rnn_helpers raises when called.

    The function objects themselves are changed (their code is swapped), so aliases
    such as ``from rnn_helpers.rnn import rnn_step_forward as f`` are caught too.
    """
    swapped = []
    try:
        for func, dotted in _reference_functions():
            if func.__code__.co_freevars:
                continue
            original = func.__code__
            func.__code__ = _reference_called.__code__.replace(co_name=dotted)
            swapped.append((func, original))
        yield
    finally:
        for func, original in swapped:
            func.__code__ = original


def _as_checked_array(name, got):
    if type(got) is not np.ndarray:
        raise AssertionError(
            f"{name} should be a numpy array, but your code returned "
            f"{type(got).__name__}" + (" (did you forget to return it?)" if got is None else "")
        )
    return got


def expect_shape(name, got, expected_shape, hint=""):
    """Check that ``got`` is an ndarray of the expected shape."""
    got = _as_checked_array(name, got)
    expected_shape = tuple(expected_shape)
    if got.shape != expected_shape:
        raise AssertionError(
            f"{name} has shape {got.shape}, expected {expected_shape}"
            + (f": {hint}" if hint else "")
        )


def expect_close(name, got, expected, rtol=1e-6, atol=1e-8, hint=""):
    """Check shape and values of ``got`` against ``expected`` (elementwise tolerance)."""
    expected = np.asarray(expected, dtype=np.float64)
    expect_shape(name, got, expected.shape, hint)
    if got.dtype.kind not in "fiub":
        raise AssertionError(f"{name} should hold real numbers, but has dtype {got.dtype}")
    values = got.astype(np.float64)
    if not np.all(np.isfinite(values)):
        raise AssertionError(f"{name} contains NaN or infinite values" + (f": {hint}" if hint else ""))
    error = np.abs(values - expected)
    bound = atol + rtol * np.abs(expected)
    if np.any(error > bound):
        worst = np.unravel_index(np.argmax(error - bound), error.shape)
        raise AssertionError(
            f"{name} has wrong values: at index {tuple(int(i) for i in worst)} it is "
            f"{values[worst]:.6g}, expected {expected[worst]:.6g}"
            + (f": {hint}" if hint else "")
        )


def expect_scalar(name, got, expected, rtol=1e-6, atol=1e-8, hint=""):
    """Check a scalar result (Python or numpy number) against ``expected``."""
    if isinstance(got, np.ndarray) and got.shape == ():
        got = got[()]
    if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, float, np.integer, np.floating)):
        raise AssertionError(f"{name} should be a number, but your code returned {type(got).__name__}")
    got = float(got)
    if not np.isfinite(got) or abs(got - expected) > atol + rtol * abs(expected):
        raise AssertionError(f"{name} is {got:.6g}, expected {expected:.6g}" + (f": {hint}" if hint else ""))


def expect_equal(name, got, expected, hint=""):
    """Check an exact result of a plain type (int, str, tuple of those, ...)."""
    if type(got) is not type(expected) and not (
        isinstance(expected, int) and isinstance(got, (int, np.integer)) and not isinstance(got, bool)
    ):
        raise AssertionError(
            f"{name} should be of type {type(expected).__name__}, but your code returned "
            f"{type(got).__name__}"
        )
    if expected != got:
        raise AssertionError(f"{name} is {got!r}, expected {expected!r}" + (f": {hint}" if hint else ""))


def expect_unchanged(name, before, after):
    """Check that a function did not modify an input array in place."""
    if not np.array_equal(before, after):
        raise AssertionError(f"your code modified its input {name} in place; work on a copy")
