"""Grading on a Dask cluster for real: a TLS scheduler and two worker processes on 127.0.0.1,
with the course's certificates (rnn_helpers.instructor.cluster_tls).

The class (the solution and the solution with one exercise wrong, from tests/grading_cases/)
is graded by one local worker, then through the cluster while one of its two workers is
killed in the middle of the run, then through the cluster again: the same grades each time,
and the killed worker's scratch course is gone. A client without the course's certificate
cannot submit a task; graded cells that try it (the slow hostile cases) gain nothing.
"""
import copy
import gc
import hashlib
import io
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import threading
import time

import nbformat
import pytest

from conftest import (ROOT, autograded_tests, grade_cells, load_grading_case, read_notebook, source_notebook,
                      student_notebook)
from rnn_helpers.instructor import cluster_tls, sandbox, workers
from rnn_helpers.instructor.grade_class import GradingRun
from test_hostile_submissions import RIGHT_COUNT, cell, scores_by_cell, submit

pytestmark = pytest.mark.xdist_group("cluster")
ASSIGNMENT = "01_sequences"
STARTUP_SECONDS = 60
#: A line of 01's hidden tests: it must never reach a student.
HIDDEN_LINE = "(300, 1024, 10000, 7)"


def make_course(folder, extra=None):
    """The solution, the solution with one exercise wrong and ``extra`` {student: notebook}."""
    folder.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, folder / "solutions" / ASSIGNMENT)
    solution = read_notebook(source_notebook(ASSIGNMENT))
    submit(folder, "perfect", solution)
    case = load_grading_case(ASSIGNMENT)
    wrong = read_notebook(source_notebook(ASSIGNMENT))
    grade_cells(wrong)[case["wrong_exercise"]][0].source = case["wrong_source"]
    submit(folder, "one-wrong", wrong)
    for student, nb in (extra or {}).items():
        submit(folder, student, nb)
    return folder


def wait_for(condition, what, seconds=STARTUP_SECONDS):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {seconds} s")
        time.sleep(0.2)


def tls_args(folder, role):
    return ["--tls-ca-file", str(folder / cluster_tls.CA_FILE), "--tls-cert", str(cluster_tls.cert_file(folder, role)),
            "--tls-key", str(cluster_tls.key_file(folder, role))]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """(address, worker processes, TLS folder, the workers' TMPDIR) of a TLS cluster on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("dask")
    tls = cluster_tls.make_certificates(folder / "tls")
    scratch = folder / "worker-tmp"
    scratch.mkdir(mode=0o700)
    scheduler_file = folder / "scheduler.json"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    log = open(folder / "cluster.log", "w")
    dask = [sys.executable, "-m", "dask"]
    processes = {"scheduler": subprocess.Popen(
        dask + ["scheduler", "--protocol", "tls", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                "--scheduler-file", str(scheduler_file)] + tls_args(tls, "scheduler"), stdout=log, stderr=log, env=env)}
    try:
        wait_for(scheduler_file.exists, "the scheduler")
        for name in ("worker-a", "worker-b"):
            processes[name] = subprocess.Popen(
                dask + ["worker", "--scheduler-file", str(scheduler_file), "--name", name, "--nthreads", "1",
                        "--no-nanny", "--no-dashboard", "--death-timeout", "60",
                        "--preload", "rnn_helpers.instructor.workers"] + tls_args(tls, "worker"),
                stdout=log, stderr=log, env=dict(env, TMPDIR=str(scratch)))
        from distributed import Client
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tls://")
        with Client(address, timeout="30s", security=cluster_tls.security(tls)) as client:
            client.wait_for_workers(2, timeout=STARTUP_SECONDS)
        yield address, processes, tls, scratch
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def grade(course, **kwargs):
    out = io.StringIO()
    run = GradingRun(course, cell_timeout=60, out=out, **kwargs)
    try:
        run.grade([ASSIGNMENT], check=kwargs.get("scheduler") is not None)
    finally:
        run.close()
    return run, out.getvalue()


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """Scores and grades.csv of the class graded by one local worker."""
    course = make_course(tmp_path_factory.mktemp("local") / "course")
    run, log = grade(course, workers=1)
    assert run.problems == [], log
    return scores_by_cell(course), (course / "grades.csv").read_text()


def kill_a_busy_worker(address, tls, processes, killed):
    """SIGKILL the first worker seen executing a submission."""
    from distributed import Client

    with Client(address, timeout="30s", security=cluster_tls.security(tls)) as client:
        def busy():
            names = {addr: info["name"] for addr, info in client.scheduler_info()["workers"].items()}
            working = [names.get(addr) for addr, keys in client.processing().items() if keys]
            return working[0] if working else None
        wait_for(lambda: busy() is not None, "a busy worker", seconds=1800)  # generate_assignment comes first
        name = busy()
        time.sleep(2)  # well inside the submission's execution
        processes[name].send_signal(signal.SIGKILL)
        killed.append(name)


def scratch_left(scratch):
    """Folders and files under the workers' scratch root."""
    root = scratch / f"rnn-course-scratch-{os.geteuid()}"
    return sorted(p.relative_to(scratch).as_posix() for p in root.rglob("*")) if root.exists() else []


@pytest.mark.slow
def test_tls_cluster_grades_like_one_local_worker_survives_a_killed_worker_and_leaves_no_scratch(
        cluster, baseline, tmp_path):
    address, processes, tls, scratch = cluster
    expected, expected_csv = baseline
    course = make_course(tmp_path / "cluster")
    killed = []
    killer = threading.Thread(target=kill_a_busy_worker, args=(address, tls, processes, killed), daemon=True)
    killer.start()
    run, log = grade(course, scheduler=address, tls=tls)
    killer.join(timeout=60)
    assert killed, "no worker was killed during the run"
    assert "(TLS, the course's certificates)" in log
    assert run.problems == [], log
    assert scores_by_cell(course) == expected
    assert (course / "grades.csv").read_text() == expected_csv
    # The killed worker's scratch course (hidden tests in its gradebook copy) was removed,
    # at the latest by the surviving workers when the run ended (the killed worker is still
    # this test's unreaped child, a zombie: gone all the same).
    assert scratch_left(scratch) == []

    rerun, log = grade(course, scheduler=address, tls=tls)
    assert rerun.problems == [], log
    assert scores_by_cell(course) == expected


def _payload(marker):
    """A task that, if it ever ran on a worker, would leave ``marker`` behind."""
    def task():
        pathlib.Path(marker).write_text("ran as the worker's account")
        return os.getuid()
    return task


def test_clients_without_the_course_certificate_cannot_submit_tasks(cluster, tmp_path):
    from distributed import Client
    from distributed.security import Security

    address, _, tls, _ = cluster
    port = address.rsplit(":", 1)[1]
    attempts = {"plain tcp": (f"tcp://127.0.0.1:{port}", None),
                "no certificate": (address, None),
                "a certificate of its own": (address, Security.temporary())}
    for name, (target, security) in attempts.items():
        marker = tmp_path / name.replace(" ", "-")
        with pytest.raises(Exception):
            with Client(target, security=security, timeout="5s") as client:
                client.submit(_payload(marker), pure=False).result(timeout=10)
        assert not marker.exists(), f"{name}: a task ran on the cluster"
        gc.collect()   # the refused Client's finaliser, collected while the next one starts, deadlocks distributed
    with Client(address, security=cluster_tls.security(tls), timeout="30s") as client:   # the course's own works
        assert client.submit(_payload(tmp_path / "ok"), pure=False).result(timeout=60) == os.getuid()


def test_the_doctor_finds_the_tls_cluster_sound_and_a_foreign_certificate_refused(cluster):
    from rnn_helpers.instructor import doctor

    address, _, tls, _ = cluster
    findings = doctor.check_cluster(address, str(tls))
    report = "\n".join(map(str, findings))
    assert [f.status for f in findings] == [doctor.OK] * len(findings), report
    assert "refuses a certificate the course did not sign" in report
    assert report.count("sandboxes student code") >= 1          # one worker may have been killed before


# -- the slow hostile cases: graded cells that go for the cluster -------------------------------

def _attack(code):
    def change(nb, ctx):
        cell(nb, "ex-param-count").source = RIGHT_COUNT + code.format(**ctx)
    return change


CONNECT = ("def pwn():\n"
           "    import pathlib\n"
           "    pathlib.Path({marker!r}).write_text(open({solution!r}).read())\n"
           "try:\n"
           "    from distributed import Client\n"
           "    from distributed.security import Security\n"
           "    with Client({target!r}, security={security}, timeout='5s') as client:\n"
           "        print('ran:', client.submit(pwn, pure=False).result(timeout=10))\n"
           "except Exception as error:\n"
           "    print('no task:', type(error).__name__)\n")
HOSTILE = {
    # name: attack source (formatted with the cluster's paths)
    "dask-plain-tcp": CONNECT.replace("{target!r}", "{tcp!r}").replace("{security}", "None"),
    "dask-own-certificate": CONNECT.replace("{target!r}", "{address!r}").replace("{security}", "Security.temporary()"),
    "dask-worker-key": (
        "try:\n"
        "    print(open({worker_key!r}).read())\n"
        "except OSError as error:\n"
        "    print('no key:', type(error).__name__)\n"
        + CONNECT.replace("{target!r}", "{address!r}").replace(
            "{security}", "Security(tls_ca_file={ca!r}, tls_client_cert={worker_cert!r}, "
                          "tls_client_key={worker_key!r}, require_encryption=True)")),
    # small files whole, and the lines of large ones that could hold a secret (printing every
    # byte of /tmp, the kernel's own copy of the submission included, would only meet the output limit)
    "worker-scratch-snoop": (
        "import os\n"
        "for top in ({scratch!r}, '/tmp'):\n"
        "    for folder, _, files in os.walk(top):\n"
        "        for name in files:\n"
        "            try:\n"
        "                text = open(os.path.join(folder, name), 'rb').read().decode('latin-1')\n"
        "            except OSError:\n"
        "                continue\n"
        "            if len(text) > 65536:\n"
        "                text = '\\n'.join(line for line in text.splitlines() if any(\n"
        "                    word in line for word in ('secret', 'HIDDEN', '(300, 1024', 'PRIVATE KEY')))\n"
        "            print(folder, name, text)\n"),
    "instructor-home-snoop": (
        "import os\n"
        "for path in ({decoy!r}, {tls!r}, os.path.expanduser('~')):\n"
        "    for folder, _, files in os.walk(path):\n"
        "        for name in files:\n"
        "            try:\n"
        "                print(open(os.path.join(folder, name)).read())\n"
        "            except (OSError, UnicodeDecodeError):\n"
        "                pass\n"),
}


def answered_student_notebook():
    """The student version with the solution's answers: what a student hands in (no hidden tests)."""
    nb = read_notebook(student_notebook(ASSIGNMENT))
    answers = {gid: c.source for gid, (c, meta) in grade_cells(read_notebook(source_notebook(ASSIGNMENT))).items()
               if meta.get("solution")}
    for gid, (c, meta) in grade_cells(nb).items():
        if gid in answers:
            c.source = answers[gid]
    assert HIDDEN_LINE not in nbformat.writes(nb)
    return nb


def tree_hashes(*roots):
    """{path: sha256} of every file under ``roots``."""
    hashes = {}
    for root in roots:
        for path in sorted([root] if root.is_file() else root.rglob("*")):
            if path.is_file():
                hashes[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


@pytest.fixture(scope="module")
def hostile_cluster_class(cluster, tmp_path_factory):
    address, _, tls, scratch = cluster
    base = tmp_path_factory.mktemp("hostile-cluster")
    decoy = base / "instructor-home"
    decoy.mkdir(mode=0o700)
    secret = "instructor-secret-" + hashlib.sha256(os.urandom(16)).hexdigest()[:16]
    (decoy / "notes.txt").write_text(secret)
    ctx = {"address": address, "tcp": "tcp://" + address.split("://", 1)[1], "scratch": str(scratch),
           "worker_key": str(cluster_tls.key_file(tls, "worker")), "worker_cert": str(cluster_tls.cert_file(tls, "worker")),
           "ca": str(tls / cluster_tls.CA_FILE), "tls": str(tls), "decoy": str(decoy),
           "solution": str(base / "course" / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")}
    answered = answered_student_notebook()
    extra = {}
    for name, code in HOSTILE.items():
        nb = copy.deepcopy(answered)
        _attack(code)(nb, dict(ctx, marker=str(base / f"PWNED-{name}")))
        extra[name] = nb
    course = make_course(base / "course", extra)
    protected = [course / "solutions", course / "nbgrader_config.py", tls, decoy] + [
        course / "submitted" / student for student in ("perfect", "one-wrong")]
    before = tree_hashes(*protected)
    run, log = grade(course, scheduler=address, tls=tls)
    secrets = [secret, HIDDEN_LINE] + [line for role in cluster_tls.ROLES
                                       for line in cluster_tls.key_file(tls, role).read_text().splitlines()
                                       if line and not line.startswith("-----")]
    return course, run, log, before, tree_hashes(*protected), base, secrets


def expected_scores():
    """{student: {grade_id: score}} of a class without hostile submissions (the grading pipeline's
    contract: the solution earns everything, the wrong answer loses exactly its listed tests)."""
    tests = autograded_tests(read_notebook(source_notebook(ASSIGNMENT)))
    failing = set(load_grading_case(ASSIGNMENT)["failing_tests"])
    return {"perfect": dict(tests), "one-wrong": {gid: 0.0 if gid in failing else pts for gid, pts in tests.items()}}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_graded_cell_that_goes_for_the_cluster_gains_nothing(hostile_cluster_class, case):
    course, run, log, before, after, base, secrets = hostile_cluster_class
    assert run.problems == [], log
    assert after == before, "files outside the grading folders changed"
    assert not list(base.glob("PWNED-*")), "a graded cell ran a task on the cluster"
    scores = scores_by_cell(course)
    expected = expected_scores()
    assert {s: scores[s] for s in expected} == expected          # the others' grades are untouched
    assert scores[case] == expected["perfect"]                   # the attack costs and earns nothing
    feedback = (course / "feedback" / case / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    for secret in secrets:
        assert secret not in feedback, f"the feedback of {case} shows {secret[:20]!r}..."


# -- refusals, without a cluster -------------------------------------------------------------------

@pytest.fixture
def small_course(tmp_path):
    course = tmp_path / "course"
    (course / "solutions" / ASSIGNMENT).mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    return course


def test_grade_class_refuses_a_plain_tcp_scheduler_without_insecure(small_course, capsys):
    from rnn_helpers.instructor import grade_class

    assert grade_class.main(["--course", str(small_course), "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: refusing to grade through tcp://127.0.0.1:8786")
    assert "no authentication" in error and "--insecure" in error and "Traceback" not in error
    assert grade_class.main(["--course", str(small_course), "--scheduler", "127.0.0.1:8786"]) == 2  # tcp by default
    run = GradingRun(small_course, scheduler="tcp://127.0.0.1:8786", insecure=True)
    run.close()
    assert run.security is None and "sandbox of its Dask worker" in run.isolation_note


def test_grade_class_needs_the_course_certificates_for_tls(small_course, tmp_path, capsys, monkeypatch):
    from rnn_helpers.instructor import grade_class

    monkeypatch.setenv("DASK_CONFIG", str(tmp_path / "no-dask-config"))
    assert grade_class.main(["--course", str(small_course), "--scheduler", "tls://127.0.0.1:8786"]) == 2
    assert "needs a client certificate: pass --tls DIR" in capsys.readouterr().err
    assert grade_class.main(["--course", str(small_course), "--scheduler", "tls://127.0.0.1:8786",
                             "--tls", str(tmp_path / "nowhere")]) == 2
    assert "cluster_tls" in capsys.readouterr().err
    tls = cluster_tls.make_certificates(tmp_path / "tls")
    run = GradingRun(small_course, scheduler="tls://127.0.0.1:8786", tls=tls)
    run.close()
    assert run.security.require_encryption and run.security.tls_client_cert == str(tls / "client.pem")
    with pytest.raises(workers.ClusterSecurityError, match="isolation 'none' cannot be used with --scheduler"):
        GradingRun(small_course, isolation="none", scheduler="tls://127.0.0.1:8786", tls=tls)
    with pytest.raises(workers.ClusterSecurityError, match="should start with tls://"):
        GradingRun(small_course, scheduler="ws://127.0.0.1:8786", tls=tls)


@pytest.mark.skipif(not sandbox.availability()[0], reason=f"needs the grading sandbox: {sandbox.availability()[1]}")
def test_tls_files_where_the_sandbox_shows_them_are_refused(tmp_path):
    assert cluster_tls.check_folder(cluster_tls.make_certificates(tmp_path / "tls")) == []
    shown = pathlib.Path(sys.prefix) / f"tls-{os.getpid()}"     # the Python environment: every kernel sees it
    try:
        cluster_tls.make_certificates(shown)
        assert cluster_tls.sandbox_visible(cluster_tls.key_file(shown, "worker")) == sys.prefix
        problems = cluster_tls.check_folder(shown, "worker")
        assert len(problems) == 1 and "which the grading sandbox shows to every graded kernel" in problems[0]
    finally:
        shutil.rmtree(shown, ignore_errors=True)
