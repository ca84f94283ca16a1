"""check_course_privacy finds what other accounts could read or change, and closes it."""
import stat

import pytest

from rnn_helpers.instructor import privacy


def make_course(root, mode_files=0o666, mode_dirs=0o777):
    course = root / "course"
    for path in ("solutions/01_sequences", "submitted/alice/01_sequences", "notebooks/01_sequences"):
        (course / path).mkdir(parents=True)
    files = ["solutions/01_sequences/01_sequences.ipynb", "submitted/alice/01_sequences/01_sequences.ipynb",
             "gradebook.db", "grades.csv", "notebooks/01_sequences/01_sequences.ipynb"]
    for name in files:
        (course / name).write_text("{}")
        (course / name).chmod(mode_files)
    for folder in [course, *(p for p in course.rglob("*") if p.is_dir())]:
        folder.chmod(mode_dirs)
    return course


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_an_open_course_is_reported_then_closed(tmp_path, capsys):
    course = make_course(tmp_path)
    report = privacy.check_course_privacy(course)
    opened = {p.relative_to(course).as_posix() for p, _ in report.opened}
    assert "." in opened and "solutions/01_sequences/01_sequences.ipynb" in opened
    assert {"gradebook.db", "grades.csv", "submitted/alice/01_sequences"} <= opened
    assert not any(p.startswith("notebooks") for p in opened)     # the students' versions are public
    assert not report.private and "NOT private" in str(report)
    assert mode(course / "gradebook.db") == 0o666                 # a check changes nothing
    assert privacy.main([str(course)]) == 1

    fixed = privacy.check_course_privacy(course, fix=True)
    assert fixed.private and "now private" in str(fixed)
    assert mode(course) == 0o700 and mode(course / "gradebook.db") == 0o600
    assert mode(course / "submitted" / "alice" / "01_sequences") == 0o700
    assert mode(course / "notebooks" / "01_sequences" / "01_sequences.ipynb") == 0o666
    again = privacy.check_course_privacy(course)
    assert again.opened == [] and "is private" in str(again)
    assert privacy.main([str(course)]) == 0
    assert "is private" in capsys.readouterr().out


def test_the_cli_fixes_and_says_so(tmp_path, capsys):
    course = make_course(tmp_path, mode_files=0o644, mode_dirs=0o755)
    assert privacy.main([str(course), "--fix"]) == 0
    out = capsys.readouterr().out
    assert "closed:" in out and "now private" in out
    assert mode(course / "solutions" / "01_sequences" / "01_sequences.ipynb") == 0o600


def test_a_missing_course_folder_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="course_dir should be the course folder"):
        privacy.check_course_privacy(tmp_path / "nowhere")


def test_feedback_pages_keep_their_mode_for_release_feedback_but_their_folders_close(tmp_path):
    course = make_course(tmp_path)
    page = course / "feedback" / "alice" / "01_sequences" / "01_sequences.html"
    page.parent.mkdir(parents=True)
    page.write_text("<html></html>")
    page.chmod(0o644)
    (course / "feedback").chmod(0o755)
    privacy.check_course_privacy(course, fix=True)
    assert mode(page) == 0o644, "nbgrader release_feedback copies the page's mode into the exchange"
    assert mode(course / "feedback") == 0o700 and mode(page.parent) & 0o077 == 0
    assert mode(course) == 0o700
