"""Shared paths and helpers for the course's tests."""
import json
import pathlib

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
NOTEBOOKS = ROOT / "notebooks"
ASSIGNMENTS = sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir()) if SOLUTIONS.is_dir() else []


def source_notebook(assignment):
    return SOLUTIONS / assignment / f"{assignment}.ipynb"


def student_notebook(assignment):
    return NOTEBOOKS / assignment / f"{assignment}.ipynb"


def read_notebook(path):
    return nbformat.read(str(path), as_version=4)


def grade_cells(nb):
    """The nbgrader metadata of every cell that carries some, keyed by grade_id."""
    cells = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta and "grade_id" in meta:
            cells[meta["grade_id"]] = (cell, meta)
    return cells


def autograded_tests(nb):
    """grade_id -> points of every autograded test cell."""
    return {gid: meta["points"] for gid, (cell, meta) in grade_cells(nb).items()
            if meta.get("grade") and not meta.get("solution") and cell.cell_type == "code"}


def assert_gradients_match(forward, inputs, grads, upstream, tol=1e-7):
    """Each analytic gradient grads[i] against the numerical gradient of
    sum(forward(*inputs)[0] * upstream) with respect to inputs[i]."""
    from rnn_helpers.gradcheck import numerical_gradient, rel_error

    for i, analytic in enumerate(grads):
        def first_output(a, i=i):
            args = list(inputs)
            args[i] = a
            return forward(*args)[0]
        error = rel_error(analytic, numerical_gradient(first_output, inputs[i].copy(), upstream))
        assert error < tol, f"gradient {i} of {forward.__name__}: relative error {error:.2e}"


def load_grading_case(assignment):
    path = ROOT / "tests" / "grading_cases" / f"{assignment}.json"
    with open(path, encoding="utf-8") as f:
        return json.load(f)


@pytest.fixture(params=ASSIGNMENTS)
def assignment(request):
    return request.param
