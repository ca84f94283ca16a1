"""Shared paths and helpers for the course's tests."""
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import threading
import time

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


def load_grading_cases(assignment):
    """The wrong answers of tests/grading_cases/<assignment>.json: the file holds one case or a
    list of them, each {wrong_exercise, wrong_source, failing_tests}; always a list."""
    path = ROOT / "tests" / "grading_cases" / f"{assignment}.json"
    with open(path, encoding="utf-8") as f:
        cases = json.load(f)
    return cases if isinstance(cases, list) else [cases]


def load_grading_case(assignment):
    """The first wrong answer of the assignment (what the cluster tests submit)."""
    return load_grading_cases(assignment)[0]


def pytest_addoption(parser):
    parser.addoption("--slow", action="store_true",
                     help="run the tests marked slow too (make test-slow and CI do)")


def pytest_collection_modifyitems(config, items):
    """Tests marked ``slow`` run only with ``--slow``; ``make test`` stays under 20 minutes."""
    if config.getoption("--slow"):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]


@pytest.fixture(params=ASSIGNMENTS)
def assignment(request):
    return request.param


class Listener:
    """A TCP listener on this machine's loopback that records whoever connects."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.received = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, peer = self.server.accept()
            except OSError:
                return
            connection.settimeout(3)
            try:
                self.received.append((peer, connection.recv(1000)))
            except OSError:
                self.received.append((peer, b""))
            connection.close()


def start_scheduler(folder):
    """A Dask scheduler on the loopback (no TLS), as a class might leave one running; (process, port, log)."""
    command = shutil.which("dask", path=os.path.dirname(sys.executable))
    if command is None:
        pytest.skip("the dask command is not installed")
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    log = folder / "scheduler.log"
    with open(log, "w") as out:
        process = subprocess.Popen([command, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                    "--no-dashboard"], stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while "Scheduler at" not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the Dask scheduler did not start:\n{log.read_text()}")
        time.sleep(0.5)
    return process, port, log
