"""Bad input gets a clear message and nothing is graded wrongly: broken uploads, wrong names,
unknown assignments, two submissions of one student, a zip that writes outside its folder, a
zip bomb, a zip of ten thousand files, a notebook stored as a link in a zip, names with
newlines, the self-check's reserved student id, links in submitted/, a grading environment in
which the instructor's own solution fails, and students who cannot be graded in grades.csv."""
import csv
import io
import os
import pathlib
import re
import shutil
import stat
import zipfile

import nbformat
import pytest

from conftest import ROOT, read_notebook, source_notebook, student_notebook
from rnn_helpers.instructor import student_files
from rnn_helpers.instructor.grade_class import GraderCheckFailed, GradingRun, failure_reason
from rnn_helpers.instructor.release import nbgrader_env

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


def declared_bomb(path, notebook):
    """A zip whose one extra member declares 300 MB (a zip bomb's headers, without the bytes)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{ASSIGNMENT}.ipynb", notebook)
        archive.writestr("zeros.bin", b"0" * 16)
    data = bytearray(path.read_bytes())
    size = (300 * 1024 * 1024).to_bytes(4, "little")
    local = data.index(b"PK\x03\x04", data.index(b"zeros.bin") - 40)
    data[local + 22:local + 26] = size
    central = data.index(b"PK\x01\x02", data.rindex(b"zeros.bin") - 60)
    data[central + 24:central + 28] = size
    path.write_bytes(bytes(data))


def test_zip_bombs_floods_links_and_forged_names_are_refused_with_one_clear_line(course, tmp_path):
    notebook = nbformat.writes(read_notebook(student_notebook(ASSIGNMENT)))
    zips = tmp_path / "lms"
    zips.mkdir()
    declared_bomb(zips / "bomb.zip", notebook)
    make_zip(zips, "many.zip", {f"{ASSIGNMENT}.ipynb": notebook, **{f"junk/{i}": "" for i in range(10_000)}})
    with zipfile.ZipFile(zips / "linked.zip", "w") as archive:
        info = zipfile.ZipInfo(f"{ASSIGNMENT}.ipynb")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, str(course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    make_zip(zips, "new\nline.zip", {f"{ASSIGNMENT}.ipynb": notebook})
    make_zip(zips, f"{student_files.SELF_CHECK_ID}.zip", {f"{ASSIGNMENT}.ipynb": notebook})
    os.symlink(zips / "many.zip", zips / "pointer.zip")
    os.mkfifo(zips / "pipe.zip")
    out = io.StringIO()
    run = GradingRun(course, out=out)
    try:
        run.import_zips(zips, [ASSIGNMENT])
    finally:
        run.close()
    problems = problems_of(run)
    assert re.search(r"would unpack to 314,\d{3},\d{3} bytes, over the 209,715,200", problems["bomb"])
    assert "zip bomb" in problems["bomb"]
    assert "it holds 10,001 files, over the 1,000" in problems["many"]
    assert "is a symbolic link, not a notebook" in problems["linked"]
    assert "holds characters a student id may not hold" in problems["new\nline"]
    assert "reserves for grading the instructor's solution" in problems[student_files.SELF_CHECK_ID]
    assert "symbolic link" in problems["pointer"] and "not a regular file" in problems["pipe"]
    lines = out.getvalue().splitlines()
    assert len(lines) == 7 and all(line.startswith("  ! ") and "not imported" in line for line in lines), lines
    assert not (course / "submitted").exists()


def test_links_in_submitted_are_moved_to_refused_and_reported(course):
    good = nbformat.writes(read_notebook(student_notebook(ASSIGNMENT)))
    solution = course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    for student in ("beside", "linked", "new\nline", student_files.SELF_CHECK_ID):
        (course / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
    for student in ("beside", "new\nline", student_files.SELF_CHECK_ID):
        (course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text(good)
    os.symlink(solution, course / "submitted" / "beside" / ASSIGNMENT / "answers.txt")
    os.symlink(solution, course / "submitted" / "linked" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    os.symlink(course / "solutions", course / "submitted" / "whole-folder")
    run = GradingRun(course, out=io.StringIO())
    try:
        assert run.students(ASSIGNMENT) == ["beside"]
    finally:
        run.close()
    problems = problems_of(run)
    assert "not graded" in problems["linked"] and f"{ASSIGNMENT}.ipynb was refused: it is a symbolic link" in problems["linked"]
    assert "symbolic link" in problems["whole-folder"]
    assert "holds characters a student id may not hold" in problems["new\nline"]
    assert "reserves for grading the instructor's solution" in problems[student_files.SELF_CHECK_ID]
    [(student, _, what)] = run.refusals
    assert student == "beside" and "answers.txt was refused: it is a symbolic link" in what
    assert (course / "refused" / "submitted" / "beside" / ASSIGNMENT / "answers.txt").is_symlink()
    assert not os.path.lexists(course / "submitted" / "whole-folder")
    assert solution.is_file() and (course / "solutions").is_dir()


def test_students_who_cannot_be_graded_have_a_row_with_an_empty_score(course, monkeypatch):
    from nbgrader.api import Gradebook

    monkeypatch.setenv("PATH", nbgrader_env()["PATH"])  # the gradebook's migrations run alembic
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        gb.add_assignment(ASSIGNMENT)
        gb.add_student("graded")
        gb.add_student("known-but-refused")
    (course / "grades.csv").write_text(
        "assignment,duedate,timestamp,student_id,last_name,first_name,email,raw_score,late_submission_penalty,score,"
        "max_score\n"
        f"{ASSIGNMENT},,,graded,,,,3.0,0.0,3.0,0.0\n{ASSIGNMENT},,,known-but-refused,,,,0.0,0.0,0.0,0.0\n")
    run = GradingRun(course, out=io.StringIO())
    try:
        run.problem("known-but-refused", ASSIGNMENT, "not graded: its notebook was refused")
        run.problem("corrupt", ASSIGNMENT, "not graded: not a readable notebook")
        run.problem("bomb", "-", "could not import bomb.zip: it would unpack to ...")
        run.problem("-", ASSIGNMENT, "feedback could not be generated")
        run._blank_problem_scores([ASSIGNMENT])
    finally:
        run.close()
    with open(course / "grades.csv", newline="") as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"graded", "known-but-refused", "corrupt", "bomb"}
    assert rows["graded"]["score"] == "3.0"
    for student in ("known-but-refused", "corrupt", "bomb"):
        assert rows[student]["score"] == rows[student]["raw_score"] == "" and rows[student]["assignment"] == ASSIGNMENT


def test_a_failed_nbgrader_run_is_explained_in_a_sentence():
    traceback = ("Traceback (most recent call last):\n  File \"nbgrader/converters/base.py\", line 465, in convert_notebooks\n"
                 "    raise NbGraderException(msg)\nnbgrader.converters.base.NbGraderException: Please see the the above "
                 "traceback for details on the specific errors on the above failures.\n")
    log = ("[ERROR] There was an error processing assignment: /course/submitted/a/01\n[ERROR] Traceback (most recent "
           "call last):\n  File \"x.py\", line 1, in f\n    json.load(f)\nnbformat.reader.NotJSONError: Notebook does "
           "not appear to be JSON: 'cut off'\n")
    assert failure_reason(log, traceback) == "nbformat.reader.NotJSONError: Notebook does not appear to be JSON: 'cut off'"
    reason = failure_reason("", traceback)
    assert "raise" not in reason and "above traceback" not in reason and reason.startswith("nbgrader stopped without")
    assert failure_reason("[ERROR] No notebooks were matched by 'x'\n") == "No notebooks were matched by 'x'"
    assert failure_reason("[GenerateFeedbackApp | INFO] Copying a\n[GenerateFeedbackApp | ERROR] No notebooks "
                          "were matched by 'y'\n") == "No notebooks were matched by 'y'"
