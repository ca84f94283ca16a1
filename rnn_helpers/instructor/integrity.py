"""Undo an answer's monkeypatching before each autograded test cell.

A submission runs in the same Python process as the tests that grade it, so an answer
cell can replace ``np.allclose``, ``np.testing.assert_allclose``, ``np.abs`` or the
course's own checks in ``rnn_helpers.grading`` with functions that always pass. While
autograding, ``autograding.ResilientExecute`` calls ``snapshot()`` in the kernel before
the first cell runs and ``restore()`` before every autograded test cell:

* the public functions of numpy and of its submodules ``testing``, ``linalg`` and
  ``random`` are put back as they were when the kernel started;
* ``rnn_helpers.grading`` and ``rnn_helpers.validation`` are executed again from their
  source files, so their functions are the genuine ones again.

This defeats the monkeypatching students actually try. It is not a security boundary
(code in the same process can always dig deeper); isolation from the file system is the
sandbox's job (``rnn_helpers.instructor.sandbox``).
"""
import builtins
import importlib
import sys

_WATCHED_MODULES = ("numpy", "numpy.testing", "numpy.linalg", "numpy.random", "builtins")
_RELOADED = ("rnn_helpers.validation", "rnn_helpers.grading")
_snapshot = {}


def snapshot():
    """Record the callables of the watched modules (call once, before student code runs)."""
    import numpy  # noqa: F401  (imports numpy.testing, linalg and random with it)

    _snapshot.clear()
    for name in _WATCHED_MODULES:
        module = sys.modules.get(name) or importlib.import_module(name)
        _snapshot[name] = (module, {k: v for k, v in vars(module).items() if callable(v)})


def restore():
    """Put back the recorded callables and re-execute the course's checks."""
    for module, functions in _snapshot.values():
        namespace = vars(module)
        for key, value in functions.items():
            if namespace.get(key) is not value:
                setattr(module, key, value)
    for name in _RELOADED:
        module = sys.modules.get(name)
        if module is not None:
            with builtins.open(module.__file__, encoding="utf-8") as source:
                code = builtins.compile(source.read(), module.__file__, "exec")
            builtins.exec(code, vars(module))
