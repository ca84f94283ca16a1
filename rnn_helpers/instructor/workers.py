"""Execute submissions for ``grade_class``: in worker processes here or on a Dask cluster.

A worker never touches the class's gradebook. ``grade_submission`` takes a self-contained
task (the course's ``nbgrader_config.py``, a gradebook that holds only the assignments, the
assignment's other files and the submission's files), autogrades it with nbgrader in a
scratch course of its own (so in the grading sandbox, through ``nbgrader_config.py``) and
returns the autograded folder's files. The coordinator (``grade_class``) records them in the
gradebook with ``autograding.ReplayExecution``: one writer, whatever the number of workers.

Executors: ``local_executor(n)`` (processes on this machine) or ``dask_executor(address,
security)`` (a Dask distributed cluster whose workers have the course's environment and
bubblewrap; start each worker with ``--nthreads 1``). Dask runs a task again on another
worker when its worker dies; a task that kills several workers comes back as an error.

A cluster speaks TLS with the course's certificates (``cluster_tls``): ``scheduler_security``
refuses a plain ``tcp://`` address unless the instructor says ``insecure``. On a Dask worker,
student code runs only in the sandbox: a worker without a working bubblewrap, or whose TLS
key the sandbox would show to the kernel, refuses the task and says why.

Scratch courses (they hold the gradebook's copy of the hidden tests) live in a private
folder per account, ``$TMPDIR/rnn-course-scratch-<uid>`` (0700), one folder per task named
after its process; the folders of processes that died (a killed worker) are removed when
the next task starts and when a worker starts with ``--preload rnn_helpers.instructor.workers``.
"""
import concurrent.futures
import multiprocessing
import os
import pathlib
import shutil
import socket
import stat
import sys
import tempfile
import time

from . import sandbox, student_files


def folder_files(folder, skip_notebooks=False):
    """{relative path: bytes} of the files under ``folder`` that ``student_files.read_folder``
    takes (no link followed; links, hard links, pipes, devices and oversized files left out)."""
    return student_files.read_folder(folder, skip_notebooks=skip_notebooks).files


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
    from nbgrader.preprocessors import AssignLatePenalties, SaveAutoGrades
    from nbgrader.utils import capture_log
    from traitlets.config.loader import PyFileConfigLoader

    start = time.perf_counter()
    assignment, student = task["assignment"], task["student"]
    isolation = task["isolation"]
    worker = dask_worker()
    if worker is not None:
        refusal = _refusal(worker)
        if refusal:
            return {"assignment": assignment, "student": student, "success": False, "isolation": "refused",
                    "log": "", "error": refusal, "files": {}, "seconds": time.perf_counter() - start,
                    "worker": _worker_name()}
        isolation = "sandbox"  # on a cluster, student code never runs outside the sandbox
    clean_scratch()
    course = scratch_folder("task")
    try:
        (course / "nbgrader_config.py").write_text(task["config"], encoding="utf-8")
        (course / "gradebook.db").write_bytes(task["gradebook"])
        _write(course / "solutions" / assignment, task["source_files"])
        _write(course / "submitted" / student / assignment, task["files"])
        config = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
        config.CourseDirectory.root = str(course)
        config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
        config.ResilientExecute.isolation = isolation
        # Only the coordinator saves grades (``grade_class`` records the result): this gradebook is thrown away.
        config.Autograde.autograde_preprocessors = [p for p in config.Autograde.autograde_preprocessors
                                                    if p not in (SaveAutoGrades, AssignLatePenalties)]
        if task.get("cell_timeout"):
            config.Execute.timeout = task["cell_timeout"]
        coursedir = CourseDirectory(config=config)
        coursedir.assignment_id, coursedir.student_id = assignment, student
        app = Autograde(coursedir=coursedir, config=config)
        app.force, app.create_student = True, True
        result = capture_log(app)
        graded = course / "autograded" / student / assignment
        files = folder_files(graded) if graded.is_dir() else {}
    finally:
        shutil.rmtree(course, ignore_errors=True)
    available, how = sandbox.availability()
    return {"assignment": assignment, "student": student, "success": bool(result["success"]),
            "isolation": f"sandbox ({how})" if available and isolation != "none" else f"OFF ({how})",
            "log": result.get("log", ""), "error": result.get("error", ""), "files": files,
            "seconds": time.perf_counter() - start, "worker": _worker_name()}


def _worker_name():
    return f"{socket.gethostname()}:{os.getpid()}"


def dask_worker():
    """The Dask worker running this task, else None (a local process, or no Dask at all)."""
    if "distributed" not in sys.modules:
        return None
    from distributed import get_worker

    try:
        return get_worker()
    except ValueError:
        return None


def _refusal(worker):
    """Why the Dask ``worker`` must not run student code (a sentence), else None."""
    available, how = sandbox.availability()
    if not available:
        return (f"worker {_worker_name()} refused to grade: it cannot run student code in the sandbox there "
                f"({how}); install bubblewrap on that machine or stop that worker")
    from .cluster_tls import sandbox_visible

    security = worker.security
    for path in (security.tls_worker_key, security.tls_worker_cert, security.tls_ca_file):
        shown = sandbox_visible(path) if path and "\n" not in path else None
        if shown:
            return (f"worker {_worker_name()} refused to grade: its TLS file {path} lies in {shown}, which the "
                    "sandbox shows to the graded kernel; keep the certificates in a private folder of the "
                    "workers' account")
    return None


# -- private scratch folders ------------------------------------------------------------------

def scratch_root():
    """This account's private scratch folder, ``$TMPDIR/rnn-course-scratch-<uid>`` (made 0700).

    Refuses one that is a link, belongs to another account or is open to others (someone
    who made it first in the shared /tmp could read the scratch courses).
    """
    root = pathlib.Path(tempfile.gettempdir()) / f"rnn-course-scratch-{os.geteuid()}"
    try:
        os.mkdir(root, 0o700)
    except FileExistsError:
        pass
    info = os.lstat(root)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or stat.S_IMODE(info.st_mode) & 0o077:
        raise RuntimeError(f"the scratch folder {root} is not a private folder of this account (a link, another "
                           "account's, or open to others): remove it, or set TMPDIR to a private folder")
    return root


def _process_start(pid):
    """Start time of process ``pid`` (clock ticks since boot), else None when it is gone
    (a zombie, killed and not yet reaped by its parent, is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return None if fields[0] in (b"Z", b"X") else int(fields[19])
    except (OSError, ValueError, IndexError):
        if sys.platform.startswith("linux"):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0


def scratch_folder(kind):
    """A new private folder ``<scratch_root>/<kind>-<pid>-<start>-<random>`` (the caller removes it).

    Its name says which process made it, so that ``clean_scratch`` can tell a folder whose
    process died (a killed worker) from one in use.
    """
    prefix = f"{kind}-{os.getpid()}-{_process_start(os.getpid())}-"
    return pathlib.Path(tempfile.mkdtemp(prefix=prefix, dir=scratch_root()))


def clean_scratch():
    """Remove the scratch folders of processes that are gone; returns their paths."""
    removed = []
    for path in scratch_root().iterdir():
        parts = path.name.split("-")
        if len(parts) < 4 or not parts[1].isdigit():
            continue
        pid, started = int(parts[1]), parts[2]
        alive = _process_start(pid)
        if alive is None or (alive != 0 and str(alive) != started):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def dask_setup(worker):
    """Dask preload (``dask worker --preload rnn_helpers.instructor.workers``): clean up what
    killed workers left, and say in the worker's log whether it can grade."""
    import logging

    removed = clean_scratch()
    available, how = sandbox.availability()
    logging.getLogger("distributed.worker").warning(
        "rnn-course: %s; removed %d scratch course(s) of dead workers", 
        f"student code runs in the sandbox ({how})" if available else f"this worker will refuse to grade: {how}",
        len(removed))


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


class ClusterSecurityError(ValueError):
    """The cluster's address or certificates would let others run code as the instructor."""


def scheduler_security(address, insecure=False, tls=None):
    """The ``Security`` to reach the scheduler at ``address`` with, or None for ``insecure`` tcp.

    ``tls``: a folder made by ``cluster_tls`` (its client certificate); without it, Dask's
    own configuration (``distributed.comm.tls``) must name a client certificate.
    """
    from distributed.security import Security

    scheme = address.split("://", 1)[0] if "://" in address else "tcp"
    if scheme == "tcp":
        if not insecure:
            raise ClusterSecurityError(
                f"refusing to grade through {address}: a plain tcp:// scheduler has no authentication, so any "
                "account or graded cell that reaches its port can run code as you on the workers; start the "
                "cluster with TLS (python -m rnn_helpers.instructor.cluster_tls DIR prints the commands) and "
                "pass --scheduler tls://HOST:PORT --tls DIR, or add --insecure if nobody else can reach it")
        return None
    if scheme != "tls":
        raise ClusterSecurityError(f"the scheduler address should start with tls:// (or tcp:// with --insecure), "
                                   f"but got {address!r}")
    if tls is not None:
        from . import cluster_tls

        problems = cluster_tls.check_folder(tls, "client")
        if problems:
            raise ClusterSecurityError(f"the TLS folder {tls} cannot be used: " + "; ".join(problems))
        return cluster_tls.security(tls, "client")
    configured = Security()
    if not (configured.tls_ca_file and configured.tls_client_cert):
        raise ClusterSecurityError(f"{address} needs a client certificate: pass --tls DIR (the folder that "
                                   "`python -m rnn_helpers.instructor.cluster_tls DIR` made)")
    configured.require_encryption = True
    return configured


def dask_executor(address, security=None):
    """A client of the Dask scheduler at ``address`` (see ``scheduler_security``); it has ``submit`` too."""
    from distributed import Client

    return Client(address, timeout="30s", security=security)


def as_completed(futures):
    """The futures of either executor, as they finish."""
    if futures and type(futures[0]).__module__.startswith("distributed"):
        from distributed import as_completed as dask_as_completed
        return dask_as_completed(futures)
    return concurrent.futures.as_completed(futures)
