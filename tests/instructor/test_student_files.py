"""The rule for moving student files (rnn_helpers.instructor.student_files), entry by entry:
each refusal, the limits, reading through what was checked, writing only new files, the
quarantine of submitted/ and autograded/, the nbgrader hook and preprocessor that apply it, and
the course's release_feedback, which reads by it."""
import os
import shutil
import stat
import subprocess
import sys

import pytest

from rnn_helpers.instructor import student_files
from rnn_helpers.instructor.student_files import (SELF_CHECK_ID, SealGradedFolder, UnsafeFolder, quarantine,
                                                  read_folder, replace_file, shown, student_id_problem,
                                                  vet_submitted, write_new_folder)


@pytest.fixture
def course(tmp_path):
    """A course folder with a secret solution and gradebook, and one submission folder."""
    (tmp_path / "solutions" / "01").mkdir(parents=True)
    (tmp_path / "solutions" / "01" / "01.ipynb").write_text("SECRET SOLUTION")
    (tmp_path / "gradebook.db").write_text("SECRET GRADEBOOK")
    folder = tmp_path / "submitted" / "alice" / "01"
    folder.mkdir(parents=True)
    (folder / "01.ipynb").write_text("{}")
    (folder / "data").mkdir()
    (folder / "data" / "numbers.txt").write_text("1 2 3")
    return tmp_path


def folder_of(course):
    return course / "submitted" / "alice" / "01"


def refused_paths(taken):
    return {r.path: r for r in taken.refused}


def test_regular_files_and_folders_are_taken(course):
    taken = read_folder(folder_of(course))
    assert taken.files == {"01.ipynb": b"{}", "data/numbers.txt": b"1 2 3"} and taken.refused == []
    assert read_folder(folder_of(course), skip_notebooks=True).files == {"data/numbers.txt": b"1 2 3"}


@pytest.mark.parametrize("make, kind, words", [
    (lambda f, c: os.symlink(c / "solutions" / "01" / "01.ipynb", f / "loot"), "link", "a symbolic link (to "),
    (lambda f, c: os.symlink("../../../gradebook.db", f / "data" / "db"), "link", "a symbolic link"),
    (lambda f, c: os.symlink(c / "solutions", f / "answers"), "link", "a symbolic link"),
    (lambda f, c: os.symlink("/nowhere", f / "dangling"), "link", "(to /nowhere)"),
    (lambda f, c: os.symlink("/dev/zero", f / "zeros"), "link", "(to /dev/zero)"),
    (lambda f, c: os.mkfifo(f / "pipe"), "special", "a named pipe (FIFO)"),
    (lambda f, c: os.link(c / "gradebook.db", f / "hard"), "hardlink", "a hard link (one of 2 names"),
    (lambda f, c: (f / "new\nline").write_text("x"), "name", "control character"),
    (lambda f, c: os.truncate(open(f / "huge", "w").name, student_files.MAX_FILE_BYTES + 1), "size", "bytes, over"),
])
def test_each_hostile_entry_is_refused_by_name_and_the_rest_taken(course, make, kind, words):
    folder = folder_of(course)
    make(folder, course)
    taken = read_folder(folder)
    assert len(taken.refused) == 1 and taken.refused[0].kind == kind and words in str(taken.refused[0])
    assert set(taken.files) == {"01.ipynb", "data/numbers.txt"}
    assert not any(b"SECRET" in data for data in taken.files.values())


def test_a_device_node_is_refused(course):
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    os.mknod(folder_of(course) / "zero", stat.S_IFCHR | 0o600, os.makedev(1, 5))
    assert "a character device" in str(read_folder(folder_of(course)).refused[0])


def test_a_file_of_another_owner_is_refused_when_an_owner_is_required(course):
    if os.geteuid() != 0:
        pytest.skip("giving a file to another account needs root")
    folder = folder_of(course)
    os.chown(folder / "data" / "numbers.txt", 65534, 65534)
    taken = read_folder(folder, owner=os.geteuid())
    assert [(r.path, r.kind) for r in taken.refused] == [("data/numbers.txt", "owner")]


@pytest.mark.parametrize("make, words", [
    (lambda f: [(f / f"{i}.txt").touch() for i in range(student_files.MAX_ENTRIES + 1)], "more than 1,000 files"),
    (lambda f: os.makedirs(f / "/".join(["d"] * (student_files.MAX_DEPTH + 2))), "deeper than"),
])
def test_a_flood_is_refused_as_a_whole(course, make, words):
    make(folder_of(course))
    with pytest.raises(UnsafeFolder, match=words):
        read_folder(folder_of(course))


def test_a_folder_that_is_a_link_is_refused_and_links_above_it_too(course, tmp_path):
    os.symlink(course / "solutions" / "01", course / "submitted" / "bob")
    with pytest.raises(UnsafeFolder, match="symbolic link"):
        read_folder(course / "submitted" / "bob")
    os.symlink(course / "solutions", course / "submitted" / "carol")
    with pytest.raises(UnsafeFolder):
        read_folder(course / "submitted" / "carol" / "01", under=course)


def test_an_entry_swapped_for_a_link_between_the_check_and_the_read_is_refused(course, monkeypatch):
    folder = folder_of(course)
    real_stat = os.stat

    def stat_then_swap(name, *args, **kwargs):  # the student swaps the file right after the check
        result = real_stat(name, *args, **kwargs)
        if name == "01.ipynb":
            os.unlink(name, dir_fd=kwargs["dir_fd"])
            os.symlink(course / "gradebook.db", folder / "01.ipynb")
        return result

    monkeypatch.setattr(student_files.os, "stat", stat_then_swap)
    taken = read_folder(folder)
    assert refused_paths(taken)["01.ipynb"].kind == "link" and "01.ipynb" not in taken.files


def test_writing_makes_new_files_only_and_never_follows_a_link(course, tmp_path):
    target = course / "submitted" / "bob" / "01"
    write_new_folder(course, ["submitted", "bob", "01"], {"01.ipynb": b"new", "sub/x.txt": b"x"})
    assert (target / "01.ipynb").read_bytes() == b"new" and stat.S_IMODE((target / "01.ipynb").stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        write_new_folder(course, ["submitted", "bob", "01"], {"01.ipynb": b"again"})
    os.symlink(course / "gradebook.db", course / "submitted" / "planted")
    with pytest.raises(FileExistsError):
        write_new_folder(course, ["submitted", "planted"], {"01.ipynb": b"through the link"})
    with pytest.raises(ValueError, match="stay inside its folder"):
        write_new_folder(course, ["submitted", "eve"], {"../../escape": b"x"})
    os.symlink(course / "gradebook.db", folder_of(course) / "link.ipynb")
    replace_file(course, ["submitted", "alice", "01", "link.ipynb"], b"replaced")
    assert (course / "gradebook.db").read_text() == "SECRET GRADEBOOK"
    assert not (folder_of(course) / "link.ipynb").is_symlink()
    os.symlink(course / "solutions", course / "submitted" / "dave")
    with pytest.raises(OSError):
        replace_file(course, ["submitted", "dave", "01", "01.ipynb"], b"x")
    assert (course / "solutions" / "01" / "01.ipynb").read_text() == "SECRET SOLUTION"


def test_quarantine_moves_what_is_refused_into_refused(course):
    folder = folder_of(course)
    os.symlink(course / "gradebook.db", folder / "loot")
    os.mkfifo(folder / "data" / "pipe")
    moved = quarantine(course, "submitted", "alice", "01")
    assert sorted(r.path for r in moved) == ["data/pipe", "loot"]
    assert (course / "refused" / "submitted" / "alice" / "01" / "loot").is_symlink()
    assert stat.S_ISFIFO((course / "refused" / "submitted" / "alice" / "01" / "data" / "pipe").lstat().st_mode)
    assert "moved to refused/submitted/alice/01/loot" in str(next(r for r in moved if r.path == "loot"))
    assert sorted(p.name for p in folder.rglob("*")) == ["01.ipynb", "data", "numbers.txt"]
    assert quarantine(course, "submitted", "alice", "01") == []


def test_quarantine_moves_a_linked_or_flooded_folder_whole(course):
    os.symlink(course / "solutions" / "01", course / "submitted" / "alice" / "02")
    moved = quarantine(course, "submitted", "alice", "02")
    assert [r.path for r in moved] == ["."] and "symbolic link" in moved[0].why
    assert not os.path.lexists(course / "submitted" / "alice" / "02")
    for i in range(student_files.MAX_ENTRIES + 1):
        (folder_of(course) / f"{i}.txt").touch()
    moved = quarantine(course, "submitted", "alice", "01")
    assert [r.path for r in moved] == ["."] and "more than 1,000" in moved[0].why
    assert not folder_of(course).exists() and (course / "refused" / "submitted" / "alice" / "01" / "01").is_dir()


def test_the_autograde_hook_vets_the_submission_before_nbgrader_copies_it(course):
    folder = folder_of(course)
    os.symlink("/dev/zero", folder / "data.bin")
    vet_submitted(assignment="01", student="*", notebooks=[str(folder / "01.ipynb")])
    assert not os.path.lexists(folder / "data.bin")
    assert (course / "refused" / "submitted" / "alice" / "01" / "data.bin").is_symlink()


def test_the_seal_moves_what_the_kernel_left_and_keeps_the_notebooks_place(course):
    graded = course / "autograded" / "alice" / "01"
    graded.mkdir(parents=True)
    os.symlink(course / "gradebook.db", graded / "01.ipynb")        # in place of the graded notebook
    os.symlink(course / "solutions" / "01" / "01.ipynb", graded / "extra.ipynb")
    (graded / "figure.png").write_bytes(b"png")
    resources = {"metadata": {"path": str(graded)}, "nbgrader": {"notebook": "01"}}
    SealGradedFolder().preprocess({}, resources)
    assert sorted(p.name for p in graded.iterdir()) == ["figure.png"]
    assert (course / "gradebook.db").read_text() == "SECRET GRADEBOOK"
    for name in range(student_files.MAX_ENTRIES + 1):
        (graded / f"{name}.txt").touch()
    (graded / "01.ipynb").write_text("{}")
    SealGradedFolder().preprocess({}, resources)
    assert sorted(p.name for p in graded.iterdir()) == ["01.ipynb"]


@pytest.mark.parametrize("student, problem", [
    ("alice", None), ("alice.smith-2@uni.edu", None), ("O'Brien", None), ("Anna Lee", None),
    (SELF_CHECK_ID, "reserves for grading the instructor's solution"), ("", "an empty student id"),
    ("../solutions", "holds characters"), (".hidden", "first or last character"), ("a+b", "'+'"),
    ("new\nline", "'\\n'"), ("star*", "'*'"), ("x" * 101, "at most 100"),
])
def test_student_ids(student, problem):
    found = student_id_problem(student)
    assert (found is None) if problem is None else (problem in found)


def test_shown_quotes_control_characters():
    assert shown("plain name.txt") == "plain name.txt"
    assert shown("evil\nname") == "'evil\\nname'" and "\n" not in shown("evil\nname")


def test_a_mount_point_is_refused(course):
    mount = folder_of(course) / "mounted"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "none", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a file system needs root and mount")
    try:
        (mount / "inside.txt").write_text("on another file system")
        taken = read_folder(folder_of(course))
        assert refused_paths(taken)["mounted"].kind == "mount" and "mounted/inside.txt" not in taken.files
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_release_feedback_reads_no_link_and_writes_new_pages(tmp_path):
    """The course's release_feedback (exchange.CourseReleaseFeedback) with `nbgrader release_feedback`."""
    from nbgrader.utils import notebook_hash

    from conftest import ROOT
    from rnn_helpers.instructor.release import nbgrader_env

    course, exchange = tmp_path / "course", tmp_path / "exchange"
    course.mkdir()
    exchange.mkdir(mode=0o1777)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    (course / "solutions" / "01_sequences").mkdir(parents=True)
    (course / "gradebook.db").write_text("SECRET GRADEBOOK")
    pages = course / "feedback" / "alice" / "01_sequences"
    pages.mkdir(parents=True)
    (pages / "01_sequences.html").write_text("<p>alice's feedback</p>")
    (pages / "timestamp.txt").write_text("2026-01-01 10:00:00.000000 UTC")
    (pages / "submission_secret.txt").write_text("alice-secret")
    os.symlink(course / "gradebook.db", pages / "loot.html")
    result = subprocess.run([sys.executable, "-m", "nbgrader", "release_feedback", "01_sequences",
                             f"--Exchange.root={exchange}"], cwd=course, env=nbgrader_env(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "loot.html was refused: it is a symbolic link" in result.stderr
    released = exchange / "rnn-course" / "feedback"
    page = released / f"{notebook_hash(secret='alice-secret', notebook_id='01_sequences')}.html"
    assert page.read_text() == "<p>alice's feedback</p>" and stat.S_IMODE(page.stat().st_mode) == 0o644
    assert not (released / f"{notebook_hash(secret='alice-secret', notebook_id='loot')}.html").exists()
    assert b"SECRET" not in b"".join(p.read_bytes() for p in released.iterdir())
