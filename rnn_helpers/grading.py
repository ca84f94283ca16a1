"""Checks used by the notebooks' test cells.

The test cells follow one pattern::

    from rnn_helpers import grading
    reference = grading.load_reference("rnn")        # a fresh, unpatched copy
    expected, _ = reference.rnn_step_forward(x, h, U, W, b)
    got, cache = grading.call_student(rnn_step_forward, x, h, U, W, b)   # reference disabled
    grading.expect_close("h_t", got, expected, hint="did you add the bias b?")

* ``load_reference`` executes the module's source again, so an answer cell that replaced
  functions in ``rnn_helpers`` cannot change the expected values.
* ``reference_disabled`` makes every function of the course's reference modules raise
  while the student's code runs, whatever name it was imported under: an answer that
  only calls the reference earns nothing. ``call_student`` runs one call that way and
  turns numpy's shape errors (``matmul: Input operand 1 has a mismatch ...``) into a
  message that lists the shape of every argument of the call.
* The ``expect_*`` functions raise ``AssertionError`` with a message a student can act
  on, and accept only real numpy arrays (an object whose ``__eq__`` always returns True
  does not pass).
* ``batch_only(array)`` hands a student's function an array it cannot read one entry of
  its first axis at a time, which tests an exercise that asks for no Python loop over the
  sequences of a batch (or the steps of a sequence);
  ``functions_replaced(globals(), name=function)`` runs a student's function with the
  course's version of another exercise's function it calls, so that one bug costs the
  points of one exercise only.
* ``count_python_steps`` counts the Python bytecode steps a call runs, so that a test can
  check that an answer is vectorised over time (the count grows like log T, not like T), or
  stop an answer that tries every candidate where the exercise asks for a formula.
"""
import contextlib
import functools
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
    sys.audit("rnn_course.student_code_starts")   # the grading guard's checkpoints (instructor.integrity)
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
        sys.audit("rnn_course.student_code_returned")


#: Fragments of numpy's messages for arrays whose shapes do not fit an operation.
_SHAPE_ERROR_MARKS = ("mismatch in its core dimension", "shapes not aligned", "could not be broadcast",
                      "cannot reshape array", "matrices are not aligned", "dimension mismatch")


def _is_shape_error(error):
    return isinstance(error, ValueError) and any(mark in str(error) for mark in _SHAPE_ERROR_MARKS)


def _describe(value):
    shape = getattr(value, "shape", None)
    return f"shape {tuple(shape)}" if shape is not None else type(value).__name__


def _plain(result):
    """``result`` with every ``batch_only`` array in it (also inside tuples, lists and dicts)
    turned back into a plain ndarray, so that the checks can read it row by row. A container
    with no such array in it is handed back itself, so that a check can still tell a new dict
    from the one it passed in."""
    if type(result) is _BatchOnly:
        return result.view(np.ndarray)
    if isinstance(result, (tuple, list)):
        items = [_plain(item) for item in result]
        if all(new is old for new, old in zip(items, result)):
            return result
        if isinstance(result, list):
            return items
        return type(result)(*items) if hasattr(result, "_fields") else tuple(items)
    if isinstance(result, dict):
        items = {key: _plain(value) for key, value in result.items()}
        return result if all(items[key] is value for key, value in result.items()) else items
    return result


def call_student(function, *args, **kwargs):
    """``function(*args, **kwargs)`` with the reference disabled (``reference_disabled``).

    A numpy shape error inside becomes an ``AssertionError`` that names every argument with
    its shape, so that a student sees which operand did not fit. The message recalls that a
    row is one sequence without writing any product out (that is an exercise of notebook 01).
    """
    with reference_disabled():
        try:
            return _plain(function(*args, **kwargs))
        except ValueError as error:
            if not _is_shape_error(error):
                raise
            try:
                bound = inspect.signature(function).bind(*args, **kwargs).arguments
            except (TypeError, ValueError):
                bound = {f"argument {i + 1}": a for i, a in enumerate(args)} | kwargs
            shapes = ", ".join(f"{name}: {_describe(value)}" for name, value in bound.items())
            name = getattr(function, "__name__", "your function")
            raise AssertionError(
                f"{name} stopped on a numpy shape error ({error}). This test called it with {shapes}. "
                "Check each product against these shapes: A @ B needs the last axis of A to match "
                "the first axis of B, and in code a vector of the maths is a row (one row per sequence)"
            ) from None


_ROW_BY_ROW = ("your code read an input one entry of its first axis at a time (an index such as x[0], or a "
               "loop over the sequences of a batch or the steps of a sequence): compute them all at once, "
               "with matrix products on the whole arrays")


class _BatchOnly(np.ndarray):
    """A view of an array that refuses to be read one row at a time (see ``batch_only``)."""

    def __getitem__(self, index):
        first = index[0] if isinstance(index, tuple) and index else index
        if isinstance(first, (int, np.integer)) and not isinstance(first, (bool, np.bool_)):
            raise AssertionError(_ROW_BY_ROW)
        return super().__getitem__(index)

    def __iter__(self):
        raise AssertionError(_ROW_BY_ROW)

    def __repr__(self):
        return repr(self.view(np.ndarray))

    def __str__(self):
        return str(self.view(np.ndarray))


def batch_only(array):
    """A view of ``array`` whose first axis (the sequences of a batch, or the steps of a
    sequence) cannot be read one entry at a time.

    Slices, whole-array operations and matrix products work as usual, and so does every
    result computed from it; an integer index on the first axis (``x[0]``, ``x[n, :]``) or
    a loop over it raises ``AssertionError``. ``call_student`` hands back the results of
    such a call as plain arrays.
    """
    return np.asarray(array).view(_BatchOnly)


class CountingGenerator(np.random.Generator):
    """A numpy Generator (PCG64, seeded with ``seed``) that counts the calls made to its
    public methods in ``calls``: a test can check that a function draws the random numbers
    of a whole batch in calls whose number does not grow with the batch.
    """

    def __init__(self, seed):
        super().__init__(np.random.PCG64(seed))
        self.__dict__["calls"] = 0

    def __getattribute__(self, name):
        attribute = super().__getattribute__(name)
        if name.startswith("_") or not callable(attribute):
            return attribute
        counts = super().__getattribute__("__dict__")

        def counted(*args, **kwargs):
            counts["calls"] += 1
            return attribute(*args, **kwargs)
        return counted


@contextlib.contextmanager
def functions_replaced(namespace, **functions):
    """Within the block, ``namespace[name]`` (a notebook's ``globals()``) is ``functions[name]``.

    Give it fresh copies of the reference (``load_reference("rnn").rnn_step_forward``),
    which ``reference_disabled`` leaves working: a student's function that calls their
    own answer to another exercise is then tested with the course's version of it. The
    previous bindings come back afterwards (a name that was not bound is removed).
    """
    missing = object()
    saved = {name: namespace.get(name, missing) for name in functions}
    namespace.update(functions)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = value


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
    got = _as_checked_array(name, got)
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


class _TooManySteps(BaseException):
    """Raised inside a call that ran over its step limit (not an ``Exception``, so that an
    ``except Exception`` of the code under test does not swallow it)."""


def count_python_steps(function, *args, step_limit=None, **kwargs):
    """``call_student(function, *args, **kwargs)`` and the number of Python bytecode steps it ran.

    Every Python frame entered during the call is traced instruction by instruction (numpy's
    compiled loops are not Python steps). A loop over the T steps of a sequence runs some
    steps per element, so its count grows like T; a vectorised scan's grows like log T.
    With ``step_limit``, a call that runs more steps is stopped with an ``AssertionError``.
    Returns (result, steps).
    """
    if step_limit is not None and (not isinstance(step_limit, int) or step_limit < 1):
        raise ValueError(f"step_limit: expected a positive int or None, got {step_limit!r}")
    steps = 0

    def count(frame, event, arg):
        nonlocal steps
        if event == "opcode":
            steps += 1
            if step_limit is not None and steps > step_limit:
                raise _TooManySteps
        return count

    def enter(frame, event, arg):
        frame.f_trace_opcodes = True
        return count

    previous = sys.gettrace()

    @functools.wraps(function)
    def traced(*args, **kwargs):
        sys.settrace(enter)
        try:
            return function(*args, **kwargs)
        finally:
            sys.settrace(previous)

    try:
        return call_student(traced, *args, **kwargs), steps
    except _TooManySteps:
        name = getattr(function, "__name__", "your function")
        raise AssertionError(f"{name} ran more than {step_limit:,} Python steps and was stopped") from None
