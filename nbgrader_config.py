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
# under a minute. A cell still running after `timeout` is interrupted: an answer or test cell
# then ends the notebook's run (the cells after it score zero, even if it catches the
# interrupt and goes on), another cell only costs its own output and grading goes on.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
c.Execute.execute_retries = 0
# A cell the kernel has finished (its reply or its idle status came) but whose other message
# never arrives, as a widget cell's can, ends after this many seconds instead of stopping the run.
c.ResilientExecute.stall_seconds = 30

# What each graded kernel may use (rnn_helpers/instructor/limits.py). Enforced in the sandbox
# by rlimits and size-limited tmpfs, and by a cgroup v2 scope (systemd-run) where the machine
# has one; each notebook's grading log says which. A cell over a limit fails with a sentence
# naming the limit (in the feedback too), the cells before it keep their points.
c.GradingLimits.memory_mb = 2048          # each process (and the whole sandbox with a cgroup)
c.GradingLimits.processes = 256           # processes and threads in the sandbox
c.GradingLimits.disk_mb = 200             # what the kernel may write (its working folder and /tmp)
c.GradingLimits.output_cell_kb = 1024     # outputs kept per cell
c.GradingLimits.output_line_chars = 10000 # characters kept per output line

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
# Every grading path (grade_class, `nbgrader autograde`, the formgrader's Autograde button, the
# workers) runs student code in the bubblewrap sandbox (rnn_helpers/instructor/sandbox.py: no
# network, no view of this machine beyond the system and Python, nothing written to its disk)
# under the grading guard (integrity.py: monkeypatching the checks earns nothing). Where
# bwrap is missing, "auto" grades without the sandbox and every notebook's log says loudly
# "ISOLATION IS OFF"; "sandbox" refuses to grade there instead.
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput,  # noqa: E402
                                    DeduplicateIds, GetGrades, IgnorePattern, LimitOutput,
                                    OverwriteKernelspec, SaveAutoGrades)

from rnn_helpers.instructor.autograding import (DropDuplicateGradeIds, HideHiddenTests,  # noqa: E402
                                                OverwriteGivenCells, ResilientExecute)
from rnn_helpers.instructor.release import grading_is_starting, register_missing  # noqa: E402

c.ResilientExecute.isolation = "auto"

# Student files move without following a link (rnn_helpers/instructor/student_files.py and
# exchange.py). `nbgrader collect` and the formgrader's Collect button take only what the
# student's own account uploaded, and no link, pipe, device or hard link in it; autograde
# vets submitted/ before it copies from it, and the submission's folder in autograded/ after
# its code ran and before the graded notebook is written there; generate_feedback vets
# autograded/; release_feedback writes each page as a new file. What is refused is moved to
# refused/ (or left in the exchange) and named in the log.
from rnn_helpers.instructor.exchange import CourseCollect, CourseReleaseFeedback  # noqa: E402
from rnn_helpers.instructor.student_files import SealGradedFolder, vet_autograded, vet_submitted  # noqa: E402

c.ExchangeFactory.collect = CourseCollect
c.ExchangeFactory.release_feedback = CourseReleaseFeedback
c.Autograde.pre_convert_hook = vet_submitted
c.GenerateFeedback.pre_convert_hook = vet_autograded

c.Autograde.sanitize_preprocessors = [
    ClearOutput, DropDuplicateGradeIds, DeduplicateIds, OverwriteKernelspec, OverwriteGivenCells,
    CheckCellMetadata,
]
c.Autograde.autograde_preprocessors = [
    ResilientExecute, SealGradedFolder, IgnorePattern, ClearMetadataPreprocessor, LimitOutput, SaveAutoGrades,
    AssignLatePenalties, CheckCellMetadata,
]
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

# `nbgrader autograde` and the formgrader need every assignment in the gradebook: on a fresh
# clone (no gradebook.db yet) or after adding an assignment, record the missing ones first.
if grading_is_starting():
    register_missing(c.CourseDirectory.root)
