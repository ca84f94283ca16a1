"""Hostile files: links, hard links, pipes, devices, floods and forged names in what students
hand in, on every grading path that moves their files (rnn_helpers.instructor.student_files).

One class is graded with ``grade_class`` on 01_sequences (zip import included), and a second
course with plain ``nbgrader autograde`` and ``nbgrader generate_feedback`` typed by hand. Each
case is a test, and each asserts, besides its own outcome (the entry refused and named in
the report, the rest of the submission graded, or the submission reported and not graded):

* nothing outside the student's grading folder changed: the instructor's files (solutions,
  configuration, a secret in the instructor's home, the other students' submissions) hash the
  same before and after, and the gradebook is still the gradebook, with its mode;
* no secret appears in anything the student gets back (the feedback folder): no solution or
  hidden-test marker, no gradebook, no secret of the instructor's home, no other student's work;
* the other students' grades equal those of a class without hostile students: the honest
  solution earns every autograded point and the untouched notebook none (as in
  test_grading_pipeline, which grades them alone).

The exchange (collect with real accounts) is attacked in test_exchange.py.
"""
import copy
import hashlib
import io
import os
import pathlib
import shutil
import stat
import subprocess
import sys
import zipfile

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import ROOT, autograded_tests, read_notebook, source_notebook, student_notebook
from rnn_helpers.instructor import student_files
from rnn_helpers.instructor.grade_class import GradingRun
from rnn_helpers.instructor.release import nbgrader_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("hostile-files")]
ASSIGNMENT = "01_sequences"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
HOME_SECRET = "CANARY-instructor-home-5a1f"
HONEST_SECRET = "CANARY-honest-work-77c2"
#: What must never reach a student's feedback.
SECRETS = (b"BEGIN SOLUTION", b"BEGIN HIDDEN TESTS", b"SQLite format 3", HOME_SECRET.encode(),
           HONEST_SECRET.encode())


def solved_notebook(canary=None):
    """The student version with every answer cell holding the solution's code (without its
    markers), as a student who solved everything hands it in."""
    solution = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in read_notebook(source_notebook(ASSIGNMENT)).cells}
    nb = read_notebook(student_notebook(ASSIGNMENT))
    for cell in nb.cells:
        grading = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and grading.get("solution"):
            lines = solution[grading["grade_id"]].source.splitlines()
            cell.source = "\n".join(line for line in lines if "SOLUTION" not in line)
            if canary:
                cell.source += f"\n# {canary}"
    return nb


def write_notebook(folder, nb, name=NOTEBOOK):
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / name))


def kernel_attack(course, home):
    """Code for an answer cell: while it is graded, replace its own notebook (in the folder the
    kernel may write) by a link to the gradebook, and put links to the solution and to the
    instructor's home and a pipe beside it."""
    return (f"\nimport os as _os, pathlib as _pl\n_here = _pl.Path.cwd()\n"
            f"(_here / {NOTEBOOK!r}).unlink()\n"
            f"_os.symlink({str(course / 'gradebook.db')!r}, _here / {NOTEBOOK!r})\n"
            f"_os.symlink({str(course / 'solutions' / ASSIGNMENT / NOTEBOOK)!r}, _here / 'extra.ipynb')\n"
            f"_os.symlink({str(home / 'secret.txt')!r}, _here / 'loot.html')\n"
            f"_os.mkfifo(_here / 'pipe')\n")


def with_kernel_attack(course, home):
    nb = solved_notebook()
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex-param-count")
    answer.source += kernel_attack(course, home)
    return nb


# -- the cases: (where the hostile entry goes, what the report says, graded or not) -------------

def _links(folder, course, home):
    write_notebook(folder, read_notebook(student_notebook(ASSIGNMENT)))
    os.symlink(course / "solutions" / ASSIGNMENT / NOTEBOOK, folder / "solution-link.txt")
    os.symlink(course / "gradebook.db", folder / "gradebook-link.db")
    os.symlink(f"../../honest/{ASSIGNMENT}/{NOTEBOOK}", folder / "theirs.ipynb")
    os.symlink(home, folder / "home-link")
    os.symlink("/nonexistent/anything", folder / "dangling")
    os.symlink("/dev/zero", folder / "data.bin")


def _specials(folder, course, home):
    write_notebook(folder, read_notebook(student_notebook(ASSIGNMENT)))
    os.mkfifo(folder / "pipe")
    os.link(home / "secret.txt", folder / "hard-link.txt")
    (folder / "evil\nname.txt").write_text("a name with a newline")
    if os.geteuid() == 0:
        os.mknod(folder / "zero-device", stat.S_IFCHR | 0o600, os.makedev(1, 5))


#: case: (student folder, refused entry (None: the case is the whole submission), expected
#: words in the report line, whether the student is graded)
CASES = {
    "link-to-solutions": ("links", "solution-link.txt", "a symbolic link", True),
    "link-to-gradebook": ("links", "gradebook-link.db", "a symbolic link", True),
    "link-to-another-students-work": ("links", "theirs.ipynb", "a symbolic link", True),
    "link-to-instructors-home": ("links", "home-link", "a symbolic link", True),
    "dangling-link": ("links", "dangling", "a symbolic link (to /nonexistent/anything)", True),
    "link-to-dev-zero": ("links", "data.bin", "a symbolic link (to /dev/zero)", True),
    "fifo-beside-the-notebook": ("specials", "pipe", "a named pipe", True),
    "hard-link-to-outside": ("specials", "hard-link.txt", "a hard link", True),
    "newline-in-a-file-name": ("specials", "'evil\\nname.txt'", "control character", True),
    "device-node": ("specials", "zero-device", "a character device", True),
    "notebook-is-link-to-solution": ("nb-link-solution", NOTEBOOK, "a symbolic link", False),
    "notebook-is-link-to-gradebook": ("nb-link-gradebook", NOTEBOOK, "a symbolic link", False),
    "notebook-is-fifo": ("nb-fifo", NOTEBOOK, "a named pipe", False),
    "ten-thousand-files": ("flood", None, "more than 1,000 files and folders", False),
    "reserved-student-id": (student_files.SELF_CHECK_ID, None, "reserves for grading the instructor's solution",
                            False),
    "newline-in-a-student-id": ("new\nline", None, "holds characters a student id may not hold", False),
    "kernel-links-its-notebook-to-gradebook": ("kernel-links", NOTEBOOK, "made by the submission's code", True),
    "kernel-links-solution-beside": ("kernel-links", "extra.ipynb", "made by the submission's code", True),
    "kernel-links-home-secret-as-feedback-page": ("kernel-links", "loot.html", "made by the submission's code", True),
    "kernel-makes-fifo": ("kernel-links", "pipe", "a named pipe (FIFO), made by the submission's code", True),
}
#: zip cases: (archive name, how to build it, expected words)
ZIP_CASES = {
    "zip-bomb": ("bomb.zip", "would unpack to"),
    "zip-with-10000-files": ("many.zip", "10,001 files, over the 1,000"),
    "zip-notebook-is-a-link": ("linked.zip", "is a symbolic link, not a notebook"),
    "zip-named-with-a-newline": ("new\nzip.zip", "holds characters a student id may not hold"),
}


def build_zips(folder, course):
    folder.mkdir()
    notebook = nbformat.writes(read_notebook(student_notebook(ASSIGNMENT)))
    with zipfile.ZipFile(folder / "bomb.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr(NOTEBOOK, notebook)
        with archive.open("zeros.bin", "w", force_zip64=True) as member:
            block = bytes(1 << 20)
            for _ in range(student_files.MAX_TOTAL_BYTES // len(block) + 1):
                member.write(block)
    with zipfile.ZipFile(folder / "many.zip", "w") as archive:
        archive.writestr(NOTEBOOK, notebook)
        for i in range(10_000):
            archive.writestr(f"junk/{i}.txt", "")
    with zipfile.ZipFile(folder / "linked.zip", "w") as archive:
        info = zipfile.ZipInfo(NOTEBOOK)
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, str(course / "solutions" / ASSIGNMENT / NOTEBOOK))
    with zipfile.ZipFile(folder / "new\nzip.zip", "w") as archive:
        archive.writestr(NOTEBOOK, notebook)


def tree_hash(*roots):
    """sha256 of the names, kinds and contents under ``roots`` (links are hashed as links)."""
    digest = hashlib.sha256()
    for root in roots:
        paths = [root] if not root.is_dir() or root.is_symlink() else sorted(root.rglob("*"))
        for path in paths:
            st = path.lstat()
            digest.update(f"{path}|{stat.S_IFMT(st.st_mode)}|".encode())
            if stat.S_ISLNK(st.st_mode):
                digest.update(os.readlink(path).encode())
            elif stat.S_ISREG(st.st_mode):
                digest.update(path.read_bytes())
    return digest.hexdigest()


def returned_bytes(course, student):
    """Everything under the student's feedback folder: what the instructor hands back."""
    folder = course / "feedback" / student
    if not folder.exists():
        return b""
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink())


def scores_by_cell(course):
    tests = autograded_tests(read_notebook(source_notebook(ASSIGNMENT)))
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        return {s.student.id: {g.name: g.score for g in s.notebooks[0].grades if g.name in tests}
                for s in gb.assignment_submissions(ASSIGNMENT)}


def make_course(base):
    course = base / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    home = base / "instructor-home"
    home.mkdir()
    (home / "secret.txt").write_text(HOME_SECRET)
    return course, home


def guarded(course, home):
    """What a hostile case must not change: hashes of the instructor's files."""
    return tree_hash(course / "solutions", course / "nbgrader_config.py", home,
                     course / "submitted" / "honest", course / "submitted" / "untouched")


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile-files")
    course, home = make_course(base)
    submitted = course / "submitted"
    write_notebook(submitted / "honest" / ASSIGNMENT, solved_notebook(HONEST_SECRET))
    write_notebook(submitted / "untouched" / ASSIGNMENT, read_notebook(student_notebook(ASSIGNMENT)))
    _links(submitted / "links" / ASSIGNMENT, course, home)
    _specials(submitted / "specials" / ASSIGNMENT, course, home)
    (submitted / "nb-link-solution" / ASSIGNMENT).mkdir(parents=True)
    os.symlink(course / "solutions" / ASSIGNMENT / NOTEBOOK, submitted / "nb-link-solution" / ASSIGNMENT / NOTEBOOK)
    (submitted / "nb-link-gradebook" / ASSIGNMENT).mkdir(parents=True)
    os.symlink(course / "gradebook.db", submitted / "nb-link-gradebook" / ASSIGNMENT / NOTEBOOK)
    (submitted / "nb-fifo" / ASSIGNMENT).mkdir(parents=True)
    os.mkfifo(submitted / "nb-fifo" / ASSIGNMENT / NOTEBOOK)
    flood = submitted / "flood" / ASSIGNMENT
    write_notebook(flood, read_notebook(student_notebook(ASSIGNMENT)))
    for i in range(10_000):
        (flood / f"{i}.txt").touch()
    write_notebook(submitted / student_files.SELF_CHECK_ID / ASSIGNMENT, read_notebook(student_notebook(ASSIGNMENT)))
    write_notebook(submitted / "new\nline" / ASSIGNMENT, read_notebook(student_notebook(ASSIGNMENT)))
    write_notebook(submitted / "kernel-links" / ASSIGNMENT, with_kernel_attack(course, home))
    build_zips(base / "lms", course)
    before = guarded(course, home)
    log = io.StringIO()
    run = GradingRun(course, isolation="auto", cell_timeout=60, workers=2, out=log)
    try:
        table = run.grade([ASSIGNMENT], zips=base / "lms")
        run.report(table, [ASSIGNMENT])
    finally:
        run.close()
    return {"course": course, "home": home, "run": run, "table": table, "log": log.getvalue(), "before": before,
            "after": guarded(course, home), "scores": scores_by_cell(course),
            # grade_class makes the course private before grading (privacy.check_course_privacy)
            "modes": {"gradebook.db": 0o600, f"solutions/{ASSIGNMENT}/{NOTEBOOK}": 0o600}}


def assert_nothing_outside_changed(result):
    course = result["course"]
    assert result["after"] == result["before"], "the instructor's files changed"
    gradebook = course / "gradebook.db"
    assert not gradebook.is_symlink() and gradebook.read_bytes().startswith(b"SQLite format 3\0")
    for name, mode in result["modes"].items():
        assert stat.S_IMODE((course / name).stat().st_mode) == mode, f"the mode of {name} changed"


def assert_other_students_unaffected(result):
    tests = autograded_tests(read_notebook(source_notebook(ASSIGNMENT)))
    assert result["scores"]["honest"] == tests
    assert result["scores"]["untouched"] == dict.fromkeys(tests, 0.0)


def report_lines(result, student):
    return [line for line in result["log"].splitlines() if line.startswith(f"  {student_files.shown(student)} / ")]


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_file_is_refused_and_the_rest_graded(graded_class, case):
    student, entry, words, graded = CASES[case]
    if case == "device-node" and os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    result = graded_class
    lines = report_lines(result, student)
    if student == "kernel-links" and result["run"].sandboxed:
        assert_kernel_work_stayed_in_the_sandbox(result["course"], lines)
        assert_nothing_outside_changed(result)
        assert_other_students_unaffected(result)
        return
    named = [line for line in lines if words in line and (entry is None or f": {entry} was refused" in line
                                                          or f"/{entry} was refused" in line)]
    assert named, f"{case}: no report line names {entry!r} with {words!r}:\n" + "\n".join(lines)
    tests = autograded_tests(read_notebook(source_notebook(ASSIGNMENT)))
    if graded:
        expected = tests if student == "kernel-links" else dict.fromkeys(tests, 0.0)
        assert result["scores"][student] == expected
        assert "the rest of the submission was graded" in named[0] or "made by the submission's code" in named[0]
    else:
        assert student not in result["scores"], f"{student} was graded"
        assert any("not graded" in line for line in lines)
    assert_nothing_outside_changed(result)
    for secret in SECRETS:
        assert secret not in returned_bytes(result["course"], student), f"{case}: the feedback holds {secret!r}"
    assert_other_students_unaffected(result)


def assert_kernel_work_stayed_in_the_sandbox(course, lines):
    """In the sandbox the kernel works on a copy of the submission in its own scratch space: the
    links and the pipe it makes never reach the course, so nothing is refused and it is graded."""
    folder = course / "autograded" / "kernel-links" / ASSIGNMENT
    assert [p.name for p in folder.iterdir()] == [NOTEBOOK] and not (folder / NOTEBOOK).is_symlink()
    assert not any(entry in line for line in lines for entry in ("extra.ipynb", "loot.html", "pipe")), lines
    assert not (course / "refused" / "kernel-links").exists()
    tests = autograded_tests(read_notebook(source_notebook(ASSIGNMENT)))
    assert scores_by_cell(course)["kernel-links"] == tests
    for secret in SECRETS:
        assert secret not in returned_bytes(course, "kernel-links")


@pytest.mark.parametrize("case", sorted(ZIP_CASES))
def test_hostile_zip_is_refused_with_one_clear_line(graded_class, case):
    name, words = ZIP_CASES[case]
    lines = [line for line in graded_class["log"].splitlines() if "not imported" in line and words in line]
    assert len(lines) == 1, f"{case}: expected one line with {words!r}:\n{graded_class['log']}"
    student = name[:-4]
    assert not (graded_class["course"] / "submitted" / student).exists()
    assert_nothing_outside_changed(graded_class)
    assert_other_students_unaffected(graded_class)


def test_students_who_cannot_be_graded_have_an_empty_score_in_grades_csv(graded_class):
    import csv

    with open(graded_class["course"] / "grades.csv", newline="") as f:
        rows = {(row["student_id"], row["assignment"]): row for row in csv.DictReader(f)}
    for student in ("nb-link-solution", "nb-link-gradebook", "nb-fifo", "flood", "bomb", "many", "linked",
                    student_files.SELF_CHECK_ID):
        assert rows[(student, ASSIGNMENT)]["score"] == "", f"{student}: {rows[(student, ASSIGNMENT)]}"
        assert rows[(student, ASSIGNMENT)]["max_score"] not in ("", "0", "0.0")
    assert float(rows[("honest", ASSIGNMENT)]["score"]) > 0
    assert rows[("untouched", ASSIGNMENT)]["score"] == "0.0"


def test_no_report_line_is_forged_by_a_newline(graded_class):
    for line in graded_class["log"].splitlines():
        assert not line.startswith(("line /", "line:", "name.txt", "zip.zip")), f"a name split a line: {line!r}"
    assert "'new\\nline' / 01_sequences: not graded" in graded_class["log"]


# -- plain nbgrader, typed by hand in the course folder ------------------------------------------

@pytest.fixture(scope="module")
def by_hand(tmp_path_factory):
    """`nbgrader autograde` then `nbgrader generate_feedback`, as an instructor types them."""
    base = tmp_path_factory.mktemp("hostile-by-hand")
    course, home = make_course(base)
    submitted = course / "submitted"
    write_notebook(submitted / "untouched" / ASSIGNMENT, read_notebook(student_notebook(ASSIGNMENT)))
    write_notebook(submitted / "honest" / ASSIGNMENT, solved_notebook(HONEST_SECRET))
    (submitted / "nb-link-gradebook" / ASSIGNMENT).mkdir(parents=True)
    # nbgrader creates the gradebook when it starts: the link waits for it.
    os.symlink(course / "gradebook.db", submitted / "nb-link-gradebook" / ASSIGNMENT / NOTEBOOK)
    beside = submitted / "links" / ASSIGNMENT
    write_notebook(beside, read_notebook(student_notebook(ASSIGNMENT)))
    os.symlink(course / "solutions" / ASSIGNMENT / NOTEBOOK, beside / "solution-link.txt")
    os.symlink("/dev/zero", beside / "data.bin")
    os.mkfifo(beside / "pipe")
    write_notebook(submitted / "kernel-links" / ASSIGNMENT, with_kernel_attack(course, home))
    before = guarded(course, home)
    env = dict(nbgrader_env(), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    solution_mode = stat.S_IMODE((course / "solutions" / ASSIGNMENT / NOTEBOOK).stat().st_mode)
    autograde = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT], cwd=course, env=env,
                               capture_output=True, text=True, timeout=1800)
    umask = os.umask(0)
    os.umask(umask)
    feedback = subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", ASSIGNMENT], cwd=course,
                              env=env, capture_output=True, text=True, timeout=600)
    return {"course": course, "home": home, "before": before, "after": guarded(course, home),
            "autograde": autograde, "feedback": feedback, "scores": scores_by_cell(course),
            "modes": {"gradebook.db": 0o644 & ~umask, f"solutions/{ASSIGNMENT}/{NOTEBOOK}": solution_mode}}


def test_by_hand_a_submitted_notebook_that_links_to_the_gradebook_is_refused(by_hand):
    log = by_hand["autograde"].stderr
    assert f"submitted/nb-link-gradebook/{ASSIGNMENT}/{NOTEBOOK} was refused: it is a symbolic link" in log
    # Plain nbgrader then treats the notebook as not handed in (grade_class reports it instead).
    assert not (by_hand["course"] / "autograded" / "nb-link-gradebook").exists()
    assert (by_hand["course"] / "refused" / "submitted" / "nb-link-gradebook" / ASSIGNMENT / NOTEBOOK).is_symlink()
    assert_nothing_outside_changed(by_hand)


def test_by_hand_links_and_a_pipe_beside_the_notebook_are_refused_and_the_rest_graded(by_hand):
    log = by_hand["autograde"].stderr
    for entry, words in (("solution-link.txt", "a symbolic link"), ("data.bin", "to /dev/zero"),
                         ("pipe", "a named pipe")):
        assert f"submitted/links/{ASSIGNMENT}/{entry} was refused: it is" in log and words in log, log[-3000:]
    tests = autograded_tests(read_notebook(source_notebook(ASSIGNMENT)))
    assert by_hand["scores"]["links"] == dict.fromkeys(tests, 0.0)
    assert not (by_hand["course"] / "autograded" / "links" / ASSIGNMENT / "solution-link.txt").exists()
    assert_nothing_outside_changed(by_hand)


def test_by_hand_the_kernel_cannot_make_nbgrader_write_through_a_link(by_hand):
    log = by_hand["autograde"].stderr
    if "each kernel runs in a sandbox" in log:
        assert_kernel_work_stayed_in_the_sandbox(by_hand["course"],
                                                 [line for line in log.splitlines() if "kernel-links" in line])
        assert_nothing_outside_changed(by_hand)
        return
    graded = by_hand["course"] / "autograded" / "kernel-links" / ASSIGNMENT
    for entry in (NOTEBOOK, "extra.ipynb", "loot.html", "pipe"):
        assert f"autograded/kernel-links/{ASSIGNMENT}/{entry} was refused" in log, log[-3000:]
    assert (graded / NOTEBOOK).is_file() and not (graded / NOTEBOOK).is_symlink()
    tests = autograded_tests(read_notebook(source_notebook(ASSIGNMENT)))
    assert by_hand["scores"]["kernel-links"] == tests
    assert by_hand["feedback"].returncode == 0, by_hand["feedback"].stderr[-3000:]
    for secret in SECRETS:
        assert secret not in returned_bytes(by_hand["course"], "kernel-links")
    assert not (by_hand["course"] / "feedback" / "kernel-links" / ASSIGNMENT / "extra.html").exists()
    assert_nothing_outside_changed(by_hand)


def test_by_hand_the_other_students_are_graded_as_usual(by_hand):
    tests = autograded_tests(read_notebook(source_notebook(ASSIGNMENT)))
    assert by_hand["scores"]["honest"] == tests
    assert by_hand["scores"]["untouched"] == dict.fromkeys(tests, 0.0)
    for student in ("honest", "untouched", "links"):
        for secret in SECRETS[:-1]:
            assert secret not in returned_bytes(by_hand["course"], student)
