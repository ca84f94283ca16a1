"""Results the course ships, for the experiments that a sealed student environment cannot run.

In a sealed environment (``rnn_helpers/instructor/sealing.py``) the course's version of an
exercise's function is not shipped: an experiment after the exercise runs on the student's
function, and while that is unfinished it stops with ``ExerciseNotShipped``. A notebook wraps
such an experiment as ``result("02_names RNN", lambda: ...)``: the experiment runs as written
(in the ordinary environment on the course's code, so nothing changes there), and when it
stops for want of an unfinished exercise, one line says so and the course's own result of the
same experiment comes from ``rnn_helpers/data/precomputed/NN.npz`` (one file per notebook)
instead, so the notebook goes on. An experiment can also need a later chapter's exercise
(02-06 train with ``optim.Adam``, whose ``step`` is 07's exercise): the line then says that
exercise is sealed until its notebook.

The files are the notebooks' own results: ``python -m rnn_helpers.precomputed NN_topic ...``
executes those solution notebooks in the instructor's environment (the full package, the
course's seed, full length) with ``WRITE`` set, and each ``result`` call then stores what it
computed. Rerun it after changing an experiment that a notebook wraps.
"""
import argparse
import json
import os
import pathlib
import re
import time

import numpy as np

FOLDER = pathlib.Path(__file__).resolve().parent / "data" / "precomputed"
#: Set (by ``main``) while the solution notebooks run: every ``result`` call stores its value.
WRITE = "RNN_COURSE_WRITE_PRECOMPUTED"
#: Set (by the test suite's runs of the solution notebooks) to a file: every ``result`` call
#: appends its key to it, one a line, so that the test can check that the course ships each.
RECORD = "RNN_COURSE_RECORD_PRECOMPUTED"


def result(key, compute, *models):
    """``compute()``, or the course's stored result ``key`` ("NN_name": NN is the notebook) when
    a sealed exercise that it calls is not finished (one line says so). ``models``: what
    ``compute`` trains in place, each an object with a ``params`` dict or such a dict itself;
    they get the stored parameters too."""
    from .instructor.sealing import ExerciseNotShipped

    if not re.fullmatch(r"\d\d_[^/\n]+", key):
        raise ValueError(f"result: key should start with the notebook's number and _ ('02_names RNN') and "
                         f"hold no / and no line break, got {key!r}")
    if os.environ.get(RECORD):
        with open(os.environ[RECORD], "a") as record:
            record.write(key + "\n")
    try:
        value = compute()
    except ExerciseNotShipped as missing:
        if missing.notebook[:2] > key[:2]:    # a tool of this chapter that a later one asks to write
            print(f"using the course's precomputed result: this experiment needs {missing.name}, an exercise of "
                  f"notebook {missing.notebook}, which is sealed until then")
        elif missing.needs_course:             # the course's own version, which the student's cannot stand for
            print(f"using the course's precomputed result: this experiment needs the course's version of "
                  f"{missing.name} (your exercise in notebook {missing.notebook}), which is not shipped here")
        elif not missing.defined:              # a cell above the exercise's
            print(f"using the course's precomputed result: this experiment needs {missing.name} (your exercise in "
                  f"notebook {missing.notebook}), which the notebook has not defined yet, and the course's version "
                  f"is not shipped here")
        else:
            print(f"using the course's precomputed result because {missing.name} (your exercise in notebook "
                  f"{missing.notebook}) is not finished")
        stored = load(key)
        for model, params in zip(models, stored["params"]):
            _params(model).update(params)
        return stored["value"]
    if os.environ.get(WRITE):
        save(key, {"value": value, "params": [_params(model) for model in models]})
    return value


def _params(model):
    return model if isinstance(model, dict) else model.params


def _flatten(value, arrays):
    """A JSON description of ``value``; its arrays are appended to ``arrays``."""
    if isinstance(value, (np.ndarray, np.generic)):
        arrays.append(np.asarray(value))
        return {"array": len(arrays) - 1}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"dict": {k: _flatten(v, arrays) for k, v in value.items()}}
    if isinstance(value, dict):     # keys such as lengths or (name, seed)
        return {"items": [[_flatten(k, arrays), _flatten(v, arrays)] for k, v in value.items()]}
    numbers = type(value) in (tuple, list) and value and all(
        isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)) for v in value)
    if numbers and len({isinstance(v, (int, np.integer)) for v in value}) == 1:    # (step, loss) keeps its int
        arrays.append(np.array(value))                  # a history: one array, not one per number
        return {f"{type(value).__name__} of numbers": len(arrays) - 1}
    if type(value) in (tuple, list):
        return {type(value).__name__: [_flatten(v, arrays) for v in value]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    raise TypeError(f"precomputed.save: value should hold only arrays, numbers, strings, None, lists, tuples "
                    f"and dicts, got a {type(value).__name__}")


def _build(description, arrays):
    (kind, content), = description.items()
    if kind == "array":
        array = arrays[str(content)]
        return array[()] if array.ndim == 0 else array
    if kind == "dict":
        return {k: _build(v, arrays) for k, v in content.items()}
    if kind == "items":
        return {_build(k, arrays): _build(v, arrays) for k, v in content}
    if kind.endswith(" of numbers"):
        return {"tuple": tuple, "list": list}[kind.split()[0]](arrays[str(content)].tolist())
    if kind in ("tuple", "list"):
        return {"tuple": tuple, "list": list}[kind](_build(v, arrays) for v in content)
    return content


def _path(key):
    return FOLDER / f"{key[:2]}.npz"


def save(key, value):
    """Store ``value`` under ``key`` in the notebook's file ``FOLDER/NN.npz`` (its arrays, and its
    structure as JSON), in place of what the key held."""
    path = _path(key)
    entries = {}
    if path.exists():
        with np.load(path, allow_pickle=False) as stored:
            entries = {name: stored[name] for name in stored.files if name.split("/")[0] != key}
    arrays = []
    entries[f"{key}/structure"] = np.array(json.dumps(_flatten(value, arrays)))
    entries.update({f"{key}/{i}": array for i, array in enumerate(arrays)})
    FOLDER.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **entries)


def load(key):
    """The value ``save`` stored under ``key``."""
    path = _path(key)
    arrays = {}
    if path.exists():
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name.split("/", 1)[1]: stored[name] for name in stored.files if name.split("/")[0] == key}
    if "structure" not in arrays:
        raise KeyError(f"precomputed.load: the course ships no result {key!r} (in {path})")
    return _build(json.loads(str(arrays.pop("structure"))), arrays)


def main(argv=None):
    from .instructor.execution import SteadyNotebookClient
    import nbformat

    parser = argparse.ArgumentParser(description="Write the precomputed results of these solution notebooks.")
    parser.add_argument("notebooks", nargs="+", help="NN_topic names, e.g. 02_bptt")
    args = parser.parse_args(argv)
    course = pathlib.Path(__file__).resolve().parents[1]
    os.environ[WRITE] = "1"
    for name in ("NBGRADER_EXECUTION", "RNN_COURSE_SEED"):   # full length, the course's seed
        os.environ.pop(name, None)
    for name in args.notebooks:
        path = course / "solutions" / name / f"{name}.ipynb"
        _path(name).unlink(missing_ok=True)    # a result the notebook no longer computes goes
        start = time.time()
        SteadyNotebookClient(nbformat.read(path, as_version=4), timeout=1800, kernel_name="python3",
                             resources={"metadata": {"path": str(path.parent)}}).execute()
        keys = []
        if _path(name).exists():
            with np.load(_path(name)) as stored:
                keys = sorted(k.split("/")[0] for k in stored.files if k.endswith("/structure"))
        size = _path(name).stat().st_size / 1e3 if keys else 0
        print(f"{name} ({time.time() - start:.0f} s): {len(keys)} results in {_path(name).name} ({size:.0f} kB)")

if __name__ == "__main__":
    main()
