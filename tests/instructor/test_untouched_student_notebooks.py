"""An untouched student notebook, run as a student runs it: it never says that a test passed,
and every section after an unfinished exercise still runs.

The student version has no solutions and no hidden tests: every exercise still raises
``NotImplementedError``. Run top to bottom with errors allowed (as *Run All* would if it did
not stop), no locked test cell may print "passed": a cell may claim success only after
something it checked passed. And no cell outside the exercises and their tests may fail
for want of a name an unfinished exercise would have defined (``NameError``): the
experiments after an exercise use the student's function when it works, or a result the
course ships, and say so. ``test_sealed_environment.py`` runs the same checks in the sealed
student environment.
"""
import os
import re

import pytest
from rnn_helpers.instructor.execution import SteadyNotebookClient

from conftest import ASSIGNMENTS, grade_cells, read_notebook, student_notebook

PASSED = re.compile(r"\bpassed\b", re.IGNORECASE)


def _text(output):
    if output.output_type == "stream":
        return output.text
    if output.output_type in ("execute_result", "display_data"):
        return output.get("data", {}).get("text/plain", "")
    return ""


_RUNS = {}
# Both tests of a notebook share one execution: they run on the same xdist worker.
NAMES = [pytest.param(name, marks=pytest.mark.xdist_group(f"untouched-{name}")) for name in ASSIGNMENTS]


def untouched_run(name, kernel_name="python3"):
    """The student version of ``name`` executed top to bottom, errors allowed, in the kernel
    ``kernel_name`` (once per session)."""
    return autograder_length_run(student_notebook(name), kernel_name)


def autograder_length_run(path, kernel_name):
    """The notebook ``path`` executed top to bottom with the autograder's short training runs,
    errors allowed, in the kernel ``kernel_name`` (once per session)."""
    if (path, kernel_name) not in _RUNS:
        nb = read_notebook(path)
        previous = os.environ.get("NBGRADER_EXECUTION")
        os.environ["NBGRADER_EXECUTION"] = "autograde"      # the short training runs
        try:
            SteadyNotebookClient(nb, timeout=600, kernel_name=kernel_name, allow_errors=True,
                                 resources={"metadata": {"path": str(path.parent)}}).execute()
        finally:
            if previous is None:
                os.environ.pop("NBGRADER_EXECUTION")
            else:
                os.environ["NBGRADER_EXECUTION"] = previous
        _RUNS[path, kernel_name] = nb
    return _RUNS[path, kernel_name]


def cells_that_say_passed(nb):
    """The locked test cells of an executed notebook whose output says "passed"."""
    claims = []
    for grade_id, (cell, meta) in grade_cells(nb).items():
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        text = "".join(_text(output) for output in cell.get("outputs", []))
        if PASSED.search(text):
            claims.append(f"{grade_id}: {text.strip()[:120]!r}")
    return claims


def name_errors_outside_exercises(nb):
    """The cells of an executed notebook, outside the exercises and their tests, that stopped
    on a ``NameError``."""
    graded = {id(cell) for cell, meta in grade_cells(nb).values() if meta.get("solution") or meta.get("grade")}
    missing = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or id(cell) in graded:
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error" and output.ename == "NameError":
                missing.append(f"cell {index}: {output.evalue}")
    return missing


@pytest.mark.parametrize("name", NAMES)
def test_untouched_student_notebook_never_says_passed(name):
    claims = cells_that_say_passed(untouched_run(name))
    assert not claims, f"{name}: untouched, these test cells say they passed:\n" + "\n".join(claims)


@pytest.mark.parametrize("name", NAMES)
def test_untouched_student_notebook_reaches_every_section(name):
    missing = name_errors_outside_exercises(untouched_run(name))
    assert not missing, (f"{name}: untouched, these cells after an exercise cannot run:\n"
                         + "\n".join(missing))
