"""nbgrader configuration of the RNN course (instructor side).

The course directory is this folder: instructor sources in ``solutions/``, generated
student versions in ``notebooks/``; ``submitted/``, ``autograded/`` and ``feedback/`` are
created by nbgrader while grading and are not part of the repository.
"""
import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "rnn-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"

# The stub that replaces each solution region in the student version.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Execution while validating and autograding. A graded cell runs in under two seconds;
# the longest training cell of a notebook, shortened under NBGRADER_EXECUTION, in well
# under a minute. A submission stuck in an infinite loop is interrupted after `timeout`.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
c.Execute.execute_retries = 0

# Keep runaway output (a print in a loop) from bloating the graded notebooks.
c.LimitOutput.max_lines = 200
c.LimitOutput.max_traceback = 60

# Put back graded cells a student deleted (they are graded as the untouched stub),
# and always grade with the instructor's test cells, whatever the submission holds.
c.OverwriteCells.add_missing_cells = True

# Outputs are cleared in the student versions; the solutions are committed without them.
c.ClearOutput.enabled = True

# Grading survives hostile submissions: a kernel that dies or hangs ends that notebook's
# run (later cells score zero) instead of the grading of the class. Feedback never shows
# hidden tests or their source lines. See rnn_helpers/instructor/autograding.py.
#
# Every grading path (grade_class, `nbgrader autograde`, the formgrader's Autograde button)
# runs student code in the bubblewrap sandbox (rnn_helpers/instructor/sandbox.py). Where
# bwrap is missing, "auto" grades without it and every notebook's log says loudly
# "ISOLATION IS OFF"; "sandbox" refuses to grade there instead.
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput,  # noqa: E402
                                    DeduplicateIds, GetGrades, IgnorePattern, LimitOutput,
                                    OverwriteKernelspec, SaveAutoGrades)

from rnn_helpers.instructor.autograding import (DropDuplicateGradeIds, HideHiddenTests,  # noqa: E402
                                                OverwriteGivenCells, ResilientExecute)
from rnn_helpers.instructor.release import grading_is_starting, register_missing  # noqa: E402

c.ResilientExecute.isolation = "auto"

c.Autograde.sanitize_preprocessors = [
    ClearOutput, DropDuplicateGradeIds, DeduplicateIds, OverwriteKernelspec, OverwriteGivenCells,
    CheckCellMetadata,
]
c.Autograde.autograde_preprocessors = [
    ResilientExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
    AssignLatePenalties, CheckCellMetadata,
]
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

# `nbgrader autograde` and the formgrader need every assignment in the gradebook: on a fresh
# clone (no gradebook.db yet) or after adding an assignment, record the missing ones first.
if grading_is_starting():
    register_missing(c.CourseDirectory.root)
