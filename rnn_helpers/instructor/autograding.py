"""nbgrader extensions that make autograding survive hostile or broken submissions.

Used by ``nbgrader_config.py``:

* ``ResilientExecute`` replaces nbgrader's ``Execute``. It starts every kernel in the
  grading sandbox (``rnn_helpers.instructor.sandbox``; ``isolation = "auto"`` where bubblewrap
  works, and a loud warning where it does not), whichever command grades: ``grade_class``,
  ``nbgrader autograde`` or the formgrader's Autograde button. When a submission kills its kernel
  (``os._exit``, a crash, running out of memory) or leaves it unresponsive (an infinite
  loop that swallows the interrupt), the cell gets an error output saying so and every
  later code cell is marked as not executed. Grading then completes: the cells that ran
  before keep their scores, the rest score zero, and the other students are unaffected.
  It also takes a snapshot of numpy and the checks before the first cell and restores it
  before every autograded test cell (``rnn_helpers.instructor.integrity``), so an answer that
  monkeypatches ``np.allclose`` or the course's checks gains nothing.
* ``ReplayExecution`` takes its place when ``grade_class`` records a submission that a
  worker executed (``rnn_helpers.instructor.workers``): it copies the worker's outputs into
  the notebook, so that nbgrader saves the grades in the gradebook without running it again.
* ``OverwriteGivenCells`` is nbgrader's ``OverwriteCells`` without the warning "Attribute
  'checksum' ... has changed!" for a locked cell that holds exactly what the student was
  given (a test cell whose hidden tests were removed from the student version).
* ``DropDuplicateGradeIds`` runs before nbgrader's own sanitising. A cell copied with
  its grade id (nbgrader itself stops with a KeyError on such a notebook) keeps the id only
  in its first occurrence; later copies become ordinary cells.
* ``HideHiddenTests`` runs when feedback is generated: test cells show only their
  visible part, and errors show only their message (a traceback would quote the lines of
  the hidden tests), so students see which tests failed and why, never the hidden source.
"""
import copy
import os

import nbformat
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_code_cell, new_output
from nbgrader.preprocessors import Execute, NbGraderPreprocessor, OverwriteCells
from nbgrader.preprocessors.clearhiddentests import ClearHiddenTests
from traitlets import Enum, Integer, Unicode

from . import sandbox

_TIMEOUT_ENAMES = {"CellTimeoutError"}
_SNAPSHOT = "__import__('rnn_helpers.instructor.integrity', fromlist=['_']).snapshot()"
_RESTORE = "__import__('rnn_helpers.instructor.integrity', fromlist=['_']).restore()"


def _error(ename, evalue):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class ResilientExecute(Execute):
    """nbgrader's Execute, which keeps going when the kernel dies or hangs."""

    isolation = Enum(
        ["auto", "sandbox", "none"], "auto",
        help="Run kernels in the bubblewrap sandbox: 'auto' where it works (with a warning "
             "where it does not), 'sandbox' always (an error where it cannot), 'none' never.").tag(config=True)

    probe_timeout = Integer(
        10, help="Seconds a kernel has to answer after a timed-out cell before it is "
                 "considered unresponsive and shut down.").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        available, how = sandbox.availability()
        if self.isolation == "sandbox" and not available:
            raise RuntimeError(f"isolation 'sandbox' was asked for, but {how}")
        if self.isolation != "none" and available:
            self.kernel_manager_class = sandbox.kernel_manager_class()
        else:
            self.log.warning("ISOLATION IS OFF: student code runs with your rights and can read "
                             "solutions/ and the gradebook (%s)",
                             "ResilientExecute.isolation is 'none'" if available else how)
        self._stopped_at = None
        self._snapshot_taken = False
        return super().preprocess(nb, resources, km)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._stopped_at is not None:
            cell.outputs = [_error("NotExecuted", f"this cell did not run: {self._stopped_at}")]
            return cell, resources
        try:
            if not self._snapshot_taken:
                self._run_hidden(_SNAPSHOT)
                self._snapshot_taken = True
            grading = cell.metadata.get("nbgrader", {})
            if grading.get("grade") and not grading.get("solution"):
                self._run_hidden(_RESTORE)
            cell, resources = super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            cell.outputs.append(_error(
                "KernelDied", "the kernel died while running this cell (os._exit, a crash "
                              "or running out of memory)"))
            self._stopped_at = f"the kernel died in cell {index}"
            return cell, resources
        except CellTimeoutError:
            cell.outputs.append(_error(
                "CellTimeoutError", f"this cell ran for over {self.timeout} s and would not stop"))
            self._stop_unresponsive(index)
            return cell, resources
        timed_out = any(o.output_type == "error" and o.ename in _TIMEOUT_ENAMES for o in cell.outputs)
        if timed_out and not self._kernel_answers():
            self._stop_unresponsive(index)
        return cell, resources

    def _stop_unresponsive(self, index):
        self._stopped_at = f"the kernel stopped answering after cell {index} timed out"
        run_sync(self.km.shutdown_kernel)(now=True)

    def _run_hidden(self, code, timeout=None):
        """Run ``code`` in the kernel outside the notebook; returns the throw-away cell."""
        cell = new_code_cell(code)
        saved, self.timeout = self.timeout, timeout or self.timeout
        first = self.nb.cells[0]  # nbclient stores the executed cell at the index it is given
        try:
            self.execute_cell(cell, 0, store_history=False)
        finally:
            self.timeout = saved
            self.nb.cells[0] = first
        return cell

    def _kernel_answers(self):
        """After an interrupted cell, does the kernel still run code?"""
        try:
            probe = self._run_hidden("pass", self.probe_timeout)
        except DeadKernelError:
            return False
        return not any(o.output_type == "error" for o in probe.outputs)


class DropDuplicateGradeIds(NbGraderPreprocessor):
    """Keep each grade id on its first cell only; copies become ordinary cells."""

    def preprocess(self, nb, resources):
        seen = set()
        for cell in nb.cells:
            grading = cell.metadata.get("nbgrader")
            grade_id = grading.get("grade_id") if isinstance(grading, dict) else None
            if grade_id is None:
                continue
            if grade_id in seen:
                del cell.metadata["nbgrader"]
                for flag in ("deletable", "editable"):
                    cell.metadata.pop(flag, None)
            seen.add(grade_id)
        return nb, resources


class HideHiddenTests(NbGraderPreprocessor):
    """Strip hidden tests and tracebacks from the feedback handed to students."""

    def preprocess(self, nb, resources):
        clear = ClearHiddenTests()
        for index, cell in enumerate(nb.cells):
            grading = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and grading.get("grade") and not grading.get("solution"):
                clear.preprocess_cell(cell, resources, index)
            for output in cell.get("outputs", []):
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return nb, resources


class ReplayExecution(NbGraderPreprocessor):
    """Fill the notebook with the outputs of its execution by a grading worker.

    The worker's autograded notebook is ``{executed_directory}/{student}/{assignment}/{notebook}.ipynb``;
    it was sanitised the same way, so its code cells match this notebook's one for one.
    """

    executed_directory = Unicode("", help="Folder of the notebooks the workers executed.").tag(config=True)

    def preprocess(self, nb, resources):
        ids = resources["nbgrader"]
        path = os.path.join(self.executed_directory, ids["student"], ids["assignment"], f"{ids['notebook']}.ipynb")
        executed = nbformat.read(path, as_version=4)
        mine = [c for c in nb.cells if c.cell_type == "code"]
        theirs = [c for c in executed.cells if c.cell_type == "code"]
        if [c.source for c in mine] != [c.source for c in theirs]:
            raise ValueError(f"the executed notebook {path} does not match the submission it was made from")
        for cell, done in zip(mine, theirs):
            cell.outputs, cell.execution_count = done.outputs, done.execution_count
        return nb, resources


class OverwriteGivenCells(OverwriteCells):
    """nbgrader's OverwriteCells, quiet about locked cells that hold what the student was given."""

    def preprocess_cell(self, cell, resources, index):
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("locked") and "grade_id" in grading:
            try:
                source = self.gradebook.find_source_cell(grading["grade_id"], self.notebook_id,
                                                         self.assignment_id).source
            except Exception:  # an unknown cell: nbgrader's own handling reports it
                source = None
            if source is not None and cell.source != source:
                given = copy.deepcopy(cell)
                given.source = source
                ClearHiddenTests().preprocess_cell(given, resources, index)
                if cell.source == given.source:
                    cell.source = source
        return super().preprocess_cell(cell, resources, index)
