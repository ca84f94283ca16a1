"""nbgrader extensions that make autograding survive hostile or broken submissions.

Used by ``nbgrader_config.py``:

* ``ResilientExecute`` replaces nbgrader's ``Execute``, whichever command grades
  (``grade_class`` and its workers, ``nbgrader autograde``, the formgrader's Autograde button):

  - every kernel starts in the grading sandbox (``sandbox``: no network, a read-only view,
    writes to a size-limited tmpfs only, limits from ``limits.GradingLimits``) where bubblewrap
    works (``isolation = "auto"``, with a loud warning where it does not; "sandbox" refuses to
    grade there), and the log says which limits apply (cgroup or rlimits);
  - the grading guard (``integrity``) is snapshotted before the notebook's first code cell (any
    cell of a submission may hold the student's code), with numpy, the checks and the course
    modules the tests load imported first; it restores numpy, the standard library, the checks
    and the kernel's machinery before every autograded test cell, and tells, in a signed
    verdict, whether the test ran to its end untouched; a test whose code was changed while it
    ran, or that did not reach its end although the kernel said so, scores zero with a
    ``GradingIntegrityError`` saying why;
  - when a submission kills its kernel (``os._exit``, a crash, a memory limit, the guard
    stopping it) the cell says so and every later code cell is marked as not executed; an
    answer or test cell still running at the timeout is interrupted and ends the notebook's
    run the same way, even if it catches the interrupt and goes on; any other cell over its
    timeout is interrupted and grading goes on; a cell the kernel finished but whose reply or
    idle status never came ends after ``stall_seconds`` (a widget cell) and the log says so;
  - outputs are capped while they arrive (``output_cell_kb`` per cell, ``output_line_chars``
    per line), and an error caused by a limit says which limit, in the feedback too.

  Grading then completes: the cells that ran before keep their scores, the rest score zero,
  and the other students are unaffected.
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
import asyncio
import copy
import os
import re
import secrets
import time
from queue import Empty

import nbformat
from jupyter_core.utils import ensure_async, run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_code_cell, new_output
from nbgrader.preprocessors import Execute, NbGraderPreprocessor, OverwriteCells
from nbgrader.preprocessors.clearhiddentests import ClearHiddenTests
from traitlets import Enum, Integer, Unicode, default

from . import integrity, limits, sandbox
from .execution import POLL_SLICE, SlicedPolling

#: Modules whose imports in test cells are done before the snapshot, so that the guard protects them.
_GUARDED_IMPORT = re.compile(r"^\s*(?:from\s+((?:numpy|rnn_helpers|torch)[\w.]*)\s+import|"
                             r"import\s+((?:numpy|rnn_helpers|torch)[\w.]*))", re.MULTILINE)
#: The course modules a test cell loads with ``grading.load_reference``: imported before the
#: snapshot too, so that the modules they import (``rnn_helpers.validation``, ...) are guarded,
#: and an answer cannot change what the fresh copy of the reference computes.
_REFERENCE_LOAD = re.compile(r"load_reference\(\s*[\'\"]([\w.]+)[\'\"]")
#: Words of errors that come from a limit, and the sentence that says which.
_LIMIT_ERRORS = (("MemoryError", None, "memory"), ("_ArrayMemoryError", None, "memory"),
                 ("OSError", "No space left on device", "disk"), ("OSError", "File too large", "disk"),
                 ("BlockingIOError", "Resource temporarily unavailable", "processes"),
                 ("RuntimeError", "can't start new thread", "processes"))


#: Warnings of ResilientExecute that the class's report repeats beside the submission's line.
_REPORTED = ("went over a grading limit", "the later cells score zero", "treated as finished",
             "ran over its timeout", "changed while the test ran", "the grading guard stopped the kernel")


def grading_notes(log):
    """The lines of an autograde log (``[LEVEL] message`` lines) that an instructor should see in
    the class's report: limits reached, timeouts, stalled cells, tests tampered with."""
    notes = []
    for line in (log or "").splitlines():
        message = re.sub(r"^\[\w+\] ", "", line.strip())
        if any(mark in message for mark in _REPORTED) and message not in notes:
            notes.append(message)
    return notes


def _error(ename, evalue):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def _is_test(cell):
    grading = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(grading.get("grade")) and not grading.get("solution")


def _is_graded_or_answer(cell):
    grading = cell.metadata.get("nbgrader", {})
    return bool(grading.get("grade") or grading.get("solution"))


class _Untrusted(Exception):
    """The grading guard gave no genuine answer: the kernel's execution cannot be trusted."""


class ResilientExecute(SlicedPolling, Execute):
    """nbgrader's Execute that grades in the sandbox under the grading guard, and keeps going
    when the kernel dies, hangs or misbehaves (see the module's docstring)."""

    isolation = Enum(
        ["auto", "sandbox", "none"], "auto",
        help="Run kernels in the bubblewrap sandbox: 'auto' where it works (with a warning "
             "where it does not), 'sandbox' always (an error where it cannot), 'none' never.").tag(config=True)

    probe_timeout = Integer(
        10, help="Seconds a kernel has to answer after a timed-out cell before it is "
                 "considered unresponsive and shut down.").tag(config=True)

    stall_seconds = Integer(
        30, help="A cell whose kernel has finished it (its reply or its idle status arrived) but "
                 "which has sent nothing else for this many seconds is treated as finished, and the "
                 "log says so (a message the client missed never stops the notebook).").tag(config=True)

    @default("shutdown_kernel")
    def _kill_at_the_end(self):
        """A graded kernel is killed when its notebook is done, not asked to exit: it has nothing
        to save, and a graceful exit waits for the kernel (and would run the submission's atexit
        code). The kill reaches everything it started: its process group, or the sandbox's."""
        return "immediate"

    def preprocess(self, nb, resources=None, km=None):
        available, how = sandbox.availability()
        if self.isolation == "sandbox" and not available:
            raise RuntimeError(f"isolation 'sandbox' was asked for, but {how}")
        self._sandboxed = self.isolation != "none" and available
        self._limits = limits.GradingLimits(config=self.config).as_dict()
        limits.check(self._limits)
        if self._sandboxed:
            self.log.info("isolation: each kernel runs in a sandbox (%s)", how)
        else:
            self.log.warning("ISOLATION IS OFF: student code runs with your rights and can read "
                             "solutions/ and the gradebook (%s)",
                             "ResilientExecute.isolation is 'none'" if available else how)
        self.log.info(limits.enforcement(self._limits, self._sandboxed))
        self.kernel_manager_class = sandbox.kernel_manager_class()
        self._stopped_at = None
        self._snapshot_taken = False
        self._restored = None   # (cell index, test nonce, restore verdict) done with the previous test's verify
        tests = [c.source for c in nb.cells if _is_test(c)]
        self._preimports = sorted({a or b for source in tests for a, b in _GUARDED_IMPORT.findall(source)}
                                  | {f"rnn_helpers.{n}" for source in tests for n in _REFERENCE_LOAD.findall(source)}
                                  | {"numpy", "rnn_helpers.grading"})
        return super().preprocess(nb, resources, km)

    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.sandboxed, km.limits = self._sandboxed, self._limits
        return km

    # -- one cell -----------------------------------------------------------------------------------

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._stopped_at is not None:
            cell.outputs = [_error("NotExecuted", f"this cell did not run: {self._stopped_at}")]
            return cell, resources
        self._timed_out, self._interrupt_reply = False, None
        test_nonce = None
        try:
            if not self._snapshot_taken:
                self._take_snapshot()
            if _is_test(cell):
                if self._restored is not None and self._restored[0] == index:
                    _, test_nonce, restored = self._restored
                else:
                    test_nonce = secrets.token_hex(16)
                    restored, = self._guard(("restore", test_nonce))
                if restored[1:]:
                    self.log.warning("cell %d: put back before the test: %s", index, ", ".join(restored[1:]))
            cell, resources = self._execute(cell, resources, index, test_nonce)
        except DeadKernelError:
            self._kernel_died(cell, index)
            return cell, resources
        except CellTimeoutError:
            self._timed_out = True
        except _Untrusted as problem:
            cell.outputs.append(_error("GradingIntegrityError", str(problem)))
            self._stop(index, "the submission changed how the kernel runs code, so later results cannot be "
                              "trusted")
            return cell, resources
        self._cap_outputs(cell)
        self._explain_limits(cell, index)
        if self._timed_out:
            self._after_timeout(cell, index)
        elif test_nonce is not None:
            try:
                self._check_test(cell, index, test_nonce)
            except DeadKernelError:
                self._kernel_died(cell, index)
        return cell, resources

    def _kernel_died(self, cell, index):
        refusal = self._refusal()
        if refusal:
            cell.outputs.append(_error("GradingIntegrityError", (
                f"the kernel was stopped: the code used {refusal}, which grading does not allow (it reaches "
                "into the interpreter's internals)")))
            self.log.warning("cell %d: the grading guard stopped the kernel: the code used %s", index, refusal)
        else:
            cell.outputs.append(_error(
                "KernelDied", "the kernel died while running this cell (os._exit, a crash, or a process "
                              f"over the grading limit of {self._limits['memory_mb']} MB of memory)"))
        self._stopped_at = f"the kernel died in cell {index}"

    def _execute(self, cell, resources, index, test_nonce):
        self._cell_bytes, self._dropped_bytes = 0, 0
        if test_nonce is None:
            return super().preprocess_cell(cell, resources, index)
        source = cell.source
        cell.source = f"{source}\n__import__('sys').audit('rnn_course.test_end', {test_nonce!r})"
        try:
            return super().preprocess_cell(cell, resources, index)
        finally:
            cell.source = source

    def _check_test(self, cell, index, test_nonce):
        """After a test cell: did it run to its end, untouched? (The guard's verdict.) When the
        next code cell is a test too, the guard's restore for it is raised in the same hidden cell."""
        following = next((i for i in range(index + 1, len(self.nb.cells)) if self.nb.cells[i].cell_type == "code"),
                         None)
        events = [("verify", test_nonce)]
        if following is not None and _is_test(self.nb.cells[following]):
            events.append(("restore", secrets.token_hex(16)))
        try:
            verdict, *restored = self._guard(*events)
        except _Untrusted as problem:
            cell.outputs.append(_error("GradingIntegrityError", str(problem)))
            self._stop(index, "the submission changed how the kernel runs code, so later results cannot be "
                              "trusted")
            return
        if restored:
            self._restored = (following, events[1][1], restored[0])
        reached, changes = verdict[0] == "reached", verdict[1:]
        failed = any(o.output_type == "error" for o in cell.outputs)
        if changes:
            self.log.warning("cell %d: changed while the test ran: %s", index, ", ".join(changes))
            cell.outputs.append(_error(
                "GradingIntegrityError", "the code under test changed what checks it, so this test scores zero: "
                + ", ".join(changes[:10]) + (f" and {len(changes) - 10} more" if len(changes) > 10 else "")))
        elif not reached and not failed:
            self.log.warning("cell %d: the test reported no error but did not run to its end", index)
            cell.outputs.append(_error(
                "GradingIntegrityError", "this test did not run to its end (the kernel reported it finished "
                                         "while it had not), so it scores zero"))

    # -- timeouts -----------------------------------------------------------------------------------

    def _after_timeout(self, cell, index):
        """A cell ran over its timeout and was interrupted. An answer or test cell that stopped at
        the interrupt (its reply is the KeyboardInterrupt) costs only itself; one that went on
        (it caught the interrupt, or did not answer) ends the notebook's run. Any other cell
        costs nothing more as long as the kernel answers again."""
        reply = self._interrupt_reply
        content = reply["content"] if reply else {}
        stopped = content.get("status") == "error" and content.get("ename") == "KeyboardInterrupt"
        cell.outputs.append(_error("CellTimeoutError", f"this cell ran for over {self.timeout} s and was interrupted"))
        if _is_graded_or_answer(cell):
            if stopped:
                self.log.warning("cell %d ran over its timeout of %s s and stopped when interrupted", index,
                                 self.timeout)
            else:
                self._stop(index, f"cell {index} went on past its timeout of {self.timeout} s (it did not stop when "
                                  "interrupted)")
        elif reply is not None or self._kernel_answers():
            self.log.warning("cell %d (not graded) ran over its timeout of %s s and was interrupted; grading "
                             "goes on", index, self.timeout)
        else:
            self._stop(index, f"the kernel stopped answering after cell {index} ran over its timeout")

    def _stop(self, index, why):
        self._stopped_at = why
        self.log.warning("cell %d: %s; the later cells score zero", index, why)
        try:
            run_sync(self.km.shutdown_kernel)(now=True)
        except Exception as error:  # the kernel may be gone already
            self.log.debug("shutting the kernel down: %s", error)

    def _kernel_answers(self):
        """After an interrupted cell, does the kernel run code again within probe_timeout? (A
        first probe of a few seconds that times out interrupts the kernel once more: an interrupt
        that landed inside the grading guard was dropped.)"""
        for seconds in (min(3, self.probe_timeout), self.probe_timeout):
            self._timed_out = False
            try:
                probe = self._run_hidden("pass", seconds)
            except DeadKernelError:
                return False
            if not self._timed_out:
                return not any(o.output_type == "error" for o in probe.outputs)
        return False

    async def _async_poll_for_reply(self, msg_id, cell, timeout, task_poll_output_msg, task_poll_kernel_alive):
        """nbclient's wait for a cell's reply, with the grading rules. At the timeout the kernel is
        interrupted (twice, a few seconds apart, if it has not answered) and the cell's reply is
        awaited for probe_timeout more; then CellTimeoutError, with ``_interrupt_reply`` set to
        the reply if one came, so that ``_after_timeout`` can tell a cell that stopped at the
        interrupt from one that went on. A cell the kernel has finished but whose reply or idle
        status went missing ends after stall_seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self._last_message = time.monotonic()
        interrupts = []   # times of the interrupts sent
        while True:
            now = time.monotonic()
            if deadline is not None and now >= deadline and len(interrupts) < 2 and (
                    not interrupts or now >= interrupts[0] + self.probe_timeout / 2):
                interrupts.append(now)
                await ensure_async(self.km.interrupt_kernel())
            if interrupts and now >= interrupts[0] + self.probe_timeout:
                task_poll_kernel_alive.cancel()
                task_poll_output_msg.cancel()
                raise CellTimeoutError.error_from_timeout_and_cell("Cell execution timed out", timeout, cell)
            if task_poll_output_msg.done() and now - self._last_message > self.stall_seconds:
                self.log.warning("a cell finished (idle) but its reply did not arrive within %s s: treated as "
                                 "finished", self.stall_seconds)
                task_poll_kernel_alive.cancel()
                return {"parent_header": {"msg_id": msg_id}, "content": {"status": "ok"}}
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=POLL_SLICE))
            except Empty:
                await self._async_check_alive()
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            self._last_message = time.monotonic()
            while not task_poll_output_msg.done():
                if time.monotonic() - self._last_message > self.stall_seconds:
                    self.log.warning("a cell's reply arrived but not its idle status within %s s: treated as "
                                     "finished", self.stall_seconds)
                    task_poll_output_msg.cancel()
                    break
                await asyncio.wait([task_poll_output_msg], timeout=POLL_SLICE)
            task_poll_kernel_alive.cancel()
            if interrupts:
                self._interrupt_reply = msg
                raise CellTimeoutError.error_from_timeout_and_cell("Cell execution timed out", timeout, cell)
            return msg

    def process_message(self, msg, cell, cell_index):
        self._last_message = time.monotonic()
        return super().process_message(msg, cell, cell_index)

    # -- output caps and limit messages -------------------------------------------------------------

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most output_cell_kb of a cell's outputs, as they arrive: a stream is cut at
        the limit, any other output past it is dropped (the note says how much)."""
        content = msg.get("content", {})
        left = self._limits["output_cell_kb"] * 1024 - self._cell_bytes
        if msg.get("msg_type") == "stream" and isinstance(content.get("text"), str):
            text = content["text"]
            if len(text) > left:
                self._dropped_bytes += len(text) - max(left, 0)
                content["text"] = text[:max(left, 0)]
            size = len(content["text"])
        else:
            size = sum(len(str(value)) for value in content.values())
            if size > left:
                self._dropped_bytes += size
                return None
        self._cell_bytes += size
        return super().output(outs, msg, display_id, cell_index)

    def clear_output(self, outs, msg, cell_index):
        self._cell_bytes = 0
        return super().clear_output(outs, msg, cell_index)

    def _cap_outputs(self, cell):
        """Cut lines longer than output_line_chars and note what the per-cell cap dropped."""
        cap = self._limits["output_line_chars"]

        def cut(text):
            if len(text) <= cap:
                return text
            return "\n".join(line if len(line) <= cap else
                             f"{line[:cap]} ... [{len(line) - cap} more characters cut: the grading limit is "
                             f"{cap} characters per line]" for line in text.split("\n"))

        for output in cell.outputs:
            if output.output_type == "stream":
                output.text = cut(output.text)
            elif output.output_type == "error":
                output.evalue = cut(output.evalue)
                output.traceback = [cut(line) for line in output.traceback]
            elif "data" in output:
                for mime, value in output.data.items():
                    if isinstance(value, str) and mime.startswith("text/"):
                        output.data[mime] = cut(value)
                    elif isinstance(value, str) and len(value) > self._limits["output_cell_kb"] * 1024:
                        output.data[mime] = ""
                        self._dropped_bytes += len(value)
        if self._dropped_bytes:
            cell.outputs.append(new_output("stream", name="stdout", text=(
                f"[{self._dropped_bytes // 1024} KB of output dropped: the grading limit is "
                f"{self._limits['output_cell_kb']} KB per cell]\n")))

    def _explain_limits(self, cell, index):
        """Add to an error caused by a limit the sentence that says which (it reaches the feedback)."""
        sentences = {
            "memory": f"the grading limit is {self._limits['memory_mb']} MB of memory per process",
            "disk": f"the grading limit is {self._limits['disk_mb']} MB written in the working folder and /tmp",
            "processes": f"the grading limit is {self._limits['processes']} processes and threads"}
        for output in cell.outputs:
            if output.output_type != "error":
                continue
            for ename, words, limit in _LIMIT_ERRORS:
                if output.ename == ename and (words is None or words in output.evalue) and self._sandboxed:
                    output.evalue = f"{output.evalue} ({sentences[limit]})"
                    output.traceback = output.traceback + [f"({sentences[limit]})"]
                    self.log.warning("cell %d went over a grading limit: %s", index, sentences[limit])
                    break

    # -- the grading guard ---------------------------------------------------------------------------

    def _take_snapshot(self):
        imports = "".join(f"try:\n    __import__({name!r})\nexcept ImportError:\n    pass\n"
                          for name in self._preimports)
        imports += "__import__('rnn_helpers.instructor.integrity', fromlist=['_']).settle_libraries()\n"
        try:
            self._guard(("snapshot", None), code_before=imports)
        except _Untrusted as problem:
            raise RuntimeError(f"the grading guard did not start in the kernel ({problem}): the grading "
                               "environment is broken, nothing was graded") from None
        self._snapshot_taken = True

    def _guard(self, *events, code_before=""):
        """Raise the guard's events, (event, test nonce or None) pairs, in the kernel from one
        hidden cell, in order; the lines of their signed verdicts, in the same order."""
        nonces = [secrets.token_hex(16) for _ in events]
        code = "".join(f"__import__('sys').audit({', '.join(repr(a) for a in (f'rnn_course.{event}', nonce, test) if a is not None)})\n"
                       for (event, test), nonce in zip(events, nonces))
        self._run_hidden(code_before + code)
        names = " and ".join(event for event, _ in events)
        if self._timed_out:
            raise _Untrusted(f"the grading guard's {names} did not finish within {self.timeout} s")
        verdicts, deadline = {}, time.monotonic() + 5
        while True:
            for line in self.km.read_verdicts():
                for nonce in nonces:
                    lines = integrity.verdict(line, self.km.key, nonce)
                    if lines is not None:
                        verdicts[nonce] = lines
            if len(verdicts) == len(nonces):
                return [verdicts[nonce] for nonce in nonces]
            if time.monotonic() > deadline:
                raise _Untrusted(f"the grading guard gave no signed answer to its {names} check")
            time.sleep(0.05)

    def _refusal(self):
        """What the guard refused before it stopped the kernel (from its signed verdict), else None."""
        for line in self.km.read_verdicts() if self.km is not None else ():
            lines = integrity.verdict(line, self.km.key, integrity.REFUSAL)
            if lines and len(lines) > 1:
                return lines[1]
        return None

    def _run_hidden(self, code, timeout=None):
        """Run ``code`` in the kernel outside the notebook; returns the throw-away cell."""
        cell = new_code_cell(code)
        saved, self.timeout = self.timeout, timeout or self.timeout
        first = self.nb.cells[0]  # nbclient stores the executed cell at the index it is given
        try:
            self.execute_cell(cell, 0, store_history=False)
        except CellTimeoutError:
            self._timed_out = True
        finally:
            self.timeout = saved
            self.nb.cells[0] = first
        return cell


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
