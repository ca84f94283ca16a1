"""Grade a whole class in one command: import, autograde, feedback, export.

    python -m rnn_helpers.instructor.grade_class                      # the course in the current folder
    python -m rnn_helpers.instructor.grade_class --course DIR --assignment 01_sequences --zips exports/

Steps, for every assignment (default: all of ``solutions/``):

1. register the assignment and generate its student version (``nbgrader generate_assignment``);
2. import the zip files a learning-management system exports, if ``--zips`` is given:
   ``ZIPS/<student>.zip`` holding ``<assignment>.ipynb`` (at any depth) becomes
   ``submitted/<student>/<assignment>/<assignment>.ipynb``; submissions already in
   ``submitted/`` are graded as well;
3. autograde every submission, one student at a time, in a sandboxed kernel where
   bubblewrap is available (``rnn_helpers.instructor.sandbox``), showing progress and going on past
   any submission that cannot be graded;
4. generate the feedback (hidden tests stripped) and export the grades to ``grades.csv``;
5. print the grade table and the list of submissions that could not be graded.
"""
import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile

import nbformat

from . import sandbox
from .release import nbgrader_env

#: A zip member larger than this is not a notebook a student wrote.
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024


def failure_reason(stderr):
    """The exception line of a failed nbgrader run (e.g. ``NotJSONError: ...``), else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    exceptions = [line for line in lines if re.match(r"[\w.]*(Error|Exception)\b[^:]*:", line)]
    reason = (exceptions or lines or ["unknown error"])[-1]
    return reason if len(reason) <= 200 else reason[:197] + "..."


class GradingRun:
    """Grading of one class: holds the course folder, the isolation mode and the problems."""

    def __init__(self, course, isolation="auto", submission_timeout=1800, cell_timeout=None, out=sys.stdout):
        self.course = pathlib.Path(course).resolve()
        if not (self.course / "nbgrader_config.py").is_file() or not (self.course / "solutions").is_dir():
            raise ValueError(f"course should be a folder with nbgrader_config.py and solutions/, but got {self.course}")
        if isolation not in ("auto", "sandbox", "none"):
            raise ValueError(f"isolation should be 'auto', 'sandbox' or 'none', but got {isolation!r}")
        available, how = sandbox.availability()
        if isolation == "sandbox" and not available:
            raise RuntimeError(f"isolation='sandbox' was asked for, but {how}")
        self.sandboxed = available and isolation != "none"
        self.isolation_note = (f"isolation: each submission runs in a sandbox ({how})" if self.sandboxed else
                               "isolation: OFF — student code runs with your rights and could read "
                               f"solutions/ and the gradebook ({'switched off' if available else how})")
        self.submission_timeout = submission_timeout
        self.cell_timeout = cell_timeout
        self.out = out
        self.problems = []  # (student, assignment, what went wrong)
        self._jupyter_dir = tempfile.mkdtemp(prefix="rnn-course-kernels-")
        sandbox.install_kernelspec(self._jupyter_dir)

    def say(self, text):
        print(text, file=self.out, flush=True)

    def nbgrader(self, *args, timeout=None):
        env = nbgrader_env()
        env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [self._jupyter_dir, env.get("JUPYTER_PATH")]))
        command = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={self.course}"]
        if args[0] == "autograde":
            if self.sandboxed:
                command.append(f"--Execute.kernel_name={sandbox.KERNEL_NAME}")
            if self.cell_timeout is not None:
                command.append(f"--Execute.timeout={self.cell_timeout}")
        return subprocess.run(command, cwd=self.course, env=env, capture_output=True, text=True,
                              timeout=timeout)

    def assignments(self):
        return sorted(p.name for p in (self.course / "solutions").iterdir() if p.is_dir())

    def students(self, assignment):
        root = self.course / "submitted"
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if (p / assignment).is_dir())

    def import_zips(self, zips, assignments):
        """Copy the notebooks of every ``<student>.zip`` in ``zips`` into submitted/."""
        for archive in sorted(pathlib.Path(zips).glob("*.zip")):
            student = archive.stem
            try:
                with zipfile.ZipFile(archive) as zf:
                    members = {pathlib.PurePosixPath(info.filename).name: info for info in zf.infolist()
                               if not info.is_dir()}
                    found = False
                    for assignment in assignments:
                        info = members.get(f"{assignment}.ipynb")
                        if info is None:
                            continue
                        if info.file_size > MAX_NOTEBOOK_BYTES:
                            raise ValueError(f"{info.filename} is {info.file_size} bytes")
                        nb = nbformat.reads(zf.read(info).decode("utf-8"), as_version=4)
                        folder = self.course / "submitted" / student / assignment
                        folder.mkdir(parents=True, exist_ok=True)
                        nbformat.write(nb, str(folder / f"{assignment}.ipynb"))
                        found = True
                    if not found:
                        raise ValueError("it holds no notebook of these assignments")
            except Exception as error:  # a broken upload must not stop the class
                self.problems.append((student, "-", f"could not import {archive.name}: {error}"))
                self.say(f"  ! {archive.name}: not imported ({error})")

    def autograde(self, assignment, student):
        """Autograde one submission; returns True if nbgrader graded it."""
        try:
            result = self.nbgrader("autograde", assignment, "--student", student, "--force",
                                   timeout=self.submission_timeout)
        except subprocess.TimeoutExpired:
            self.problems.append((student, assignment, f"grading took over {self.submission_timeout} s"))
            return False
        if result.returncode != 0:
            self.problems.append((student, assignment,
                                  f"nbgrader autograde failed: {failure_reason(result.stderr)}"))
            return False
        return True

    def grade(self, assignments=None, zips=None):
        assignments = assignments or self.assignments()
        unknown = sorted(set(assignments) - set(self.assignments()))
        if unknown:
            raise ValueError(f"no such assignment in solutions/: {', '.join(unknown)}")
        self.say(self.isolation_note)
        for assignment in assignments:
            result = self.nbgrader("generate_assignment", assignment, "--force")
            if result.returncode != 0:
                raise RuntimeError(f"generate_assignment {assignment} failed:\n{result.stderr}")
        if zips is not None:
            self.import_zips(zips, assignments)
        for assignment in assignments:
            students = self.students(assignment)
            self.say(f"{assignment}: {len(students)} submission(s)")
            for number, student in enumerate(students, 1):
                start = time.perf_counter()
                graded = self.autograde(assignment, student)
                status = "graded" if graded else "NOT graded (see the report below)"
                self.say(f"  [{number}/{len(students)}] {student}: {status} ({time.perf_counter() - start:.1f} s)")
            for student in students:
                result = self.nbgrader("generate_feedback", assignment, "--student", student, "--force")
                if result.returncode != 0 and not any(p[:2] == (student, assignment) for p in self.problems):
                    self.problems.append((student, assignment, "feedback could not be generated"))
        result = self.nbgrader("export", f"--CsvExportPlugin.to={self.course / 'grades.csv'}")
        if result.returncode != 0:
            raise RuntimeError(f"nbgrader export failed:\n{result.stderr}")
        return self.grade_table(assignments)

    def grade_table(self, assignments):
        """{student: {assignment: (score, max_score) or None}} from the gradebook."""
        from nbgrader.api import Gradebook, MissingEntry

        table = {}
        with Gradebook(f"sqlite:///{self.course / 'gradebook.db'}") as gb:
            for student in sorted(s.id for s in gb.students):
                row = {}
                for assignment in assignments:
                    try:
                        sub = gb.find_submission(assignment, student)
                        row[assignment] = (sub.score, sub.max_score)
                    except MissingEntry:
                        row[assignment] = None
                table[student] = row
        return table

    def written_points(self, assignments):
        """{assignment: points of its manually graded written answers}."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.course / 'gradebook.db'}") as gb:
            return {a: gb.find_assignment(a).max_written_score for a in assignments}

    def report(self, table, assignments):
        width = max([len("student")] + [len(s) for s in table])
        self.say("")
        self.say(f"{'student':{width}s}  " + "  ".join(f"{a:>22s}" for a in assignments))
        for student, row in table.items():
            cells = ["—" if row[a] is None else f"{row[a][0]:g} / {row[a][1]:g}" for a in assignments]
            self.say(f"{student:{width}s}  " + "  ".join(f"{c:>22s}" for c in cells))
        self.say(f"\ngrades exported to {self.course / 'grades.csv'}; feedback in {self.course / 'feedback'}")
        written = self.written_points(assignments)
        if any(written.values()):
            self.say("the maximum includes the manually graded written answers ("
                     + ", ".join(f"{a}: {p:g} points" for a, p in written.items() if p)
                     + "): grade them in the formgrader, then run this command again")
        if self.problems:
            self.say(f"\n{len(self.problems)} submission(s) need a look:")
            for student, assignment, what in self.problems:
                self.say(f"  {student} / {assignment}: {what}")

    def close(self):
        shutil.rmtree(self._jupyter_dir, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", default=".", help="course folder (nbgrader_config.py, solutions/)")
    parser.add_argument("--assignment", action="append", help="grade only this assignment (repeatable)")
    parser.add_argument("--zips", help="folder of <student>.zip files exported by a learning-management system")
    parser.add_argument("--isolation", choices=("auto", "sandbox", "none"), default="auto",
                        help="sandbox each kernel with bubblewrap (default: where available)")
    parser.add_argument("--submission-timeout", type=int, default=1800,
                        help="seconds after which grading one submission is abandoned")
    parser.add_argument("--cell-timeout", type=int,
                        help="seconds a cell may run (default: nbgrader_config.py's Execute.timeout)")
    args = parser.parse_args(argv)
    run = GradingRun(args.course, args.isolation, args.submission_timeout, args.cell_timeout)
    try:
        assignments = args.assignment or run.assignments()
        table = run.grade(assignments, args.zips)
        run.report(table, assignments)
    finally:
        run.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
