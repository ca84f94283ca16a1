"""rnn_helpers.precomputed: an experiment runs as written, and falls back on the course's stored
result, with one line that says so, only when a sealed exercise it needs is unfinished."""
import re

import numpy as np
import pytest
from rnn_helpers import precomputed
from rnn_helpers.instructor.sealing import ExerciseNotShipped

from conftest import ASSIGNMENTS, read_notebook, source_notebook


class Model:
    def __init__(self):
        self.params = {"W": np.zeros((2, 2))}


def not_shipped(name, notebook, needs_course=False, defined=True):
    def compute():
        raise ExerciseNotShipped(name, notebook, needs_course, defined)
    return compute


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setattr(precomputed, "FOLDER", tmp_path)
    return tmp_path


def test_values_keep_their_structure(folder):
    value = {"loss": [1, 2.5, np.float64(3.0)], "runs": ({3: np.arange(4.0)}, None, "text", [(np.ones(2), True)]),
             "curve": [(10, 7.5), (20, 6.25)],
             "by pair": {("a", 1): np.float32(2)}}
    precomputed.save("02_value", value)
    precomputed.save("02_other", [np.zeros(3)])
    loaded = precomputed.load("02_value")
    assert loaded["loss"] == [1, 2.5, 3.0] and loaded["runs"][1:3] == (None, "text")
    np.testing.assert_array_equal(loaded["runs"][0][3], np.arange(4.0))
    assert loaded["runs"][3][0][1] is True and loaded["by pair"][("a", 1)] == np.float32(2)
    assert loaded["curve"] == [(10, 7.5), (20, 6.25)] and isinstance(loaded["curve"][0][0], int)   # a step stays an int
    assert [p.name for p in folder.iterdir()] == ["02.npz"]      # one file per notebook
    with pytest.raises(TypeError, match="got a Model"):
        precomputed.save("02_model", Model())
    with pytest.raises(KeyError, match="no result '02_missing'"):
        precomputed.load("02_missing")


def test_the_experiment_runs_as_written_and_is_stored_only_when_asked(folder, monkeypatch):
    model = Model()
    assert precomputed.result("02_run", lambda: 5.0, model) == 5.0
    assert not list(folder.iterdir())
    monkeypatch.setenv(precomputed.WRITE, "1")
    model.params["W"] += 1
    assert precomputed.result("02_run", lambda: 5.0, model) == 5.0
    assert precomputed.load("02_run")["value"] == 5.0
    with pytest.raises(ValueError, match="notebook's number"):
        precomputed.result("run", lambda: 1)
    with pytest.raises(ZeroDivisionError):                     # a student's bug is not hidden
        precomputed.result("02_run", lambda: 1 / 0)


def test_an_unfinished_exercise_falls_back_with_one_line(folder, monkeypatch, capsys):
    monkeypatch.setenv(precomputed.WRITE, "1")
    trained = Model()
    trained.params["W"] = np.full((2, 2), 7.0)
    precomputed.result("04_run", lambda: {"loss": [0.5]}, trained)
    monkeypatch.delenv(precomputed.WRITE)
    fresh = Model()
    assert precomputed.result("04_run", not_shipped("clip_grad_norm", "04_long_term_dependencies"), fresh) \
        == {"loss": [0.5]}
    np.testing.assert_array_equal(fresh.params["W"], trained.params["W"])    # the model gets its weights too
    params = {"W": np.zeros((2, 2))}                                          # a dict of parameters itself
    precomputed.result("04_run", not_shipped("clip_grad_norm", "04_long_term_dependencies"), params)
    np.testing.assert_array_equal(params["W"], trained.params["W"])
    assert precomputed.result("04_run", not_shipped("Adam.step", "07_generation")) == {"loss": [0.5]}
    precomputed.result("04_run", not_shipped("clip_grad_norm", "04_long_term_dependencies", needs_course=True))
    precomputed.result("04_run", not_shipped("clip_grad_norm", "04_long_term_dependencies", defined=False))
    lines = capsys.readouterr().out.splitlines()[1:]
    assert lines == ["using the course's precomputed result because clip_grad_norm (your exercise in notebook "
                     "04_long_term_dependencies) is not finished",
                     "using the course's precomputed result: this experiment needs Adam.step, an exercise of "
                     "notebook 07_generation, which is sealed until then",
                     "using the course's precomputed result: this experiment needs the course's version of "
                     "clip_grad_norm (your exercise in notebook 04_long_term_dependencies), which is not shipped here",
                     "using the course's precomputed result: this experiment needs clip_grad_norm (your exercise in "
                     "notebook 04_long_term_dependencies), which the notebook has not defined yet, and the course's "
                     "version is not shipped here"]


def shipped_keys(assignment):
    """The keys of the results the course ships for an assignment (none without its file)."""
    path = precomputed.FOLDER / f"{assignment[:2]}.npz"
    if not path.exists():
        return set()
    with np.load(path) as stored:
        return {name.split("/")[0] for name in stored.files if name.endswith("/structure")}


def unshipped_results(assignment, record):
    """The keys that a run of the assignment's solution notebook asked for (the file ``record``,
    written by ``precomputed.result`` under ``precomputed.RECORD``) and the course does not ship:
    a key built with an f-string counts with each value it took in the run.
    ``tests/test_notebooks.py`` checks every full run with it."""
    asked = record.read_text().splitlines() if record.exists() else []
    return sorted(set(asked) - shipped_keys(assignment))


def test_a_run_records_the_keys_it_asks_for(folder, monkeypatch, tmp_path):
    monkeypatch.setenv(precomputed.RECORD, str(tmp_path / "asked"))
    monkeypatch.setenv(precomputed.WRITE, "1")
    precomputed.result("04_stored", lambda: 1.0)
    monkeypatch.delenv(precomputed.WRITE)
    for run in (1, 2):
        precomputed.result(f"04_run {run}", lambda: 2.0)
    assert (tmp_path / "asked").read_text().splitlines() == ["04_stored", "04_run 1", "04_run 2"]
    assert unshipped_results("04_long_term_dependencies", tmp_path / "asked") == ["04_run 1", "04_run 2"]
    with pytest.raises(ValueError, match="line break"):
        precomputed.result("04_two\nlines", lambda: 1)


def test_every_result_a_notebook_asks_for_is_shipped():
    """Each notebook that calls precomputed.result has its file, and the file holds what the
    notebook's keys name (``python -m rnn_helpers.precomputed NN_topic`` writes it). Read from the
    source, a key built with an f-string matches a stored key whatever its fields; the full run in
    ``tests/test_notebooks.py`` checks each value it takes (``unshipped_results``)."""
    for assignment in ASSIGNMENTS:
        source = "\n".join(cell.source for cell in read_notebook(source_notebook(assignment)).cells)
        keys = re.findall(r'precomputed\.result\(f?"([^"]+)"', source)
        if not keys:
            continue
        shipped = shipped_keys(assignment)
        assert shipped, f"{assignment} calls precomputed.result but the course ships no {assignment[:2]}.npz"
        for key in keys:
            pattern = re.sub(r"\\\{[^}]*\\\}", ".+", re.escape(key))      # an f-string's fields match anything
            assert any(re.fullmatch(pattern, name) for name in shipped), f"{assignment}: no result {key!r}"
