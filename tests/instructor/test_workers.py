"""rnn_helpers.instructor.workers without a cluster: private scratch courses that a killed
worker does not leave behind, a Dask worker that refuses to grade outside the sandbox, and
the course's TLS certificates (cluster_tls)."""
import concurrent.futures
import io
import os
import stat
import subprocess
import sys
import types

import pytest

from rnn_helpers.instructor import cluster_tls, sandbox, workers


@pytest.fixture
def tmpdir_env(tmp_path, monkeypatch):
    """TMPDIR of this test only (tempfile caches the folder it found)."""
    import tempfile

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    return tmp_path


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def dead_pid():
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_scratch_folders_are_private_and_the_dead_ones_are_removed(tmpdir_env):
    mine = workers.scratch_folder("task")
    root = workers.scratch_root()
    assert mine.parent == root == tmpdir_env / f"rnn-course-scratch-{os.geteuid()}"
    assert mode(root) == 0o700 and mode(mine) == 0o700
    killed = root / f"task-{dead_pid()}-12345-abcd"          # what a SIGKILLed worker leaves
    (killed / "gradebook.db").parent.mkdir()
    (killed / "gradebook.db").write_text("hidden tests")
    reused = root / f"task-{os.getpid()}-1-efgh"              # a live pid, but another process's start time
    reused.mkdir()
    stray = root / "notes"                                     # not a scratch folder: left alone
    stray.mkdir()
    assert sorted(workers.clean_scratch()) == sorted([killed, reused])
    assert mine.is_dir() and stray.is_dir() and not killed.exists() and not reused.exists()


def test_the_scratch_of_a_killed_worker_not_yet_reaped_is_removed(tmpdir_env):
    worker = subprocess.Popen(["sleep", "60"])
    try:
        started = workers._process_start(worker.pid)
        folder = workers.scratch_root() / f"task-{worker.pid}-{started}-abcd"
        folder.mkdir()
        assert workers.clean_scratch() == []                  # its process runs: in use
        worker.kill()
        os.waitid(os.P_PID, worker.pid, os.WEXITED | os.WNOWAIT)   # dead, not reaped: a zombie
        assert workers.clean_scratch() == [folder] and not folder.exists()
    finally:
        worker.kill()
        worker.wait()


def test_a_scratch_root_made_by_someone_else_is_refused(tmpdir_env):
    root = tmpdir_env / f"rnn-course-scratch-{os.geteuid()}"
    root.mkdir(mode=0o777)
    root.chmod(0o777)                      # made first in a shared /tmp, open to others
    with pytest.raises(RuntimeError, match="is not a private folder of this account"):
        workers.scratch_root()
    root.rmdir()
    (tmpdir_env / "elsewhere").mkdir(mode=0o700)
    root.symlink_to(tmpdir_env / "elsewhere")
    with pytest.raises(RuntimeError, match="a link, another account's, or open to others"):
        workers.scratch_root()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make a folder owned by another account")
def test_a_scratch_root_owned_by_another_account_is_refused(tmpdir_env):
    root = tmpdir_env / f"rnn-course-scratch-{os.geteuid()}"
    root.mkdir(mode=0o700)
    os.chown(root, 65534, 65534)
    with pytest.raises(RuntimeError, match="is not a private folder"):
        workers.scratch_root()


def fake_worker(**paths):
    security = types.SimpleNamespace(tls_worker_key=None, tls_worker_cert=None, tls_ca_file=None)
    vars(security).update(paths)
    return types.SimpleNamespace(security=security)


TASK = {"assignment": "01_sequences", "student": "alice", "isolation": "none", "config": "", "gradebook": b"",
        "source_files": {}, "files": {}, "cell_timeout": None}


def test_a_dask_worker_without_bubblewrap_refuses_the_task_and_says_so(tmpdir_env, monkeypatch):
    monkeypatch.setattr(workers, "dask_worker", lambda: fake_worker())
    monkeypatch.setattr(sandbox, "availability", lambda: (False, "bwrap is not installed (apt-get install bubblewrap)"))
    result = workers.grade_submission(dict(TASK))                 # asks for 'none': a worker never obliges
    assert not result["success"] and result["isolation"] == "refused" and result["files"] == {}
    assert result["error"].startswith(f"worker {result['worker']} refused to grade: it cannot run student code in "
                                      "the sandbox there (bwrap is not installed")
    assert not (tmpdir_env / f"rnn-course-scratch-{os.geteuid()}").exists(), "nothing was unpacked"


@pytest.mark.skipif(not sandbox.availability()[0], reason=f"needs the grading sandbox: {sandbox.availability()[1]}")
def test_a_dask_worker_whose_key_the_sandbox_shows_refuses_the_task(monkeypatch):
    key = os.path.join(sys.prefix, "worker-key.pem")
    monkeypatch.setattr(workers, "dask_worker", lambda: fake_worker(tls_worker_key=key))
    result = workers.grade_submission(dict(TASK))
    assert not result["success"] and "its TLS file" in result["error"] and "sandbox shows to the graded kernel" in result["error"]


def test_certificates_are_private_signed_by_their_authority_and_not_remade(tmp_path):
    tls = cluster_tls.make_certificates(tmp_path / "tls")
    assert mode(tls) == 0o700
    assert all(mode(cluster_tls.key_file(tls, role)) == 0o600 for role in cluster_tls.ROLES)
    assert sorted(p.name for p in tls.iterdir()) == sorted(
        ["ca.pem"] + [f"{r}{s}.pem" for r in cluster_tls.ROLES for s in ("", "-key")]), "the authority's key was kept"
    assert cluster_tls.check_folder(tls, "worker") == [] and cluster_tls.check_folder(tls, "client") == []
    with pytest.raises(ValueError, match="already holds ca.pem"):
        cluster_tls.make_certificates(tls)
    other = cluster_tls.make_certificates(tmp_path / "other")
    (tls / "client.pem").unlink()
    (tls / "client.pem").write_bytes((other / "client.pem").read_bytes())    # a certificate of another run
    cluster_tls.key_file(tls, "worker").chmod(0o644)
    assert any("is not signed by" in p for p in cluster_tls.check_folder(tls, "client"))
    assert any("chmod go-rwx" in p for p in cluster_tls.check_folder(tls, "worker"))
    assert "missing" in cluster_tls.check_folder(tmp_path / "nowhere")[0]


def test_the_certificates_command_prints_the_secure_commands(tmp_path, capsys):
    assert cluster_tls.main([str(tmp_path / "tls")]) == 0
    out = capsys.readouterr().out
    assert "dask scheduler --protocol tls" in out and "--tls-key" in out and "tls://" in out and "tcp://" not in out
    assert cluster_tls.main([str(tmp_path / "tls")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


class InlineExecutor:
    """Runs each task at once in this process (where the test's monkeypatches hold)."""

    def submit(self, function, *args):
        future = concurrent.futures.Future()
        future.set_result(function(*args))
        return future


def test_grade_class_reports_a_refusing_worker_instead_of_a_score(tmp_path, monkeypatch):
    from rnn_helpers.instructor.grade_class import GradingRun

    course = tmp_path / "course"
    (course / "solutions" / "01_sequences").mkdir(parents=True)
    (course / "submitted" / "alice" / "01_sequences").mkdir(parents=True)
    (course / "submitted" / "alice" / "01_sequences" / "01_sequences.ipynb").write_text("{}")
    (course / "nbgrader_config.py").write_text("")
    out = io.StringIO()
    run = GradingRun(course, workers=1, out=out)
    try:
        monkeypatch.setattr(workers, "dask_worker", lambda: fake_worker())
        monkeypatch.setattr(sandbox, "availability", lambda: (False, "bwrap is not installed"))
        monkeypatch.setattr(run, "executor", lambda: InlineExecutor())
        run._gradebook_bytes = b""
        run.grade_submissions([("01_sequences", "alice")])
    finally:
        run.close()
    [(student, assignment, what)] = run.problems
    assert (student, assignment) == ("alice", "01_sequences")
    assert what.startswith("not graded: worker ") and "refused to grade" in what and "install bubblewrap" in what
    assert "NOT graded (a worker refused" in out.getvalue() and run.timings == []
