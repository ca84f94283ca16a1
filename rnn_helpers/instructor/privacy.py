"""The instructor's course folder is private: on a shared machine (a JupyterHub) no other
account may read the solutions, the gradebook, the submissions or the grades, nor change them.

    report = check_course_privacy(course_dir)            # look only
    report = check_course_privacy(course_dir, fix=True)  # remove the group's and others' rights
    print(report)                                        # says what was open and what was done

or from a shell: ``python -m rnn_helpers.instructor.privacy [COURSE_DIR] [--fix]`` (exit
status 1 while something is open). The course folder itself is closed (mode 0700, so nothing
inside can be reached by another account, whatever the umask gave the files), and every
private item in it is closed too (solutions, gradebook, submissions, grades, feedback before
release), so that opening the course folder by mistake later exposes none of them. nbgrader's
``collect`` copies submissions with the rights they had in the exchange (writable by all):
run the check after collecting, before grading.
"""
import argparse
import os
import pathlib
import stat
import sys
from dataclasses import dataclass, field

#: What nobody but the instructor may read or write, relative to the course folder.
PRIVATE = ("solutions", "source", "gradebook.db", "submitted", "autograded", "feedback",
           "grades.csv", "nbgrader.log")
#: Files that keep their rights (only their folders are closed): nbgrader's
#: ``release_feedback`` copies each feedback page into the exchange with the page's own mode,
#: and the student it belongs to must be able to read that copy. Inside the closed course
#: folder no other account reaches them.
KEEP_FILE_MODES = ("feedback",)
#: Rights of the group and of others.
OPEN_BITS = stat.S_IRWXG | stat.S_IRWXO


@dataclass
class PrivacyReport:
    """``opened``: (path, mode) of everything the group or others could use, as found;
    ``fixed``: whether those rights were removed."""
    course_dir: pathlib.Path
    opened: list = field(default_factory=list)
    fixed: bool = False

    @property
    def private(self):
        """True when nothing is open now (after the fix, if one was asked for)."""
        return not self.opened or self.fixed

    def __str__(self):
        if not self.opened:
            return f"course folder {self.course_dir} is private: no other account can read or change it"
        lines = [f"{'closed' if self.fixed else 'OPEN'}: {path} (mode {mode:04o})" for path, mode in self.opened[:20]]
        if len(self.opened) > 20:
            lines.append(f"... and {len(self.opened) - 20} more")
        verdict = (f"course folder {self.course_dir} is now private: group and others lost their rights on "
                   f"{len(self.opened)} item(s)" if self.fixed else
                   f"course folder {self.course_dir} is NOT private: {len(self.opened)} item(s) can be read or "
                   "changed by other accounts; run `python -m rnn_helpers.instructor.privacy --fix`")
        return "\n".join(lines + [verdict])


def _walk(path):
    """path and, for a folder, everything below it (symbolic links are not followed)."""
    yield path
    if path.is_dir() and not path.is_symlink():
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                yield pathlib.Path(root) / name


def check_course_privacy(course_dir, fix=False):
    """Check (and with ``fix=True`` remove) the group's and others' rights on the course folder
    and on every private item in it (PRIVATE, recursively). Returns a PrivacyReport."""
    course_dir = pathlib.Path(course_dir).resolve()
    if not course_dir.is_dir():
        raise ValueError(f"course_dir should be the course folder (with nbgrader_config.py), got {course_dir} "
                         "which is not a folder")
    report = PrivacyReport(course_dir)
    candidates = [course_dir] + [p for name in PRIVATE if (course_dir / name).exists()
                                 for p in _walk(course_dir / name)]
    kept = [course_dir / name for name in KEEP_FILE_MODES]
    for path in candidates:
        if path.is_symlink() or (path.is_file() and any(folder in path.parents for folder in kept)):
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & OPEN_BITS:
            report.opened.append((path, mode))
            if fix:
                path.chmod(mode & ~OPEN_BITS)
    report.fixed = fix and bool(report.opened)
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("course_dir", nargs="?", default=".", help="the course folder (default: here)")
    parser.add_argument("--fix", action="store_true", help="remove the group's and others' rights")
    args = parser.parse_args(argv)
    report = check_course_privacy(args.course_dir, fix=args.fix)
    print(report)
    return 0 if report.private else 1


if __name__ == "__main__":
    sys.exit(main())
