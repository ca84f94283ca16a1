"""The nbgrader pipeline, end to end, in a temporary course directory.

For every assignment: generate the student version, submit the instructor's solution, the
untouched student version and the first case of tests/grading_cases/ (the solution with one
exercise deliberately wrong, or written another correct way), autograde them all, and check
the scores cell by cell in the gradebook. An assignment's further cases are graded the same
way by a slow test (`make test-slow`): each is a whole graded run of the notebook, and
`make test` stays under 20 minutes.
"""
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import (ASSIGNMENTS, ROOT, autograded_tests, grade_cells, load_grading_cases,
                      read_notebook, source_notebook, student_notebook)
from rnn_helpers.instructor.release import nbgrader_env


def nbgrader(course, *args):
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={course}"],
                            cwd=course, env=nbgrader_env(), capture_output=True, text=True)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def submit(course, student, name, nb):
    folder = course / "submitted" / student / name
    folder.mkdir(parents=True)
    nbformat.write(nb, str(folder / f"{name}.ipynb"))


def wrong_submission(name, case):
    nb = read_notebook(source_notebook(name))
    cells = grade_cells(nb)
    assert case["wrong_exercise"] in cells, f"{case['wrong_exercise']} is not a cell of {name}"
    cells[case["wrong_exercise"]][0].source = case["wrong_source"]
    return nb, set(case["failing_tests"])


def grade(name, course, submissions):
    """Autograde {student: notebook} for assignment `name` in a fresh course directory; the
    scores of each student, {grade id: score}."""
    if name == "10_pytorch":   # its PyTorch exercises fail on purpose where torch is missing
        pytest.importorskip("torch", reason="notebook 10's graded PyTorch exercises need torch (pip install -e '.[torch]')")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / name, course / "solutions" / name)
    nbgrader(course, "generate_assignment", name, "--force")
    for student, nb in submissions.items():
        submit(course, student, name, nb)
    nbgrader(course, "autograde", name)
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        return {student: {grade.name: grade.score for grade in gb.find_submission_notebook(name, name, student).grades}
                for student in submissions}


def grade_wrong_answers(name, course, numbered_cases, **others):
    """Grade the numbered grading cases (beside any other submissions); the scores, the
    expected failing tests of each case and the assignment's tests with their points."""
    submissions, failing = dict(others), {}
    for number, case in numbered_cases:
        submissions[f"one-wrong-{number}"], failing[f"one-wrong-{number}"] = wrong_submission(name, case)
    scores = grade(name, course, submissions)
    return scores, failing, autograded_tests(read_notebook(source_notebook(name)))


@pytest.fixture(scope="session", params=[pytest.param(a, marks=pytest.mark.xdist_group(a)) for a in ASSIGNMENTS])
def graded(request, tmp_path_factory):
    """The solution, the untouched student version and the first grading case, graded."""
    name = request.param
    first = list(enumerate(load_grading_cases(name), start=1))[:1]
    scores, failing, tests = grade_wrong_answers(
        name, tmp_path_factory.mktemp(f"course-{name}"), first,
        perfect=read_notebook(source_notebook(name)), untouched=read_notebook(student_notebook(name)))
    return name, tests, failing, scores


WITH_MORE_CASES = [a for a in ASSIGNMENTS if len(load_grading_cases(a)) > 1]


def test_solution_earns_full_marks(graded):
    name, tests, _, scores = graded
    lost = {gid: (scores["perfect"][gid], pts) for gid, pts in tests.items() if scores["perfect"][gid] != pts}
    assert not lost, f"{name}: the solution loses points on {lost}"


def test_untouched_student_version_earns_zero(graded):
    name, tests, _, scores = graded
    earned = {gid: scores["untouched"][gid] for gid in tests if scores["untouched"][gid] != 0}
    assert not earned, f"{name}: the untouched notebook earns points on {earned}"


def assert_each_case_loses_exactly_its_points(name, tests, failing, scores):
    for student, failing_tests in failing.items():
        assert failing_tests <= set(tests), f"unknown test cells in {student}: {failing_tests - set(tests)}"
        expected = {gid: (0 if gid in failing_tests else pts) for gid, pts in tests.items()}
        actual = {gid: scores[student][gid] for gid in tests}
        assert actual == expected, f"{name}, grading case {student}"


def test_one_wrong_exercise_loses_exactly_its_points(graded):
    assert_each_case_loses_exactly_its_points(*graded)


@pytest.mark.slow
@pytest.mark.parametrize("name", [pytest.param(a, marks=pytest.mark.xdist_group(f"more-{a}")) for a in WITH_MORE_CASES])
def test_every_further_wrong_answer_loses_exactly_its_points(name, tmp_path):
    further = list(enumerate(load_grading_cases(name), start=1))[1:]
    scores, failing, tests = grade_wrong_answers(name, tmp_path, further)
    assert_each_case_loses_exactly_its_points(name, tests, failing, scores)
