"""A simulated class that runs the whole instructor path: build it, grade it, see the table.

    python -m rnn_helpers.instructor.demo_class /tmp/demo-class                  # assignment 01_sequences
    python -m rnn_helpers.instructor.demo_class /tmp/demo-class --assignment 02_bptt

The folder becomes a course (the course's nbgrader_config.py and one assignment's source)
with five students:

* ``perfect``      the instructor's solution (handed in as a zip file, as an LMS exports it);
* ``blank``        the untouched student version;
* ``partly-right`` the solution with its last exercise left as the stub (a zip file too);
* ``broken``       a file that is not a notebook at all (a failed upload);
* ``cheater``      the student version with an answer that disables the course's checks
  and calls the reference implementation.

Then ``grade_class`` imports, autogrades, writes feedback, exports grades.csv and prints
the grade table.
"""
import argparse
import copy
import pathlib
import shutil
import zipfile

import nbformat

from .grade_class import GradingRun
from .release import COURSE_ROOT

CHEAT = '''import numpy as np
import rnn_helpers.grading as checks
from rnn_helpers import rnn as reference

# Make every check pass, whatever the answer.
for name in dir(checks):
    if name.startswith("expect_"):
        setattr(checks, name, lambda *args, **kwargs: None)
np.allclose = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
rnn_step_forward = reference.rnn_step_forward
rnn_forward = reference.rnn_forward
'''


def _answer_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]


def build(directory, assignment="01_sequences"):
    """Create the demo course in ``directory``; returns the path of its zip folder."""
    course = pathlib.Path(directory)
    source = COURSE_ROOT / "solutions" / assignment
    if not source.is_dir():
        raise ValueError(f"assignment should be one of the course's ({COURSE_ROOT / 'solutions'}), but got {assignment!r}")
    if course.exists() and any(course.iterdir()):
        raise ValueError(f"directory should be empty or new, but {course} holds files")
    course.mkdir(parents=True, exist_ok=True)
    shutil.copy(COURSE_ROOT / "nbgrader_config.py", course)
    shutil.copytree(source, course / "solutions" / assignment)
    solution = nbformat.read(str(source / f"{assignment}.ipynb"), as_version=4)
    student = nbformat.read(str(COURSE_ROOT / "notebooks" / assignment / f"{assignment}.ipynb"), as_version=4)

    partly = copy.deepcopy(solution)
    _answer_cells(partly)[-1].source = _answer_cells(student)[-1].source
    cheater = copy.deepcopy(student)
    _answer_cells(cheater)[0].source = CHEAT

    zips = course / "lms-export"
    zips.mkdir()
    for name, nb in (("perfect", solution), ("partly-right", partly)):
        with zipfile.ZipFile(zips / f"{name}.zip", "w") as archive:
            archive.writestr(f"{name}/{assignment}.ipynb", nbformat.writes(nb))
    for name, nb in (("blank", student), ("cheater", cheater)):
        folder = course / "submitted" / name / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / f"{assignment}.ipynb"))
    broken = course / "submitted" / "broken" / assignment
    broken.mkdir(parents=True)
    (broken / f"{assignment}.ipynb").write_text('{"cells": [ this upload was cut off', encoding="utf-8")
    return zips


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="an empty or new folder for the demo course")
    parser.add_argument("--assignment", default="01_sequences")
    parser.add_argument("--isolation", choices=("auto", "sandbox", "none"), default="auto")
    args = parser.parse_args(argv)
    zips = build(args.directory, args.assignment)
    run = GradingRun(args.directory, args.isolation)
    try:
        table = run.grade([args.assignment], zips)
        run.report(table, [args.assignment])
    finally:
        run.close()


if __name__ == "__main__":
    main()
