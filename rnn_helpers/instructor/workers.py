"""Execute submissions for ``grade_class``: in worker processes here or on a Dask cluster.

A worker never touches the class's gradebook. ``grade_submission`` takes a self-contained
task (the course's ``nbgrader_config.py``, a gradebook that holds only the assignments, the
assignment's other files and the submission's files), autogrades it with nbgrader in a
scratch course of its own (so in the grading sandbox, through ``nbgrader_config.py``) and
returns the autograded folder's files. The coordinator (``grade_class``) records them in the
gradebook with ``autograding.ReplayExecution``: one writer, whatever the number of workers.

Executors: ``local_executor(n)`` (processes on this machine) or ``dask_executor(address)``
(a Dask distributed cluster whose workers have the course's environment and bubblewrap;
start each worker with ``--nthreads 1``). Dask runs a task again on another worker when
its worker dies; a task that kills several workers comes back as an error.
"""
import concurrent.futures
import multiprocessing
import os
import pathlib
import socket
import tempfile
import time

from . import sandbox

#: Files of a submission folder larger than this are not shipped to a worker.
MAX_FILE_BYTES = 50 * 1024 * 1024


def folder_files(folder, skip_notebooks=False):
    """{relative path: bytes} of the regular files under ``folder``."""
    folder = pathlib.Path(folder)
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file() or (skip_notebooks and path.suffix == ".ipynb"):
            continue
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ValueError(f"{path} is {path.stat().st_size} bytes, over the {MAX_FILE_BYTES} a submission may hold")
        files[path.relative_to(folder).as_posix()] = path.read_bytes()
    return files


def _write(folder, files):
    for relative, data in files.items():
        target = (folder / relative).resolve()
        if not target.is_relative_to(folder.resolve()):
            raise ValueError(f"file path should stay inside its folder, but got {relative!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def grade_submission(task):
    """Autograde one submission in a scratch course; returns its autograded files and the log.

    ``task``: {"config": text of nbgrader_config.py, "gradebook": bytes of a gradebook with
    the assignment, "assignment", "student", "source_files" and "files" ({path: bytes}),
    "isolation" ('auto', 'sandbox' or 'none'), "cell_timeout" (seconds or None)}.
    """
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log
    from traitlets.config.loader import PyFileConfigLoader

    start = time.perf_counter()
    assignment, student = task["assignment"], task["student"]
    with tempfile.TemporaryDirectory(prefix="rnn-course-worker-") as tmp:
        course = pathlib.Path(tmp)
        (course / "nbgrader_config.py").write_text(task["config"], encoding="utf-8")
        (course / "gradebook.db").write_bytes(task["gradebook"])
        _write(course / "solutions" / assignment, task["source_files"])
        _write(course / "submitted" / student / assignment, task["files"])
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        config.CourseDirectory.root = str(course)
        config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
        config.ResilientExecute.isolation = task["isolation"]
        if task.get("cell_timeout"):
            config.Execute.timeout = task["cell_timeout"]
        coursedir = CourseDirectory(config=config)
        coursedir.assignment_id, coursedir.student_id = assignment, student
        app = Autograde(coursedir=coursedir, config=config)
        app.force, app.create_student = True, True
        result = capture_log(app)
        graded = course / "autograded" / student / assignment
        files = folder_files(graded) if graded.is_dir() else {}
    available, how = sandbox.availability()
    return {"assignment": assignment, "student": student, "success": bool(result["success"]),
            "isolation": f"sandbox ({how})" if available and task["isolation"] != "none" else f"OFF ({how})",
            "log": result.get("log", ""), "error": result.get("error", ""), "files": files,
            "seconds": time.perf_counter() - start, "worker": f"{socket.gethostname()}:{os.getpid()}"}


def _start_local_worker():
    """One BLAS thread per worker; the kernels' banners (they inherit our stdout) go nowhere."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)


def local_executor(workers):
    """A pool of ``workers`` processes on this machine (a concurrent.futures executor)."""
    if workers < 1:
        raise ValueError(f"workers should be at least 1, but got {workers}")
    return concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                                  initializer=_start_local_worker)


def dask_executor(address):
    """A client of the Dask scheduler at ``address`` (tcp://host:port); it has ``submit`` too."""
    from distributed import Client

    return Client(address, timeout="30s")


def as_completed(futures):
    """The futures of either executor, as they finish."""
    if futures and type(futures[0]).__module__.startswith("distributed"):
        from distributed import as_completed as dask_as_completed
        return dask_as_completed(futures)
    return concurrent.futures.as_completed(futures)
