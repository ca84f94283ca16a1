"""Real text for a character language model: the source of Python's standard library.

Every Python installation has it (``sysconfig.get_paths()["stdlib"]``), so the corpus needs
no download. A fixed, sorted list of modules is read so that the corpus is the same from
run to run (for one Python version). Characters outside printable ASCII are replaced by
``"?"`` and tabs by four spaces, which keeps the vocabulary under 100 characters::

    train_text, valid_text = stdlib_corpus()     # held-out text = whole held-out modules
"""
import pathlib
import sysconfig

import numpy as np

from ..validation import as_int_array

#: Modules of the standard library read for the corpus (present in Python 3.10 to 3.13).
STDLIB_MODULES = (
    "abc.py", "bisect.py", "calendar.py", "colorsys.py", "contextlib.py", "copy.py", "csv.py",
    "dataclasses.py", "difflib.py", "fnmatch.py", "fractions.py", "functools.py", "glob.py",
    "heapq.py", "keyword.py", "numbers.py", "operator.py", "queue.py", "random.py", "shlex.py",
    "statistics.py", "string.py", "textwrap.py", "types.py", "weakref.py",
)
#: Held out for validation: text of modules the model never trained on.
VALIDATION_MODULES = ("copy.py", "glob.py", "queue.py", "textwrap.py")


def clean_source(text):
    """Printable ASCII and newlines only: tabs -> four spaces, anything else -> "?"."""
    text = text.replace("\t", "    ")
    return "".join(ch if ch == "\n" or " " <= ch <= "~" else "?" for ch in text)


def read_stdlib_module(name, stdlib=None):
    """The cleaned source of one module file of the standard library (e.g. "heapq.py")."""
    folder = pathlib.Path(sysconfig.get_paths()["stdlib"] if stdlib is None else stdlib)
    path = folder / name
    if not path.is_file():
        raise ValueError(f"name should be a module file of the standard library in {folder}, "
                         f"but {path} does not exist")
    return clean_source(path.read_text(encoding="utf-8"))


def stdlib_corpus(modules=STDLIB_MODULES, validation_modules=VALIDATION_MODULES, stdlib=None):
    """(train_text, valid_text): the modules joined in sorted order, split by module."""
    unknown = sorted(set(validation_modules) - set(modules))
    if unknown:
        raise ValueError(f"validation_modules should be among modules, but {unknown} are not")
    train, valid = [], []
    for name in sorted(modules):
        (valid if name in validation_modules else train).append(read_stdlib_module(name, stdlib))
    if not train or not valid:
        raise ValueError("both the training and the validation text need at least one module")
    return "\n".join(train), "\n".join(valid)


def random_windows(stream, T, N, rng):
    """A batch of N windows of T + 1 consecutive tokens from random places of ``stream``.

    Returns tokens (T, N) and targets (T, N), int64, time-major: targets[t] = tokens[t + 1],
    the next token of the same window (the language-model task).
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng should be a numpy Generator, but got {type(rng).__name__}")
    stream = as_int_array("stream", stream, (None,), {})
    if len(stream) < T + 1:
        raise ValueError(f"stream should hold at least T + 1 = {T + 1} tokens, but has {len(stream)}")
    starts = rng.integers(0, len(stream) - T, size=N)
    windows = stream[starts[None, :] + np.arange(T + 1)[:, None]].astype(np.int64)   # (T + 1, N)
    return windows[:-1], windows[1:]
