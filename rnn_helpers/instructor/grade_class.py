"""Grade a whole class in one command: check, import, autograde, feedback, export.

    python -m rnn_helpers.instructor.grade_class                      # the course in the current folder
    python -m rnn_helpers.instructor.grade_class --course DIR --assignment 01_sequences --zips exports/
    python -m rnn_helpers.instructor.grade_class --workers 8                 # 8 submissions at once
    python -m rnn_helpers.instructor.grade_class --scheduler tls://host:8786 --tls DIR  # on a Dask cluster

Steps, for every assignment (default: all of ``solutions/``):

1. register the assignment and generate its student version (``nbgrader generate_assignment``);
2. import the zip files a learning-management system exports, if ``--zips`` is given:
   ``ZIPS/<student>.zip`` holding ``<assignment>.ipynb`` (at any depth) becomes
   ``submitted/<student>/<assignment>/<assignment>.ipynb``; submissions already in
   ``submitted/`` are graded as well; what cannot be graded is set aside with the reason;
   every submission folder is vetted by ``student_files`` (links, hard links, pipes and
   devices are moved to ``refused/`` and named in the report; the rest is graded);
3. check the grader: the instructor's solution is graded first, the same way, and must earn
   every autograded point, else nothing is graded and the report says what failed;
4. autograde the submissions, ``--workers`` at once (``rnn_helpers.instructor.workers``;
   default: one per core) or on a Dask cluster that speaks TLS with the course's certificates
   (``cluster_tls``; plain ``tcp://`` only with ``--insecure``), each in the sandboxed kernel; this process
   alone writes the gradebook, and shows progress with the time left;
5. generate the feedback (hidden tests stripped) and export the grades to ``grades.csv``
   (a submission that could not be graded has an empty score there, not a zero);
6. print the grade table and the list of submissions that need a look.
"""
import argparse
import csv
import errno
import os
import pathlib
import re
import shutil
import stat
import subprocess
import sys
import time
import warnings
import zipfile

import nbformat

from . import sandbox, student_files, workers
from .privacy import check_course_privacy
from .release import nbgrader_env
from .student_files import SELF_CHECK_ID, UnsafeFolder, shown, student_id_problem
from .workers import ClusterSecurityError, scheduler_security, scratch_folder


class GraderCheckFailed(RuntimeError):
    """The instructor's solution did not earn full marks: the grading environment is broken."""


#: A line of nbgrader's log ("[ERROR] ..." or "[AutogradeApp | ERROR] ...") and its level and message.
_LOG_LINE = re.compile(r"\[(?:[\w.]+ \| )?(DEBUG|INFO|WARNING|ERROR|CRITICAL)\] (.*)")
#: nbgrader's closing lines, which give no cause.
_GENERIC = ("above traceback", "error processing assignment")


def failure_reason(*texts):
    """Why an nbgrader run failed, from its ``texts`` (log first, then traceback): the last
    exception line that names a cause (e.g. ``NotJSONError: ...``), else the last error it
    logged, else a sentence saying that it gave no reason. Never a line of source code, nor
    nbgrader's closing "see the above traceback"."""
    lines, logged = [], []
    for text in texts:
        for line in (text or "").splitlines():
            line, match = line.strip(), _LOG_LINE.match(line.strip())
            if match:
                line = match[2]
            if not line or any(generic in line for generic in _GENERIC):
                continue
            lines.append(line)
            if match and match[1] in ("ERROR", "CRITICAL"):
                logged.append(line)
    exceptions = [line for line in lines if re.match(r"[A-Za-z_][\w.]*(Error|Exception|Exit)\b[^:\s]*: *\S", line)]
    reason = (exceptions or logged or [
        "nbgrader stopped without giving a reason; run the same nbgrader command by hand in the course folder "
        "to read its whole log"])[-1]
    return reason if len(reason) <= 200 else reason[:197] + "..."


def _is_answer(cell):
    return cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution", False)


def setup_failure(executed, source):
    """The error of a cell the instructor wrote that runs before the first answer, else None.

    Such a cell (imports, data, helpers) fails for a reason outside the student's code: the
    grading environment. ``executed`` is the autograded notebook, ``source`` the instructor's.
    """
    given = set()
    for cell in source.cells:
        if _is_answer(cell):
            break
        if cell.cell_type == "code":
            given.add(cell.source)
    for index, cell in enumerate(executed.cells):
        if _is_answer(cell):
            return None
        if cell.cell_type != "code" or cell.source not in given:
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                return f"cell {index} ({cell.source.splitlines()[0][:60] if cell.source else ''}...) " \
                       f"failed with {output.ename}: {output.evalue}"
    return None


def autograded_scores(nb):
    """{grade_id: (score, max_score)} of the autograded test cells of an executed notebook."""
    from nbgrader import utils

    scores = {}
    for cell in nb.cells:
        grading = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and grading.get("grade") and not grading.get("solution"):
            scores[grading["grade_id"]] = utils.determine_grade(cell)
    return scores


def _duration(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


class GradingRun:
    """Grading of one class: the course folder, the isolation mode, the executor, the problems."""

    def __init__(self, course, isolation="auto", submission_timeout=1800, cell_timeout=None, out=sys.stdout,
                 workers=None, scheduler=None, insecure=False, tls=None):
        self.course = pathlib.Path(course).resolve()
        if not (self.course / "nbgrader_config.py").is_file() or not (self.course / "solutions").is_dir():
            raise ValueError(f"course should be a folder with nbgrader_config.py and solutions/, but got {self.course}")
        if isolation not in ("auto", "sandbox", "none"):
            raise ValueError(f"isolation should be 'auto', 'sandbox' or 'none', but got {isolation!r}")
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise ValueError(f"workers should be a whole number of at least 1, but got {workers!r}")
        self.security = None
        if scheduler:
            if isolation == "none":
                raise ClusterSecurityError(
                    "isolation 'none' cannot be used with --scheduler: the workers of a cluster run student code "
                    "only in the sandbox (a worker without bubblewrap refuses to grade)")
            self.security = scheduler_security(scheduler, insecure, tls)
        available, how = sandbox.availability()
        if isolation == "sandbox" and not available and not scheduler:
            raise RuntimeError(f"isolation='sandbox' was asked for, but {how}")
        self.isolation = isolation
        self.sandboxed = bool(scheduler) or (available and isolation != "none")
        self.isolation_note = ("isolation: each submission runs in the sandbox of its Dask worker (a worker "
                               "without bubblewrap refuses to grade)" if scheduler else
                               f"isolation: each submission runs in a sandbox ({how})" if self.sandboxed else
                               "isolation: OFF — student code runs with your rights and could read "
                               f"solutions/ and the gradebook ({'switched off' if available else how})")
        self.submission_timeout = submission_timeout
        self.cell_timeout = cell_timeout
        self.out = out
        self.workers = workers or os.cpu_count() or 1
        self.scheduler = scheduler
        self.problems = []  # (student, assignment, why it was not graded)
        self.refusals = []  # (student, assignment, a file refused while the rest was graded)
        self._source_files = {}  # assignment: the files of solutions/<assignment> the workers get
        self.timings = []  # seconds a worker spent on each graded submission
        self._scratch = scratch_folder("grading")  # executed notebooks, hidden tests: private, 0700
        self._executor = None
        self._replay_config = None
        self._warned = set()  # workers that graded without the sandbox

    def say(self, text):
        print(text, file=self.out, flush=True)

    def nbgrader(self, *args, timeout=None):
        command = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={self.course}"]
        return subprocess.run(command, cwd=self.course, env=nbgrader_env(), capture_output=True, text=True,
                              timeout=timeout)

    def assignments(self):
        return sorted(p.name for p in (self.course / "solutions").iterdir() if p.is_dir())

    def problem(self, student, assignment, what):
        self.problems.append((student, assignment, what))

    def refusal(self, student, assignment, what):
        if (student, assignment, what) not in self.refusals:
            self.refusals.append((student, assignment, what))

    # -- what there is to grade -------------------------------------------------------------

    def students(self, assignment):
        """Students whose submitted/<student>/<assignment>/ holds a readable <assignment>.ipynb.

        Each folder is vetted first (``student_files.quarantine``): what the rule refuses is
        moved to ``refused/`` and reported; a refused notebook or folder is not graded."""
        root = self.course / "submitted"
        if not root.is_dir():
            return []
        found = []
        for student in sorted(os.listdir(root)):
            if student.startswith("."):
                continue  # hidden: nbgrader's commands skip these too
            if not os.path.lexists(root / student / assignment) and not os.path.islink(root / student):
                continue
            problem = student_id_problem(student)
            if problem:
                self.problem(student, assignment, f"not graded: submitted/{shown(student)} is named with {problem}")
                continue
            try:
                refused = student_files.quarantine(self.course, "submitted", student, assignment)
            except OSError as error:
                self.problem(student, assignment, f"not graded: its folder could not be checked for links ({error})")
                continue
            blocking = [r for r in refused if r.path in (".", f"{assignment}.ipynb")]
            for refusal in refused:
                if refusal not in blocking:
                    self.refusal(student, assignment, f"{refusal}; the rest of the submission was graded")
            if blocking:
                first = blocking[0]
                self.problem(student, assignment, "not graded: " + (
                    f"its folder was refused: it is {first.why}" if first.path == "." else str(first)))
                continue
            folder = root / student / assignment
            notebook = folder / f"{assignment}.ipynb"
            if not notebook.is_file():
                others = sorted(p.name for p in folder.glob("*.ipynb"))
                self.problem(student, assignment, f"{folder.relative_to(self.course)} holds no {notebook.name}"
                             + (f" (found: {', '.join(map(shown, others))}; rename it if it is this assignment)"
                                if others else ""))
                continue
            try:
                nbformat.read(str(notebook), as_version=4)
            except Exception as error:  # a corrupt upload is reported, never graded as zero
                self.problem(student, assignment, f"{notebook.name} is not a readable notebook: "
                             f"{type(error).__name__}: {shown(str(error).splitlines()[0][:150])}")
                continue
            found.append(student)
        return found

    def unknown_submissions(self):
        """Report folders in submitted/<student>/ that are not assignments of the course."""
        known = set(self.assignments())
        root = self.course / "submitted"
        for folder in sorted(root.glob("*/*")) if root.is_dir() else []:
            if folder.is_dir() and not folder.parent.name.startswith(".") and folder.name not in known:
                self.problem(folder.parent.name, folder.name,
                             f"submitted for an unknown assignment (solutions/ has {', '.join(sorted(known))})")

    def import_zips(self, zips, assignments):
        """Copy the notebooks of every ``<student>.zip`` in ``zips`` into submitted/."""
        archives = sorted(name for name in os.listdir(zips) if name.endswith(".zip"))
        by_student = {}
        for name in archives:
            by_student.setdefault(name[:-4].casefold(), []).append(name)
        for name in archives:
            student = name[:-4]
            same = by_student[student.casefold()]
            problem = student_id_problem(student)
            if problem:
                why = f"{shown(name)} is named with {problem}"
            elif len(same) > 1:
                why = f"two submissions of one student ({', '.join(map(shown, same))}): none imported, keep the one to grade"
            else:
                try:
                    self._import_zip(pathlib.Path(zips), name, student, assignments)
                    continue
                except Exception as error:  # a broken upload must not stop the class
                    why = f"could not import {shown(name)}: {error}"
            self.problem(student, "-", why)
            self.say(f"  ! {shown(name)}: not imported ({why})")

    def _import_zip(self, zips, name, student, assignments):
        try:
            fd = os.open(zips / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as error:
            raise ValueError("it is a symbolic link (nothing imported)" if error.errno == errno.ELOOP else error.strerror) from None
        with os.fdopen(fd, "rb") as archive_file:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise ValueError("it is not a regular file (nothing imported)")
            if st.st_size > student_files.MAX_TOTAL_BYTES:
                raise ValueError(f"it is {st.st_size:,} bytes, over the {student_files.MAX_TOTAL_BYTES:,} a submission "
                                 "may hold (nothing imported)")
            with zipfile.ZipFile(archive_file) as zf:
                self._import_members(zf, student, assignments)

    def _import_members(self, zf, student, assignments):
        infos = [info for info in zf.infolist() if not info.is_dir()]
        if len(infos) > student_files.MAX_ENTRIES:
            raise ValueError(f"it holds {len(infos):,} files, over the {student_files.MAX_ENTRIES:,} a submission may "
                             "hold (nothing imported)")
        unpacked = sum(info.file_size for info in infos)
        if unpacked > student_files.MAX_TOTAL_BYTES:
            raise ValueError(f"it would unpack to {unpacked:,} bytes, over the {student_files.MAX_TOTAL_BYTES:,} a "
                             "submission may hold: a zip bomb, or not a course submission (nothing imported)")
        for info in infos:
            path = pathlib.PurePosixPath(info.filename.replace("\\", "/"))
            if path.is_absolute() or ".." in path.parts:
                raise ValueError(f"it holds {shown(info.filename)}, a path that leaves its folder (nothing imported)")
        notebooks = {}
        for info in infos:
            notebooks.setdefault(pathlib.PurePosixPath(info.filename).name, []).append(info)
        chosen = {}
        for assignment in assignments:
            copies = notebooks.get(f"{assignment}.ipynb", [])
            if len(copies) > 1:
                raise ValueError(f"it holds {len(copies)} copies of {assignment}.ipynb "
                                 f"({', '.join(shown(i.filename) for i in copies)}): which one to grade?")
            if copies:
                info = copies[0]
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise ValueError(f"its {shown(info.filename)} is a symbolic link, not a notebook (nothing imported)")
                if info.file_size > student_files.MAX_FILE_BYTES:
                    raise ValueError(f"{shown(info.filename)} is {info.file_size:,} bytes, over the "
                                     f"{student_files.MAX_FILE_BYTES:,} a file may hold (nothing imported)")
                with zf.open(info) as member:
                    data = member.read(student_files.MAX_FILE_BYTES + 1)
                chosen[assignment] = nbformat.reads(data.decode("utf-8"), as_version=4)
        if not chosen:
            others = sorted(name for name in notebooks if name.endswith(".ipynb"))
            raise ValueError(f"it holds no notebook named {' or '.join(a + '.ipynb' for a in assignments)}"
                             + (f" (found: {', '.join(map(shown, others))})" if others else ""))
        for assignment, nb in chosen.items():
            student_files.replace_file(self.course, ["submitted", student, assignment, f"{assignment}.ipynb"],
                                       nbformat.writes(nb).encode("utf-8"))

    # -- executing and recording --------------------------------------------------------------

    def _template_gradebook(self):
        """The gradebook's assignments without any student, for the workers."""
        from nbgrader.api import Gradebook

        template = self._scratch / "template.db"
        shutil.copy(self.course / "gradebook.db", template)
        with Gradebook(f"sqlite:///{template}") as gb:
            for student in [s.id for s in gb.students]:
                gb.remove_student(student)
        return template.read_bytes()

    def task(self, assignment, student, folder):
        """What a worker needs to grade ``folder`` as ``student``'s ``assignment``; the files
        are read by ``student_files.read_folder`` (raises UnsafeFolder for a refused folder)."""
        if assignment not in self._source_files:
            source = student_files.read_folder(self.course / "solutions" / assignment, skip_notebooks=True,
                                               under=self.course)
            for refusal in source.refused:
                self.refusal("-", assignment, f"solutions/{assignment}/{refusal}; the workers do not get it")
            self._source_files[assignment] = source.files
        submission = student_files.read_folder(folder, under=self.course)
        for refusal in submission.refused:
            self.refusal(student, assignment, f"{refusal}; the rest of the submission was graded")
        return {"config": (self.course / "nbgrader_config.py").read_text(encoding="utf-8"),
                "gradebook": self._gradebook_bytes, "assignment": assignment, "student": student,
                "source_files": self._source_files[assignment], "files": submission.files,
                "isolation": self.isolation, "cell_timeout": self.cell_timeout}

    def executor(self):
        if self._executor is None:
            self._executor = (workers.dask_executor(self.scheduler, self.security) if self.scheduler
                              else workers.local_executor(self.workers))
        return self._executor

    def submit(self, task):
        if self.scheduler:
            return self.executor().submit(workers.grade_submission, task, pure=False)
        return self.executor().submit(workers.grade_submission, task)

    def record(self, result):
        """Save a worker's result in the gradebook (this process is its only writer)."""
        from nbgrader.converters import Autograde
        from nbgrader.coursedir import CourseDirectory
        from nbgrader.utils import capture_log

        if self._replay_config is None:
            from traitlets.config.loader import PyFileConfigLoader

            from .autograding import ReplayExecution, ResilientExecute

            config = PyFileConfigLoader("nbgrader_config.py", path=str(self.course)).load_config()
            config.CourseDirectory.root = str(self.course)
            config.Autograde.autograde_preprocessors = [
                ReplayExecution if p is ResilientExecute else p for p in config.Autograde.autograde_preprocessors]
            config.ReplayExecution.executed_directory = str(self._scratch / "executed")
            self._replay_config = config
        staging = self._scratch / "executed" / result["student"] / result["assignment"]
        shutil.rmtree(staging, ignore_errors=True)
        workers._write(staging, result["files"])
        coursedir = CourseDirectory(config=self._replay_config)
        coursedir.assignment_id, coursedir.student_id = result["assignment"], result["student"]
        app = Autograde(coursedir=coursedir, config=self._replay_config)
        app.force, app.create_student = True, True
        with warnings.catch_warnings():  # SQLAlchemy's notes on nbgrader's own session use
            warnings.filterwarnings("ignore", message="Object of type <Submitted")
            saved = capture_log(app)
        if not saved["success"]:
            raise RuntimeError(failure_reason(saved.get("log", ""), saved.get("error", "")))

    def executed_notebook(self, result):
        name = f"{result['assignment']}.ipynb"
        if name not in result["files"]:
            return None
        return nbformat.reads(result["files"][name].decode("utf-8"), as_version=4)

    def source_notebook(self, assignment):
        return nbformat.read(str(self.course / "solutions" / assignment / f"{assignment}.ipynb"), as_version=4)

    def check_grader(self, assignments):
        """Grade the instructor's solutions the same way; raise GraderCheckFailed if one loses points."""
        futures = [self.submit(self.task(a, SELF_CHECK_ID, self.course / "solutions" / a)) for a in assignments]
        failures = []
        for future in futures:
            result = future.result(timeout=self.submission_timeout * len(assignments))
            assignment = result["assignment"]
            executed = self.executed_notebook(result)
            if result["isolation"] == "refused":
                failures.append(f"{assignment}: {result['error']}")
                continue
            if not result["success"] or executed is None:
                failures.append(f"{assignment}: the solution could not be graded: "
                                f"{failure_reason(result['log'], result['error'])}")
                continue
            scores = autograded_scores(executed)
            lost = {gid: f"{got:g}/{full:g}" for gid, (got, full) in scores.items() if got != full}
            if lost:
                why = setup_failure(executed, self.source_notebook(assignment)) or self._first_error(executed, lost)
                failures.append(f"{assignment}: the solution earns {sum(g for g, _ in scores.values()):g} of "
                                f"{sum(f for _, f in scores.values()):g} points (lost on {', '.join(lost)}); {why}")
        if failures:
            raise GraderCheckFailed(
                "the grader failed its self-check, nothing was graded:\n  " + "\n  ".join(failures)
                + f"\n  ({self.isolation_note}; the kernel imports from the grading Python's path: {sys.executable})")
        self.say(f"self-check: the instructor's solution earns full marks ({', '.join(assignments)})")

    @staticmethod
    def _first_error(executed, cells):
        for cell in executed.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") in cells:
                for output in cell.get("outputs", []):
                    if output.output_type == "error":
                        return f"first failure: {output.ename}: {output.evalue}"
        return "no error message"

    def grade_submissions(self, queue):
        """Execute ``queue`` [(assignment, student)] on the workers and record each result."""
        started = time.perf_counter()
        futures = {}
        for assignment, student in queue:
            try:
                task = self.task(assignment, student, self.course / "submitted" / student / assignment)
            except UnsafeFolder as error:
                self.problem(student, assignment, f"not graded: its folder was refused: {error}")
                continue
            futures[self.submit(task)] = (assignment, student)
        sources = {}
        done = 0
        for future in workers.as_completed(list(futures)):
            assignment, student = futures[future]
            done += 1
            try:
                result = future.result()
                status = self._take(result, sources)
            except Exception as error:  # a worker that died too often, a broken pool, ...
                self.problem(student, assignment, f"not graded: {type(error).__name__}: {error}")
                status = "NOT graded (see the report below)"
            elapsed = time.perf_counter() - started
            left = elapsed / done * (len(futures) - done)
            self.say(f"  [{done}/{len(futures)}] {shown(student)} / {assignment}: {status}"
                     + (f" — about {_duration(left)} left" if done < len(futures) else f" — all done in {_duration(elapsed)}"))

    def _take(self, result, sources):
        assignment, student = result["assignment"], result["student"]
        for line in result["log"].splitlines():  # what the grading refused (student_files)
            if " was refused: it is " in line:  # moved within the worker's scratch copy, which is gone
                line = re.sub(r"; moved to \S+.*$", "; the worker left it out", line.strip())
                self.refusal(student, assignment, re.sub(r"^\[\w+\] ", "", line))
        executed = self.executed_notebook(result)
        if result["isolation"] == "refused":
            self.problem(student, assignment, f"not graded: {result['error']}")
            return "NOT graded (a worker refused, see the report below)"
        if not result["success"] or executed is None:
            self.problem(student, assignment,
                         f"not graded: nbgrader could not autograde it: {failure_reason(result['log'], result['error'])}")
            return "NOT graded (see the report below)"
        if assignment not in sources:
            sources[assignment] = self.source_notebook(assignment)
        outside = setup_failure(executed, sources[assignment])
        if outside:
            self.problem(student, assignment, f"not graded, the failure is outside the student's code: {outside}")
            return "NOT graded (the grading environment failed, see the report below)"
        if result["isolation"].startswith("OFF") and result["worker"] not in self._warned:
            self._warned.add(result["worker"])
            self.say(f"  ! ISOLATION IS OFF on worker {result['worker']}: {result['isolation']}")
        self.record(result)
        self.timings.append(result["seconds"])
        from .autograding import grading_notes   # limits reached, timeouts: said beside the submission

        return f"graded ({result['seconds']:.1f} s on {result['worker']})" + "".join(
            f"; {note}" for note in grading_notes(result["log"]))

    # -- the whole run -------------------------------------------------------------------------

    def prepare(self, assignments):
        """Register the assignments in the gradebook and make the workers' copy of it."""
        for assignment in assignments:
            result = self.nbgrader("generate_assignment", assignment, "--force")
            if result.returncode != 0:
                raise RuntimeError(f"generate_assignment {assignment} failed:\n{result.stderr}")
        self._gradebook_bytes = self._template_gradebook()

    def grade(self, assignments=None, zips=None, check=True):
        assignments = assignments or self.assignments()
        unknown = sorted(set(assignments) - set(self.assignments()))
        if unknown:
            raise ValueError(f"no such assignment in solutions/: {', '.join(unknown)}")
        self.say(self.isolation_note)
        self.say("workers: " + (f"the Dask cluster at {self.scheduler} "
                                + ("(TLS, the course's certificates)" if self.security else
                                   "(INSECURE: plain tcp, anyone who reaches it can run code as you)")
                                if self.scheduler else str(self.workers)))
        self.prepare(assignments)
        if zips is not None:
            self.import_zips(zips, assignments)
        self.unknown_submissions()
        # Submissions arrive writable by all (nbgrader collect keeps the exchange's rights):
        # close the course folder to other accounts before any student code runs, and say so.
        self.say(str(check_course_privacy(self.course, fix=True)))
        if check:
            self.check_grader(assignments)
        queue = []
        for assignment in assignments:
            students = self.students(assignment)
            self.say(f"{assignment}: {len(students)} submission(s)")
            queue += [(assignment, student) for student in students]
        self.grade_submissions(queue)
        for assignment in assignments:
            result = self.nbgrader("generate_feedback", assignment, "--force")
            if result.returncode != 0:
                self.problem("-", assignment, f"feedback could not be generated: {failure_reason(result.stderr)}")
        result = self.nbgrader("export", f"--CsvExportPlugin.to={self.course / 'grades.csv'}")
        if result.returncode != 0:
            raise RuntimeError(f"nbgrader export failed:\n{result.stderr}")
        self._blank_problem_scores(assignments)
        check_course_privacy(self.course, fix=True)   # grades.csv and autograded/ were just written
        return self.grade_table(assignments)

    def _blank_problem_scores(self, assignments):
        """In grades.csv, a submission that could not be graded has a row with an empty score
        (never a zero it did not earn), whether or not the gradebook knows the student."""
        from nbgrader.api import Gradebook

        path = self.course / "grades.csv"
        ungraded = {(student, assignment) for student, graded, _ in self.problems if student != "-"
                    for assignment in (assignments if graded == "-" else [graded]) if assignment in assignments}
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            fields, rows = reader.fieldnames, list(reader)
        for row in rows:
            if (row["student_id"], row["assignment"]) in ungraded:
                row["raw_score"] = row["late_submission_penalty"] = row["score"] = ""
        missing = sorted(ungraded - {(row["student_id"], row["assignment"]) for row in rows},
                         key=lambda pair: (pair[1], pair[0]))
        if missing:
            with Gradebook(f"sqlite:///{self.course / 'gradebook.db'}") as gb:
                known = {a.name: (a.duedate, a.max_score) for a in gb.assignments}
            for student, assignment in missing:
                duedate, max_score = known.get(assignment, ("", ""))
                rows.append({**dict.fromkeys(fields, ""), "assignment": assignment, "student_id": student,
                             "duedate": duedate or "", "max_score": max_score})
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)

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
        width = max([len("student")] + [len(shown(s)) for s in table])
        self.say("")
        self.say(f"{'student':{width}s}  " + "  ".join(f"{a:>22s}" for a in assignments))
        for student, row in table.items():
            cells = ["—" if row[a] is None else f"{row[a][0]:g} / {row[a][1]:g}" for a in assignments]
            self.say(f"{shown(student):{width}s}  " + "  ".join(f"{c:>22s}" for c in cells))
        self.say(f"\ngrades exported to {self.course / 'grades.csv'}; feedback in {self.course / 'feedback'}")
        written = self.written_points(assignments)
        if any(written.values()):
            self.say("the maximum includes the manually graded written answers ("
                     + ", ".join(f"{a}: {p:g} points" for a, p in written.items() if p)
                     + "): grade them in the formgrader, then run this command again")
        if self.refusals:
            self.say(f"\n{len(self.refusals)} file(s) refused (moved to refused/ or not given to the kernel; "
                     "nothing was read through them):")
            for student, assignment, what in self.refusals:
                self.say(f"  {shown(student)} / {assignment}: {what}")
        if self.problems:
            self.say(f"\n{len(self.problems)} submission(s) need a look (not graded; empty score in grades.csv):")
            for student, assignment, what in self.problems:
                self.say(f"  {shown(student)} / {shown(assignment)}: {what}")

    def close(self):
        if self._executor is not None:
            if self.scheduler:
                # A worker killed during the run leaves its scratch course (hidden tests in its
                # gradebook copy): the survivors remove it now, not only at their next task.
                try:
                    self._executor.run(workers.clean_scratch)
                except Exception as error:      # a cluster already gone: say so, and close
                    self.say(f"could not clean the workers' scratch folders: {error}")
                self._executor.close()
            else:
                self._executor.shutdown()
            self._executor = None
        shutil.rmtree(self._scratch, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", default=".", help="course folder (nbgrader_config.py, solutions/)")
    parser.add_argument("--assignment", action="append", help="grade only this assignment (repeatable)")
    parser.add_argument("--zips", help="folder of <student>.zip files exported by a learning-management system")
    parser.add_argument("--isolation", choices=("auto", "sandbox", "none"), default="auto",
                        help="sandbox each kernel with bubblewrap (default: where available)")
    parser.add_argument("--submission-timeout", type=int, default=1800,
                        help="seconds the grader's self-check (the solution graded first) may take")
    parser.add_argument("--cell-timeout", type=int,
                        help="seconds a cell may run (default: nbgrader_config.py's Execute.timeout)")
    parser.add_argument("--workers", type=int, help="submissions graded at once on this machine (default: one per core)")
    parser.add_argument("--scheduler", help="grade on the Dask cluster of this scheduler (tls://host:8786) instead")
    parser.add_argument("--tls", help="folder of the cluster's certificates (python -m rnn_helpers.instructor.cluster_tls)")
    parser.add_argument("--insecure", action="store_true",
                        help="allow a plain tcp:// scheduler (only where nobody else can reach its port)")
    args = parser.parse_args(argv)
    try:
        run = GradingRun(args.course, args.isolation, args.submission_timeout, args.cell_timeout,
                         workers=args.workers, scheduler=args.scheduler, insecure=args.insecure, tls=args.tls)
    except (ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        assignments = args.assignment or run.assignments()
        table = run.grade(assignments, args.zips)
        run.report(table, assignments)
    except GraderCheckFailed as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        run.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
