"""Bad input gets a clear message and nothing is graded wrongly: broken uploads, wrong names,
unknown assignments, two submissions of one student, a zip that writes outside its folder,
and a grading environment in which the instructor's own solution fails."""
import io
import pathlib
import shutil
import zipfile

import nbformat
import pytest

from conftest import ROOT, read_notebook, source_notebook, student_notebook
from rnn_helpers.instructor.grade_class import GraderCheckFailed, GradingRun

ASSIGNMENT = "01_sequences"


@pytest.fixture
def course(tmp_path):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, tmp_path / "solutions" / ASSIGNMENT)
    return tmp_path


def make_zip(folder, name, members):
    folder.mkdir(exist_ok=True)
    with zipfile.ZipFile(folder / name, "w") as archive:
        for member, text in members.items():
            archive.writestr(member, text)


def problems_of(run):
    return {student: what for student, _, what in run.problems}


def test_zips_that_cannot_be_graded_are_reported_and_not_imported(course, tmp_path):
    notebook = nbformat.writes(read_notebook(student_notebook(ASSIGNMENT)))
    zips = tmp_path / "lms"
    make_zip(zips, "good.zip", {f"good/{ASSIGNMENT}.ipynb": notebook})
    make_zip(zips, "slip.zip", {f"../../{ASSIGNMENT}.ipynb": notebook, "../../../evil.py": "pwned"})
    make_zip(zips, "renamed.zip", {f"{ASSIGNMENT} (1).ipynb": notebook})
    make_zip(zips, "unknown.zip", {"99_unknown.ipynb": notebook})
    make_zip(zips, "twice.zip", {f"a/{ASSIGNMENT}.ipynb": notebook, f"b/{ASSIGNMENT}.ipynb": notebook})
    make_zip(zips, "corrupt.zip", {f"{ASSIGNMENT}.ipynb": '{"cells": [ cut off'})
    make_zip(zips, "alice.zip", {f"{ASSIGNMENT}.ipynb": notebook})
    make_zip(zips, "Alice.zip", {f"{ASSIGNMENT}.ipynb": notebook})
    (zips / "not-a-zip.zip").write_text("garbage")
    run = GradingRun(course, out=io.StringIO())
    try:
        run.import_zips(zips, [ASSIGNMENT])
    finally:
        run.close()
    problems = problems_of(run)
    assert "a path that leaves its folder" in problems["slip"]
    assert f"found: {ASSIGNMENT} (1).ipynb" in problems["renamed"]
    assert "found: 99_unknown.ipynb" in problems["unknown"]
    assert "2 copies" in problems["twice"]
    assert "NotJSONError" in problems["corrupt"] or "JSON" in problems["corrupt"]
    assert "two submissions of one student" in problems["alice"] and "Alice.zip" in problems["alice"]
    assert "not-a-zip" in problems and "good" not in problems
    imported = sorted(p.parent.name for p in (course / "submitted").glob(f"*/{ASSIGNMENT}"))
    assert imported == ["good"]
    assert not (tmp_path.parent / "evil.py").exists() and not list(tmp_path.rglob("evil.py"))


def test_submitted_folders_that_cannot_be_graded_are_reported(course):
    def put(student, assignment, name, text):
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        (folder / name).write_text(text)

    good = nbformat.writes(read_notebook(student_notebook(ASSIGNMENT)))
    put("good", ASSIGNMENT, f"{ASSIGNMENT}.ipynb", good)
    put("renamed", ASSIGNMENT, "my_work.ipynb", good)
    put("corrupt", ASSIGNMENT, f"{ASSIGNMENT}.ipynb", "not json")
    put("lost", "99_unknown", "99_unknown.ipynb", good)
    run = GradingRun(course, out=io.StringIO())
    try:
        assert run.students(ASSIGNMENT) == ["good"]
        run.unknown_submissions()
    finally:
        run.close()
    problems = problems_of(run)
    assert f"holds no {ASSIGNMENT}.ipynb (found: my_work.ipynb" in problems["renamed"]
    assert "not a readable notebook" in problems["corrupt"]
    assert "unknown assignment" in problems["lost"]


@pytest.mark.xdist_group("grader-check")
def test_the_grader_checks_itself_and_its_kernel_sees_the_instructors_import_path(course, tmp_path, monkeypatch):
    # The tests of the solution import a module that lives only on the instructor's PYTHONPATH.
    extra = tmp_path / "instructor-path"
    extra.mkdir()
    (extra / "course_extra_module.py").write_text("VALUE = 1\n")
    solution = read_notebook(source_notebook(ASSIGNMENT))
    for cell in solution.cells:
        grading = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and grading.get("grade") and not grading.get("solution"):
            cell.source = "import course_extra_module\n" + cell.source
    nbformat.write(solution, str(course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    folder = course / "submitted" / "someone" / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(read_notebook(source_notebook(ASSIGNMENT)), str(folder / f"{ASSIGNMENT}.ipynb"))

    # On the path: the sandboxed kernel imports it, the solution earns full marks.
    monkeypatch.setenv("PYTHONPATH", str(extra))
    run = GradingRun(course, workers=1, cell_timeout=30, out=io.StringIO())
    try:
        run.prepare([ASSIGNMENT])
        run.check_grader([ASSIGNMENT])
    finally:
        run.close()

    # Not on the path: every test of the solution fails, so nothing is graded and the
    # instructor reads which import failed.
    monkeypatch.delenv("PYTHONPATH")
    run = GradingRun(course, workers=1, cell_timeout=30, out=io.StringIO())
    try:
        with pytest.raises(GraderCheckFailed, match="ModuleNotFoundError: No module named 'course_extra_module'"):
            run.grade([ASSIGNMENT])
    finally:
        run.close()
    assert not (course / "autograded" / "someone").exists() and not (course / "grades.csv").exists()


def test_a_failure_before_the_first_answer_in_the_instructors_cells_is_not_the_students():
    from nbformat.v4 import new_output

    from rnn_helpers.instructor.grade_class import setup_failure

    source = read_notebook(source_notebook(ASSIGNMENT))
    executed = read_notebook(student_notebook(ASSIGNMENT))
    setup = next(c for c in executed.cells if c.cell_type == "code")
    setup.outputs = [new_output("error", ename="ModuleNotFoundError", evalue="No module named 'rnn_helpers'",
                                traceback=[])]
    assert "ModuleNotFoundError: No module named 'rnn_helpers'" in setup_failure(executed, source)
    setup.source = "import a_module_the_student_added\n" + setup.source  # the student's own edit
    assert setup_failure(executed, source) is None
