"""Grading a class survives hostile and broken submissions, and every student gets exactly
the points they earned.

One class is graded with ``grade_class`` on assignment 01_sequences: an honest student
with the solution, and one student per hostile case. Each case is the solution with some
cells changed, and states which test cells it must fail (the cheats earn nothing for the
exercise they cheat on; the rest of their notebook is graded as usual).
"""
import copy
import io
import pathlib
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import ROOT, autograded_tests, read_notebook, source_notebook, student_notebook
from rnn_helpers.instructor import sandbox
from rnn_helpers.instructor.grade_class import GradingRun
from rnn_helpers.instructor.release import nbgrader_env

ASSIGNMENT = "01_sequences"
pytestmark = pytest.mark.xdist_group("hostile")

STEP = ["test-rnn-step-shape", "test-rnn-step-values", "test-rnn-step-hidden"]
FORWARD = ["test-rnn-forward-shape", "test-rnn-forward-values", "test-rnn-forward-hidden"]
COUNT = ["test-param-count-visible", "test-param-count-arrays", "test-param-count-hidden"]
OUTPUT = ["test-output-layer-shape", "test-output-layer-values", "test-output-layer-stable",
          "test-output-layer-hidden"]
TEACHER = ["test-output-to-hidden-shape", "test-output-to-hidden-values", "test-output-to-hidden-hidden"]

WRONG_COUNT = "def parameter_counts(D, H, K, T):\n    return {'rnn': H * H + H * D, 'window': 0}\n"
RIGHT_COUNT = ("def parameter_counts(D, H, K, T):\n"
               "    return {'rnn': H * D + H * H + H + K * H + K, 'window': T * D * H + H + H * T * K + T * K}\n")


def cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def set_answer(grade_id, source):
    def change(nb, course):
        cell(nb, grade_id).source = source
    return change


def delete_cell(grade_id, replacement=None):
    def change(nb, course):
        nb.cells.remove(cell(nb, grade_id))
        if replacement:
            cell(nb, "ex-param-count").source = replacement
    return change


def edit_tests_and_break_answer(nb, course):
    cell(nb, "ex-param-count").source = WRONG_COUNT
    for grade_id in COUNT:
        cell(nb, grade_id).source = "print('all tests passed')"


def duplicate_test_cell(nb, course):
    cell(nb, "ex-param-count").source = WRONG_COUNT
    original = cell(nb, "test-param-count-hidden")
    copy_of_test = copy.deepcopy(original)
    copy_of_test.source = "pass"
    copy_of_test.id = "copied-cell"
    nb.cells.insert(nb.cells.index(original) + 1, copy_of_test)


def read_secrets(nb, course):
    targets = [course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", course / "gradebook.db"]
    cell(nb, "ex-param-count").source = (
        "import json\n"
        f"source = json.load(open({str(targets[0])!r}))\n"
        "answer = [c for c in source['cells'] if c['metadata'].get('nbgrader', {}).get('grade_id') == 'ex-param-count']\n"
        "exec(''.join(answer[0]['source']))\n"
        f"open({str(targets[1])!r}, 'rb').read()\n")


def write_outside(nb, course):
    cell(nb, "ex-param-count").source = RIGHT_COUNT + (
        "import pathlib\n"
        f"for target in [{str(course / 'PWNED')!r}, {str(course / 'submitted' / 'honest' / 'PWNED')!r},\n"
        f"               {str(course / 'solutions' / ASSIGNMENT / 'PWNED')!r}, '/tmp/PWNED-by-student']:\n"
        "    try:\n"
        "        pathlib.Path(target).write_text('owned')\n"
        "    except OSError:\n"
        "        pass\n")


CASES = {
    # name: (change to the solution, test cells it must fail, needs the sandbox)
    "syntax-error": (set_answer("ex-param-count", "def parameter_counts(D, H, K, T)\n    return D\n"), COUNT, False),
    "import-error": (set_answer("ex-output-layer", "import a_module_that_does_not_exist\n"), OUTPUT, False),
    "infinite-loop": (set_answer("ex-param-count", "import time\nwhile True:\n    try:\n        time.sleep(0.2)\n"
                                                   "    except KeyboardInterrupt:\n        pass\n"),
                      COUNT + OUTPUT + TEACHER, False),
    "kills-kernel": (set_answer("ex-output-layer", "import os\nos._exit(0)\n"), OUTPUT + TEACHER, False),
    "deleted-answer-cell": (delete_cell("ex-param-count"), COUNT, False),
    "deleted-test-cell": (delete_cell("test-param-count-hidden", WRONG_COUNT), COUNT, False),
    "edited-test-cells": (edit_tests_and_break_answer, COUNT, False),
    "duplicate-grade-id": (duplicate_test_cell, COUNT, False),
    "monkeypatches-checks": (set_answer("ex-param-count", WRONG_COUNT + (
        "import numpy as np\nimport builtins\nimport rnn_helpers.grading as checks\n"
        "for name in dir(checks):\n"
        "    if name.startswith('expect_'):\n"
        "        setattr(checks, name, lambda *args, **kwargs: None)\n"
        "checks.load_reference = lambda name: None\n"
        "np.allclose = lambda *args, **kwargs: True\n"
        "np.testing.assert_allclose = lambda *args, **kwargs: None\n"
        "np.abs = lambda x: 0 * x\nnp.any = lambda *args, **kwargs: False\n"
        "builtins.AssertionError = Warning\n")), COUNT, False),
    "rebinds-names": (set_answer("ex-param-count", WRONG_COUNT + (
        "class PassEverything:\n"
        "    def __getattr__(self, name):\n"
        "        return lambda *args, **kwargs: None\n"
        "grading = PassEverything()\n")), COUNT, False),
    "calls-reference": (set_answer("ex-rnn-step", "from rnn_helpers.rnn import rnn_step_forward\n"), STEP + FORWARD, False),
    "always-equal": (set_answer("ex-param-count", "class Anything(int):\n    def __eq__(self, other):\n        return True\n"
                                                  "    __hash__ = int.__hash__\n"
                                                  "def parameter_counts(D, H, K, T):\n    return {'rnn': Anything(0), 'window': Anything(0)}\n"), COUNT, False),
    "enormous-output": (set_answer("ex-param-count", RIGHT_COUNT + "for i in range(200000):\n    print('spam', i)\n"), [], False),
    "reads-solutions": (read_secrets, COUNT, True),
    "writes-outside": (write_outside, [], True),
}


def submit(course, student, nb):
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(nb, str(folder / f"{ASSIGNMENT}.ipynb"))


def scores_by_cell(course):
    """{student: {grade_id: score}} for the autograded test cells."""
    tests = autograded_tests(read_notebook(source_notebook(ASSIGNMENT)))
    scores = {}
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        for submission in gb.assignment_submissions(ASSIGNMENT):
            notebook = submission.notebooks[0]
            scores[submission.student.id] = {g.name: g.score for g in notebook.grades if g.name in tests}
    return scores


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    available, why = sandbox.availability()
    course = tmp_path_factory.mktemp("hostile-class")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    solution = read_notebook(source_notebook(ASSIGNMENT))
    submit(course, "honest", solution)
    for name, (change, _, needs_sandbox) in CASES.items():
        if needs_sandbox and not available:
            continue
        nb = copy.deepcopy(solution)
        change(nb, course)
        submit(course, name, nb)
    log = io.StringIO()
    run = GradingRun(course, isolation="auto", cell_timeout=20, out=log)
    try:
        table = run.grade([ASSIGNMENT])
    finally:
        run.close()
    return course, run, table, scores_by_cell(course), log.getvalue(), available, why


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_submission_gets_exactly_what_it_earned(graded_class, case):
    course, run, table, scores, log, sandboxed, why = graded_class
    if CASES[case][2] and not sandboxed:
        pytest.skip(f"needs the grading sandbox: {why}")
    tests = autograded_tests(read_notebook(source_notebook(ASSIGNMENT)))
    failing = set(CASES[case][1])
    expected = {gid: 0.0 if gid in failing else pts for gid, pts in tests.items()}
    assert scores[case] == expected


def test_honest_student_and_gradebook_are_unaffected(graded_class):
    course, run, table, scores, log, sandboxed, why = graded_class
    tests = autograded_tests(read_notebook(source_notebook(ASSIGNMENT)))
    assert scores["honest"] == tests
    assert set(table) == {"honest"} | {c for c, (_, _, needs) in CASES.items() if sandboxed or not needs}
    assert run.problems == [], f"grading problems: {run.problems}\n{log}"
    assert (course / "grades.csv").read_text().count(ASSIGNMENT) == len(table)


def test_sandbox_keeps_files_outside_the_submission_untouched(graded_class):
    course, run, table, scores, log, sandboxed, why = graded_class
    if not sandboxed:
        pytest.skip(f"needs the grading sandbox: {why}")
    assert "runs in a sandbox" in log
    assert not list(course.rglob("PWNED")) and not pathlib.Path("/tmp/PWNED-by-student").exists()


def test_enormous_output_is_truncated(graded_class):
    course = graded_class[0]
    graded = course / "autograded" / "enormous-output" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert graded.stat().st_size < 2_000_000


def test_feedback_shows_failures_but_no_hidden_tests(graded_class):
    course = graded_class[0]
    html = (course / "feedback" / "edited-test-cells" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "parameter_counts" in html and "AssertionError" in html
    # (this submission was made from the solution, so its own answers may show solution markers)
    for secret in ("BEGIN HIDDEN TESTS", "----&gt;"):
        assert secret not in html, f"feedback shows {secret!r}"


def test_regrading_gives_identical_grades(graded_class):
    course, run, table, scores, log, sandboxed, why = graded_class
    again = GradingRun(course, isolation="auto", cell_timeout=20, out=io.StringIO())
    try:
        again.prepare([ASSIGNMENT])
        again.grade_submissions([(ASSIGNMENT, student) for student in ("honest", "monkeypatches-checks")])
    finally:
        again.close()
    assert again.problems == []
    rescored = scores_by_cell(course)
    for student in ("honest", "monkeypatches-checks"):
        assert rescored[student] == scores[student]


@pytest.fixture(scope="session")
def autograded_by_hand(tmp_path_factory):
    """`nbgrader autograde` run by hand in a fresh course (no gradebook yet), as an instructor would."""
    course = tmp_path_factory.mktemp("by-hand")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    submit(course, "untouched", read_notebook(student_notebook(ASSIGNMENT)))
    reader = read_notebook(source_notebook(ASSIGNMENT))
    read_secrets(reader, course)
    submit(course, "reads-solutions", reader)
    result = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT], cwd=course,
                            env=nbgrader_env(), capture_output=True, text=True)
    return course, result


def test_nbgrader_autograde_by_hand_grades_a_fresh_course_in_the_sandbox(autograded_by_hand):
    course, result = autograded_by_hand
    assert result.returncode == 0, result.stderr[-3000:]
    assert "has changed" not in result.stderr, "untouched cells reported as changed"
    available, why = sandbox.availability()
    if not available:
        assert "ISOLATION IS OFF" in result.stderr
        pytest.skip(f"needs the grading sandbox: {why}")
    assert "ISOLATION IS OFF" not in result.stderr
    scores = scores_by_cell(course)
    tests = autograded_tests(read_notebook(source_notebook(ASSIGNMENT)))
    assert scores["reads-solutions"] == {gid: 0.0 if gid in COUNT else pts for gid, pts in tests.items()}
    graded = read_notebook(course / "autograded" / "reads-solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    outputs = cell(graded, "ex-param-count").outputs
    assert [o.ename for o in outputs if o.output_type == "error"] == ["FileNotFoundError"], "solutions/ was readable"
