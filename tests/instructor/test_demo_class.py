"""The demo class runs the whole instructor path and every simulated student lands where expected."""
import io

import pytest

from conftest import autograded_tests, read_notebook, source_notebook
from rnn_helpers.instructor import demo_class
from rnn_helpers.instructor.grade_class import GradingRun

pytestmark = pytest.mark.xdist_group("demo-class")
ASSIGNMENT = "01_sequences"


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    course = tmp_path_factory.mktemp("demo") / "course"
    zips = demo_class.build(course, ASSIGNMENT)
    log = io.StringIO()
    run = GradingRun(course, out=log)
    try:
        table = run.grade([ASSIGNMENT], zips)
        run.report(table, [ASSIGNMENT])
    finally:
        run.close()
    return course, run, table, log.getvalue()


def test_grade_table(demo):
    course, run, table, log = demo
    nb = read_notebook(source_notebook(ASSIGNMENT))
    full = sum(autograded_tests(nb).values())
    answers = [i for i, c in enumerate(nb.cells)
               if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    tests = autograded_tests(nb)
    lost = sum(tests[c.metadata.nbgrader["grade_id"]] for c in nb.cells[answers[-1]:]
               if c.metadata.get("nbgrader", {}).get("grade_id") in tests)
    scores = {student: row[ASSIGNMENT] and row[ASSIGNMENT][0] for student, row in table.items()}
    assert scores["perfect"] == full
    assert scores["blank"] == 0
    assert scores["cheater"] == 0
    assert scores["partly-right"] == full - lost  # only the stubbed last exercise fails
    assert "broken" not in scores or scores["broken"] in (None, 0)
    assert [p[0] for p in run.problems] == ["broken"]


def test_progress_report_and_exports(demo):
    course, run, table, log = demo
    for student in ("perfect", "blank", "partly-right", "cheater"):
        assert f"] {student} / {ASSIGNMENT}: graded" in log
    assert " left" in log and "all done in" in log, "progress should show the time left"
    assert "self-check: the instructor's solution earns full marks" in log
    assert "need a look" in log and "broken" in log.split("need a look")[1]
    assert "NotJSONError" in log.split("need a look")[1], "the report should say why grading failed"
    assert "manually graded written answers (01_sequences: " in log
    assert (course / "grades.csv").is_file()
    assert (course / "feedback" / "perfect" / ASSIGNMENT / f"{ASSIGNMENT}.html").is_file()
    assert (course / "submitted" / "perfect" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file(), "zip not imported"


def test_grading_leaves_the_course_folder_private_and_says_so(demo):
    course, run, table, log = demo
    assert "is now private" in log or "is private" in log, "grade_class should report the folder's privacy"
    for path in (course, course / "grades.csv", course / "submitted" / "perfect"):
        assert path.stat().st_mode & 0o077 == 0, f"{path} is open to other accounts after grading"


def test_feedback_never_shows_solutions_or_hidden_tests(demo):
    course = demo[0]
    for student in ("blank", "cheater"):
        html = (course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
        assert "NotImplementedError" in html or "ReferenceImplementationCalled" in html
        for secret in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "Mark scheme", "Model answer", "----&gt;"):
            assert secret not in html, f"{student}'s feedback shows {secret!r}"
