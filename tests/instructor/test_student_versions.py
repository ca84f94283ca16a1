"""notebooks/ is exactly what nbgrader generates from solutions/, and is clean."""
import json

import pytest

from conftest import (ASSIGNMENTS, NOTEBOOKS, ROOT, grade_cells, read_notebook,
                      source_notebook, student_notebook)
from rnn_helpers.instructor import release

pytestmark = pytest.mark.xdist_group("student-versions")

STANDARD_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
FORBIDDEN_IN_STUDENT_VERSION = ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS",
                                "END HIDDEN TESTS", "Mark scheme", "mark scheme"]


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    release.generate(ASSIGNMENTS, release_directory=str(out))
    return out


def test_every_assignment_has_a_student_version():
    assert ASSIGNMENTS, "solutions/ holds no assignment"
    released = sorted(p.name for p in NOTEBOOKS.iterdir() if p.is_dir())
    assert released == ASSIGNMENTS


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_student_version_is_in_sync(name, generated):
    expected = json.loads((generated / name / f"{name}.ipynb").read_text(encoding="utf-8"))
    committed = json.loads(student_notebook(name).read_text(encoding="utf-8"))
    assert committed == expected, (
        f"notebooks/{name} differs from what nbgrader generates from solutions/{name}: "
        f"run `python -m rnn_helpers.instructor.release {name}`")


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_student_version_hides_solutions_and_hidden_tests(name):
    text = student_notebook(name).read_text(encoding="utf-8")
    for marker in FORBIDDEN_IN_STUDENT_VERSION:
        assert marker not in text, f"notebooks/{name} contains {marker!r}"


@pytest.mark.parametrize("path_of", [source_notebook, student_notebook], ids=["solutions", "notebooks"])
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_notebooks_are_committed_clean(name, path_of):
    nb = read_notebook(path_of(name))
    assert dict(nb.metadata) == STANDARD_METADATA, "notebook metadata is not the standard one"
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {index} has outputs"
            assert cell.execution_count is None, f"cell {index} has an execution count"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_exercises_follow_the_grading_conventions(name):
    cells = grade_cells(read_notebook(source_notebook(name)))
    answers = [gid for gid, (cell, meta) in cells.items() if meta.get("solution") and cell.cell_type == "code"]
    tests = [gid for gid, (cell, meta) in cells.items() if meta.get("grade") and not meta.get("solution")]
    written = [gid for gid, (cell, meta) in cells.items() if meta.get("solution") and cell.cell_type == "markdown"]
    assert answers, "no autograded answer cell"
    assert tests, "no autograded test cell"
    assert written, "no manually graded written question"
    for gid in tests:
        cell, meta = cells[gid]
        assert meta.get("locked") and meta.get("points", 0) > 0, f"{gid} must be locked and carry points"
    for gid in tests:
        lines = cells[gid][0].source.splitlines()
        for statement in ("import numpy as np", "from rnn_helpers import grading"):
            assert statement in lines, (
                f"{gid} must start over with `{statement}`: an answer may have rebound the name")
    hidden = [gid for gid in tests if "BEGIN HIDDEN TESTS" in cells[gid][0].source]
    assert hidden, "no hidden tests"
    for gid in written:
        assert "mark scheme" in cells[gid][0].source.lower(), f"{gid} has no mark scheme"
