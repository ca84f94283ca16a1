"""Grading on a Dask cluster for real: a scheduler and two worker processes on 127.0.0.1.

The class (the solution and the solution with one exercise wrong, from tests/grading_cases/)
is graded by one local worker, then through the cluster while one of its two workers is
killed in the middle of the run, then through the cluster again: the same grades each time.
"""
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from conftest import ROOT, grade_cells, load_grading_case, read_notebook, source_notebook
from rnn_helpers.instructor.grade_class import GradingRun
from test_hostile_submissions import scores_by_cell, submit

pytestmark = pytest.mark.xdist_group("cluster")
ASSIGNMENT = "01_sequences"
STARTUP_SECONDS = 60


def make_course(folder):
    folder.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", folder)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, folder / "solutions" / ASSIGNMENT)
    solution = read_notebook(source_notebook(ASSIGNMENT))
    submit(folder, "perfect", solution)
    case = load_grading_case(ASSIGNMENT)
    wrong = read_notebook(source_notebook(ASSIGNMENT))
    grade_cells(wrong)[case["wrong_exercise"]][0].source = case["wrong_source"]
    submit(folder, "one-wrong", wrong)
    return folder


def wait_for(condition, what, seconds=STARTUP_SECONDS):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {seconds} s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    log = open(folder / "cluster.log", "w")
    dask = [sys.executable, "-m", "dask"]
    processes = {"scheduler": subprocess.Popen(
        dask + ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                "--scheduler-file", str(scheduler_file)], stdout=log, stderr=log, env=env)}
    try:
        wait_for(scheduler_file.exists, "the scheduler")
        for name in ("worker-a", "worker-b"):
            processes[name] = subprocess.Popen(
                dask + ["worker", "--scheduler-file", str(scheduler_file), "--name", name, "--nthreads", "1",
                        "--no-nanny", "--no-dashboard", "--death-timeout", "60"],
                stdout=log, stderr=log, env=env)
        from distributed import Client
        address = json.loads(scheduler_file.read_text())["address"]
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=STARTUP_SECONDS)
        yield address, processes
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


def kill_a_busy_worker(address, processes, killed):
    """SIGKILL the first worker seen executing a submission."""
    from distributed import Client

    with Client(address, timeout="30s") as client:
        def busy():
            names = {addr: info["name"] for addr, info in client.scheduler_info()["workers"].items()}
            working = [names.get(addr) for addr, keys in client.processing().items() if keys]
            return working[0] if working else None
        wait_for(lambda: busy() is not None, "a busy worker", seconds=300)
        name = busy()
        time.sleep(2)  # well inside the submission's execution
        processes[name].send_signal(signal.SIGKILL)
        killed.append(name)


def test_cluster_grades_like_one_local_worker_and_survives_a_killed_worker(cluster, tmp_path):
    address, processes = cluster
    local, _ = grade(make_course(tmp_path / "local"), workers=1)
    assert local.problems == []
    expected = scores_by_cell(tmp_path / "local")

    course = make_course(tmp_path / "cluster")
    killed = []
    killer = threading.Thread(target=kill_a_busy_worker, args=(address, processes, killed), daemon=True)
    killer.start()
    run, log = grade(course, scheduler=address)
    killer.join(timeout=60)
    assert killed, "no worker was killed during the run"
    assert run.problems == [], log
    assert scores_by_cell(course) == expected
    assert (course / "grades.csv").read_text() == (tmp_path / "local" / "grades.csv").read_text()

    rerun, log = grade(course, scheduler=address)
    assert rerun.problems == [], log
    assert scores_by_cell(course) == expected
