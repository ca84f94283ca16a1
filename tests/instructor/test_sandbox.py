"""The grading sandbox, its limits and the grading guard, each attacked from a kernel.

The kernel-level tests start real graded kernels (``sandbox.GradingKernelManager``) and run
probe cells in them; they need bubblewrap (skipped with the reason otherwise). The tests of
whole classes are in test_hostile_submissions.py.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import time

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader import utils
from traitlets.config import Config

from conftest import ROOT, Listener, start_scheduler
from rnn_helpers.instructor import integrity, limits, sandbox
from rnn_helpers.instructor.autograding import ResilientExecute, grading_notes

AVAILABLE, WHY = sandbox.availability()
needs_bwrap = pytest.mark.skipif(not AVAILABLE, reason=f"needs the grading sandbox: {WHY}")
SECRET = "GRADER-SECRET-VALUE-3f1b"


# -- is bubblewrap usable here? ------------------------------------------------------------------------

def fake_bwrap(folder, version, error=None):
    """A stand-in bwrap on PATH: prints ``version``; any other call fails with ``error`` (or runs)."""
    folder.mkdir(exist_ok=True)
    script = folder / "bwrap"
    script.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        if [ "$1" = "--version" ]; then echo {version!r}; exit 0; fi
        {f"echo {error!r} >&2; exit 1" if error else "exit 0"}
        """))
    script.chmod(0o755)
    return folder


@pytest.mark.parametrize("kind", ["missing", "too-old", "no-namespaces", "works"])
def test_the_probe_says_which_bubblewrap_it_found_and_why_it_cannot_be_used(tmp_path, monkeypatch, kind):
    folders = {"missing": tmp_path / "empty",
               "too-old": fake_bwrap(tmp_path / "old", "bubblewrap 0.4.0", "bwrap: Unknown option --size"),
               "no-namespaces": fake_bwrap(tmp_path / "denied", "bubblewrap 0.8.0",
                                           "bwrap: No permissions to creating new namespace"),
               "works": fake_bwrap(tmp_path / "fine", "bubblewrap 0.9.0")}
    folders["missing"].mkdir()
    monkeypatch.setenv("PATH", str(folders[kind]))
    sandbox.availability.cache_clear()
    try:
        ok, why = sandbox.availability()
    finally:
        sandbox.availability.cache_clear()
    expected = {"missing": (False, "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"),
                "too-old": (False, "bubblewrap 0.4.0 is too old for the grading sandbox (bwrap: Unknown option --size): "
                                   "it needs bubblewrap 0.8 or newer"),
                "no-namespaces": (False, "bubblewrap 0.8.0 cannot create a sandbox with its own network here: "
                                         "bwrap: No permissions to creating new namespace"),
                "works": (True, f"bubblewrap 0.9.0 ({folders['works'] / 'bwrap'}), no network")}[kind]
    assert (ok, why[:len(expected[1])]) == expected


def test_grading_without_a_usable_sandbox_says_why_or_refuses(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_bwrap(tmp_path / "old", "bubblewrap 0.4.0", "bwrap: Unknown option --size")))
    sandbox.availability.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="isolation 'sandbox' was asked for, but bubblewrap 0.4.0 is too old"):
            grade_notebook([answer_cell("x = 1", "ex-x")], tmp_path, ResilientExecute__isolation="sandbox")
    finally:
        sandbox.availability.cache_clear()


# -- the command line ------------------------------------------------------------------------------

def command(tmp_path="/tmp/course/autograded/s/a", limits_dict=None):
    return sandbox.bwrap_command(tmp_path, "/tmp/kernel-1.json", {"x": 1}, info_fd=5, limits=limits_dict)


def test_nothing_is_bound_before_the_private_tmp():
    # bwrap applies its arguments in order: a bind made before `--tmpfs /tmp` would be hidden
    # by it, and a course or environment living under /tmp would vanish from the kernel's view.
    cmd = command()
    tmpfs = [i for i, arg in enumerate(cmd) if arg == "--tmpfs" and cmd[i + 1] == "/tmp"][0]
    binds = [cmd[i + 1] for i, arg in enumerate(cmd) if arg in ("--bind", "--ro-bind") and i > tmpfs]
    assert sys.prefix in binds and "/tmp/course/autograded/s/a" in binds and "/tmp/kernel-1.json" in binds
    early = [cmd[i + 1] for i, arg in enumerate(cmd[:tmpfs]) if arg in ("--bind", "--ro-bind")]
    assert not [path for path in early if path == "/tmp" or path.startswith("/tmp/")]


def test_the_kernel_imports_from_the_same_path_but_never_sees_a_course_folder(tmp_path, monkeypatch):
    # A folder on PYTHONPATH is bound read-only; a course folder on it (a clone put on
    # PYTHONPATH) is replaced by its Python packages, so solutions/ and the gradebook stay out.
    extra = tmp_path / "site"
    (extra / "mypkg").mkdir(parents=True)
    clone = tmp_path / "clone"
    (clone / "coursepkg").mkdir(parents=True)
    (clone / "coursepkg" / "__init__.py").write_text("")
    (clone / "solutions").mkdir()
    (clone / "nbgrader_config.py").write_text("")
    monkeypatch.setattr(sys, "path", sys.path + [str(extra), str(clone)])
    cmd = sandbox.bwrap_command(str(tmp_path / "work"), str(tmp_path / "kernel.json"), {})
    binds = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--ro-bind"]
    assert str(extra) in binds and str(clone / "coursepkg") in binds
    assert str(clone) not in binds and str(clone / "solutions") not in binds
    assert "PYTHONPATH" in sandbox._PASSED_ENV


def test_the_command_line_has_no_network_no_capabilities_and_no_writable_bind():
    cmd = command()
    assert "--share-net" not in cmd and ("--unshare-all" in cmd or "--unshare-net" in cmd)
    assert cmd[cmd.index("--cap-drop") + 1] == "ALL"
    added = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--cap-add"]
    assert added == (list(sandbox._ROOT_CAPABILITIES) if os.geteuid() == 0 else [])
    assert "--bind" not in cmd and "--proc" not in cmd, "nothing of this machine may be writable, no /proc"
    ro_binds = {cmd[i + 1]: cmd[i + 2] for i, arg in enumerate(cmd) if arg == "--ro-bind"}
    assert ro_binds["/tmp/kernel-1.json"] == sandbox.CONNECTION
    assert ro_binds["/tmp/course/autograded/s/a"] == sandbox.SUBMISSION
    assert "--remount-ro" in cmd and cmd[cmd.index("--remount-ro") + 1] == "/dev"
    assert cmd[cmd.index("--info-fd") + 1] == "5"


def test_the_scratch_space_has_the_configured_size():
    cmd = command(limits_dict=dict(limits.GradingLimits().as_dict(), disk_mb=50))
    sizes = {cmd[i + 3]: int(cmd[i + 1]) for i, arg in enumerate(cmd) if arg == "--size"}
    assert sizes == {"/tmp": 50 * 2 ** 20, "/dev/shm": 50 * 2 ** 20}
    cmd = command()
    sizes = {cmd[i + 3]: int(cmd[i + 1]) for i, arg in enumerate(cmd) if arg == "--size"}
    assert sizes == {"/tmp": 200 * 2 ** 20, "/dev/shm": limits.SHM_MB * 2 ** 20}


def test_limits_are_checked_and_say_what_enforces_them():
    defaults = limits.GradingLimits().as_dict()
    assert defaults == {"memory_mb": 2048, "processes": 256, "disk_mb": 200, "output_cell_kb": 1024,
                        "output_line_chars": 10000}
    with pytest.raises(ValueError, match="GradingLimits.processes should be at least 16"):
        limits.check(dict(defaults, processes=4))
    with pytest.raises(ValueError, match="GradingLimits.disk_mb should be a whole number"):
        limits.check(dict(defaults, disk_mb=0))
    line = limits.enforcement(defaults)
    cgroup, how = limits.cgroup_support()
    assert ("for the whole sandbox" in line) == cgroup and how in line
    assert "rlimit" in line and "256 processes" in line and "200 MB of scratch space" in line
    assert limits.enforcement(defaults, sandboxed=False).startswith("limits: none")


def test_a_cgroup_scope_is_used_where_systemd_run_can_make_one(tmp_path, monkeypatch):
    # This machine may have no cgroup v2: a stand-in systemd-run records its arguments and
    # runs the rest of the command, as `systemd-run --scope` does.
    fake = tmp_path / "systemd-run"
    fake.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, os, sys
        args = sys.argv[1:]
        with open({str(tmp_path / 'calls.json')!r}, 'a') as f:
            f.write(json.dumps(args) + "\\n")
        if args[-1] == "true":
            sys.exit(0)
        rest = args[args.index("--") + 1:]
        os.execv(rest[0], rest)
        """))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    real_isfile = os.path.isfile
    monkeypatch.setattr(os.path, "isfile",
                        lambda p: True if p == "/sys/fs/cgroup/cgroup.controllers" else real_isfile(p))
    limits.cgroup_support.cache_clear()
    try:
        cgroup, how = limits.cgroup_support()
        assert cgroup, how
        prefix = limits.cgroup_prefix(dict(limits.GradingLimits().as_dict(), memory_mb=1024, processes=64))
        assert prefix[0] == str(fake) and "--scope" in prefix and prefix[-1] == "--"
        assert "MemoryMax=1024M" in prefix and "TasksMax=64" in prefix and "MemorySwapMax=0" in prefix
        assert ("--user" in prefix) == (os.geteuid() != 0)
        assert "for the whole sandbox" in limits.enforcement(limits.GradingLimits().as_dict())
        if AVAILABLE:
            outputs = run_cells(["print('started in the scope')"], tmp_path / "work")
            assert "started in the scope" in outputs[0][0]["text"]
            calls = [json.loads(line) for line in (tmp_path / "calls.json").read_text().splitlines()]
            assert any("bwrap" in " ".join(call) and "MemoryMax=2048M" in call for call in calls)
    finally:
        limits.cgroup_support.cache_clear()


def test_without_cgroup_v2_the_rlimits_apply_and_the_log_says_so():
    if os.path.isfile("/sys/fs/cgroup/cgroup.controllers"):
        pytest.skip("this machine has cgroup v2")
    cgroup, how = limits.cgroup_support()
    assert not cgroup and "no cgroup v2" in how
    assert limits.cgroup_prefix(limits.GradingLimits().as_dict()) == []
    assert "(rlimit; no cgroup here: no cgroup v2 hierarchy" in limits.enforcement(limits.GradingLimits().as_dict())


# -- kernels -------------------------------------------------------------------------------------

def run_cells(sources, workdir, timeout=120):
    """Run ``sources`` as the cells of one notebook in a graded kernel; their outputs."""
    workdir = pathlib.Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    client = NotebookClient(nb, timeout=timeout, kernel_manager_class=sandbox.kernel_manager_class(),
                            resources={"metadata": {"path": str(workdir)}}, allow_errors=True)
    client.execute()
    return [cell.outputs for cell in nb.cells]


def printed(outputs):
    return "".join(o.get("text", "") for o in outputs) + "".join(
        f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error")


PROBES = {
    "network": "",   # filled in with the ports
    "identity": textwrap.dedent("""\
        import os
        print("uid", os.getuid(), "gid", os.getgid(), "groups", os.getgroups())
        for name, attempt in [("setuid", lambda: os.setuid(0)), ("chroot", lambda: os.chroot("/")),
                              ("write-python", lambda: open(os.__file__, "a"))]:
            try:
                attempt()
                print(name, "ALLOWED")
            except OSError as error:
                print(name, "refused", type(error).__name__)
        """),
    "view": textwrap.dedent("""\
        import os
        print("cwd", os.getcwd())
        print("proc", os.path.exists("/proc/self"))
        print("root", sorted(os.listdir("/")))
        for path in [COURSE, SECRET_FILE, "/submission/new-file", "/dev/new-file", "/usr/new-file"]:
            try:
                with open(path, "a") as f:
                    f.write("x")
                print(path, "WRITABLE")
            except OSError as error:
                print(path, "refused", type(error).__name__)
        print("copied", sorted(os.listdir(".")))
        print("data files", len(os.listdir("many")))
        print("link followed", os.path.exists("loot.txt"))
        print("newline name", open("odd\\nname.txt").read())
        """),
    "links": textwrap.dedent("""\
        import os
        os.remove("notebook.ipynb")
        os.symlink(SECRET_FILE, "notebook.ipynb")
        os.symlink(SECRET_FILE, "planted.txt")
        print("planted")
        """),
    "environment": "import os\nprint(sorted(os.environ.items()))\n",
    "memory": textwrap.dedent("""\
        import numpy as np
        small = np.ones(2 ** 27)          # 1 GiB: under the limit
        print("1 GiB ok", small.nbytes)
        del small
        try:
            np.ones(3 * 2 ** 27)          # 3 GiB: over it
            print("3 GiB ALLOWED")
        except MemoryError as error:
            print("3 GiB refused", type(error).__name__)
        """),
    "processes": textwrap.dedent("""\
        import os, time
        children = []
        try:
            for _ in range(1000):
                pid = os.fork()
                if pid == 0:
                    time.sleep(60)
                    os._exit(0)
                children.append(pid)
        except OSError as error:
            print("fork refused after", len(children), type(error).__name__)
        for pid in children:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        """),
    "disk": textwrap.dedent("""\
        import os
        for path in ["filler", "/tmp/filler", "/dev/shm/filler"]:
            written = 0
            try:
                with open(path, "wb") as f:
                    for _ in range(400):
                        f.write(b"x" * 2 ** 20)
                        f.flush()
                        written += 1
                print(path, "ALLOWED", written)
            except OSError as error:
                print(path, "refused after", written, "MB", error.strerror)
            os.remove(path)
        """),
}


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    """One graded kernel runs every probe; a listener and a Dask scheduler wait on the loopback."""
    if not AVAILABLE:
        pytest.skip(f"needs the grading sandbox: {WHY}")
    base = tmp_path_factory.mktemp("probed")
    course = base / "course"
    (course / "solutions").mkdir(parents=True)
    (course / "solutions" / "answers.ipynb").write_text("solution")
    secret_file = base / "instructor-secret.txt"
    secret_file.write_text(SECRET)
    work = course / "autograded" / "student" / "assignment"
    (work / "many").mkdir(parents=True)
    for i in range(10000):
        (work / "many" / f"{i}.txt").write_text(str(i))
    (work / "notebook.ipynb").write_text("{}")
    (work / "odd\nname.txt").write_text("read")
    os.symlink(secret_file, work / "loot.txt")
    os.mkfifo(work / "a-fifo")
    listener = Listener()
    scheduler, port, log = start_scheduler(base)
    probes = dict(PROBES)
    probes["network"] = textwrap.dedent(f"""\
        import socket
        for port in ({listener.port}, {port}):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=3).sendall(b"hello")
                print(port, "REACHED")
            except OSError as error:
                print(port, "refused", type(error).__name__)
        """)
    setup = f"COURSE = {str(course / 'solutions' / 'answers.ipynb')!r}\nSECRET_FILE = {str(secret_file)!r}\n"
    os.environ["RNN_TEST_GRADER_SECRET"] = SECRET
    started = time.perf_counter()
    try:
        outputs = run_cells([setup] + list(probes.values()), work)
    finally:
        del os.environ["RNN_TEST_GRADER_SECRET"]
        scheduler.terminate()
        scheduler.wait(timeout=30)
    seconds = time.perf_counter() - started
    return {name: printed(out) for name, out in zip(probes, outputs[1:])}, dict(
        listener=listener, scheduler_log=log.read_text(), work=work, secret_file=secret_file, seconds=seconds)


@needs_bwrap
def test_a_graded_cell_cannot_reach_the_hosts_loopback_or_a_dask_scheduler(probed):
    results, facts = probed
    assert results["network"].count("refused ConnectionRefusedError") == 2, results["network"]
    assert facts["listener"].received == []
    assert "Receive client connection" not in facts["scheduler_log"]


@needs_bwrap
def test_the_kernel_has_no_rights_to_give_up(probed):
    results, _ = probed
    lines = results["identity"]
    assert "setuid refused" in lines and "chroot refused" in lines and "write-python refused" in lines, lines
    uid = int(lines.split()[1])
    if os.geteuid() == 0:
        assert sandbox.SANDBOX_UIDS[0] <= uid < sandbox.SANDBOX_UIDS[1], "as root, the kernel runs as an unused uid"
    else:
        assert uid == os.geteuid()


@needs_bwrap
def test_the_kernel_sees_a_copy_of_its_folder_and_nothing_of_the_instructors(probed):
    results, facts = probed
    view = results["view"]
    assert f"cwd {sandbox.WORK}" in view and "proc False" in view
    for path in ("answers.ipynb", "instructor-secret.txt", "/submission/new-file", "/dev/new-file", "/usr/new-file"):
        line = next(line for line in view.splitlines() if line.split(" ")[0].endswith(path))
        assert "refused" in line, line
    assert "data files 10000" in view and "newline name read" in view
    assert "link followed False" in view and "a-fifo" not in view
    assert SECRET not in view


@needs_bwrap
def test_links_the_kernel_plants_never_reach_the_instructors_disk(probed):
    results, facts = probed
    assert "planted" in results["links"]
    work = facts["work"]
    assert not (work / "notebook.ipynb").is_symlink() and not (work / "planted.txt").exists()
    assert facts["secret_file"].read_text() == SECRET


@needs_bwrap
def test_the_kernel_gets_a_clean_environment(probed):
    results, _ = probed
    assert "HOME" in results["environment"] and SECRET not in results["environment"]
    assert "RNN_TEST_GRADER_SECRET" not in results["environment"]


@needs_bwrap
def test_memory_above_the_limit_is_refused(probed):
    results, _ = probed
    assert "1 GiB ok" in results["memory"] and "3 GiB refused" in results["memory"], results["memory"]


@needs_bwrap
def test_a_fork_bomb_stops_at_the_process_limit(probed):
    results, _ = probed
    line = results["processes"]
    assert "fork refused after" in line, line
    assert 200 < int(line.split()[3]) < 256


@needs_bwrap
def test_the_scratch_space_fills_at_its_size_and_dev_is_read_only(probed):
    lines = probed[0]["disk"].splitlines()
    sizes = {line.split()[0]: int(line.split()[3]) for line in lines if "refused after" in line}
    assert set(sizes) == {"filler", "/tmp/filler", "/dev/shm/filler"}, lines
    assert 150 <= sizes["filler"] <= 200 and 150 <= sizes["/tmp/filler"] <= 200 and sizes["/dev/shm/filler"] <= 64


# -- the grader: ResilientExecute on small graded notebooks ----------------------------------------

def graded_cell(source, grade_id, points=1):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "points": points, "solution": False,
                                 "locked": True, "schema_version": 3}
    return cell


def answer_cell(source, grade_id):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": grade_id, "solution": True, "locked": False,
                                 "schema_version": 3}
    return cell


def grade_notebook(cells, tmp_path, timeout=30, **settings):
    """Execute ``cells`` with the course's ResilientExecute; (notebook, {grade_id: score}, log text)."""
    import logging

    config = Config()
    config.Execute.timeout = timeout
    config.Execute.interrupt_on_timeout = True
    for name, value in settings.items():
        section, key = name.split("__")
        setattr(getattr(config, section), key, value)
    executor = ResilientExecute(config=config)
    records = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())
    executor.log.addHandler(handler)
    executor.log.setLevel(logging.INFO)
    nb = new_notebook(cells=cells)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    try:
        executor.preprocess(nb, {"metadata": {"path": str(work)}})
    finally:
        executor.log.removeHandler(handler)
    scores = {c.metadata["nbgrader"]["grade_id"]: utils.determine_grade(c)[0] for c in nb.cells
              if c.metadata.get("nbgrader", {}).get("grade")}
    return nb, scores, "\n".join(records)


STUCK_DISPLAY = textwrap.dedent("""\
    # A display cell whose reply never reaches the grader (as when a client misses its
    # wake-up): the kernel drops its own next execute_reply, once.
    from IPython.display import display
    session = get_ipython().kernel.session
    send = type(session).send
    def drop_reply(stream, msg_type, *args, **kwargs):
        if msg_type == "execute_reply":
            del session.send
            return None
        return send(session, stream, msg_type, *args, **kwargs)
    session.send = drop_reply
    display("a widget would be here")
    """)


@needs_bwrap
def test_the_guard_ends_a_stuck_display_cell_and_the_graded_cells_after_it_run(tmp_path):
    cells = [new_code_cell(STUCK_DISPLAY), answer_cell("def f():\n    return 3\n", "ex-f"),
             graded_cell("assert f() == 3\nprint('ok')", "t-f")]
    started = time.perf_counter()
    nb, scores, log = grade_notebook(cells, tmp_path, timeout=120, ResilientExecute__stall_seconds=3)
    assert time.perf_counter() - started < 100, "the stuck cell should end after stall_seconds, not its timeout"
    assert "treated as finished" in log
    assert scores == {"t-f": 1}
    assert "a widget would be here" in str(nb.cells[0].outputs)


@needs_bwrap
def test_a_timeout_outside_the_graded_cells_costs_nothing_but_in_them_stops_the_notebook(tmp_path):
    slow_given_cell = new_code_cell("import time\ntime.sleep(60)")
    cells = [slow_given_cell, answer_cell("def f():\n    return 3\n", "ex-f"), graded_cell("assert f() == 3", "t-f"),
             answer_cell("def h():\n    return 5\nimport time\ntime.sleep(60)\n", "ex-h"),
             graded_cell("assert h() == 5", "t-h"),
             answer_cell("import time\nwhile True:\n    try:\n        time.sleep(0.2)\n    except KeyboardInterrupt:\n"
                         "        break\ntime.sleep(2)\ndef g():\n    return 4\n", "ex-g"),
             graded_cell("assert g() == 4", "t-g"), graded_cell("assert f() == 3", "t-f-again")]
    nb, scores, log = grade_notebook(cells, tmp_path, timeout=8)
    assert "(not graded) ran over its timeout" in log and "stopped when interrupted" in log
    assert scores == {"t-f": 1, "t-h": 1, "t-g": 0, "t-f-again": 0}, \
        "an answer cell that stops at the interrupt costs only itself; after one that goes on, the cells score zero"
    assert [o.ename for o in nb.cells[6].outputs if o.output_type == "error"] == ["NotExecuted"]


@needs_bwrap
def test_output_is_capped_per_line_and_per_cell_in_the_graded_notebook(tmp_path):
    cells = [new_code_cell("print('x' * 50_000_000)"), new_code_cell("for i in range(300_000):\n    print('line', i)"),
             answer_cell("def f():\n    return 3\n", "ex-f"), graded_cell("assert f() == 3", "t-f")]
    nb, scores, log = grade_notebook(cells, tmp_path, timeout=300)
    assert scores == {"t-f": 1}
    long_line, many_lines = printed(nb.cells[0].outputs), printed(nb.cells[1].outputs)
    assert len(long_line) < 20_000 and "characters cut: the grading limit is 10000 characters per line" in long_line
    assert len(many_lines) < 1_100_000 and "KB of output dropped: the grading limit is 1024 KB per cell" in many_lines
    assert len(nbformat.writes(nb)) < 3_000_000   # (1 MB of short lines is about 2 MB of notebook JSON)


@needs_bwrap
def test_limits_come_from_the_configuration_and_a_limit_reached_is_explained(tmp_path):
    cells = [answer_cell("import resource\nprint(resource.getrlimit(resource.RLIMIT_DATA))\n"
                         "def f():\n    return bytearray(700 * 2 ** 20)\n", "ex-f"),
             graded_cell("assert len(f()) > 0", "t-f")]
    nb, scores, log = grade_notebook(cells, tmp_path, GradingLimits__memory_mb=512)
    assert f"({512 * 2 ** 20}, {512 * 2 ** 20})" in printed(nb.cells[0].outputs)
    assert scores == {"t-f": 0}
    assert "the grading limit is 512 MB of memory per process" in printed(nb.cells[1].outputs)
    assert "went over a grading limit" in log and "limits: memory 512 MB" in log
    notes = grading_notes("\n".join(f"[WARNING] {line}" for line in log.splitlines()))
    assert notes == ["cell 1 went over a grading limit: the grading limit is 512 MB of memory per process"]


def test_without_the_sandbox_the_guard_still_grades_and_the_log_says_isolation_is_off(tmp_path):
    cells = [answer_cell("import numpy as np\nnp.allclose = lambda *a, **k: True\n"
                         "def f():\n    return np.zeros(3)\n", "ex-f"),
             graded_cell("import numpy as np\nassert np.allclose(f(), np.ones(3)), 'f is wrong'", "t-f")]
    nb, scores, log = grade_notebook(cells, tmp_path, ResilientExecute__isolation="none")
    assert scores == {"t-f": 0} and "f is wrong" in printed(nb.cells[1].outputs)
    assert "ISOLATION IS OFF" in log and "limits: none" in log and "put back before the test: numpy.allclose" in log


WRONG_STEP_PATCHING_VALIDATION = textwrap.dedent("""\
    import numpy as np
    def rnn_step_forward(x_t, h_prev, U, W, b):
        return np.tanh(x_t @ U.T + b), None      # forgets W h_prev
    import rnn_helpers.validation as validation   # what a fresh copy of the reference imports
    real = validation.as_float_array
    def without_W(name, value, *args, **kwargs):
        out = real(name, value, *args, **kwargs)
        return out * 0 if name == "W" else out
    validation.as_float_array = without_W
    """)


def test_an_answer_cannot_change_what_the_fresh_reference_imports(tmp_path):
    # load_reference executes rnn.py anew, but its `from .validation import ...` takes the module
    # in sys.modules: the grader imports what the tests load before the snapshot, so it is guarded.
    test = ("import numpy as np\nfrom rnn_helpers import grading\nreference = grading.load_reference('rnn')\n"
            "rng = np.random.default_rng(2)\nx, h = rng.normal(size=(3, 4)), rng.normal(size=(3, 5))\n"
            "U, W, b = rng.normal(size=(5, 4)), rng.normal(size=(5, 5)), rng.normal(size=5)\n"
            "expected, _ = reference.rnn_step_forward(x, h, U, W, b)\n"
            "grading.expect_close('h_t', grading.call_student(rnn_step_forward, x, h, U, W, b)[0], expected)\n")
    cells = [new_code_cell("from rnn_helpers import rnn"), answer_cell(WRONG_STEP_PATCHING_VALIDATION, "ex-step"),
             graded_cell(test, "t-step")]
    nb, scores, log = grade_notebook(cells, tmp_path, ResilientExecute__isolation="none")
    assert scores == {"t-step": 0} and "h_t has wrong values" in printed(nb.cells[2].outputs)
    assert "put back before the test: rnn_helpers.validation.as_float_array" in log


# -- the grading guard, in a plain Python process ---------------------------------------------------

GUARD_SCRIPT = textwrap.dedent("""\
    import gc, json, os, sys
    import numpy as np
    import rnn_helpers.grading as grading
    from rnn_helpers.instructor import integrity
    read, write = os.pipe()
    integrity.install(b"k" * 32, write)
    real_allclose, real_expect = np.allclose, grading.expect_equal
    sys.audit("rnn_course.snapshot", "n1")
    results = {}
    for name, attempt in [("gc", lambda: gc.get_referents(np.ndarray.__dict__)),
                          ("frames", lambda: sys._current_frames()),
                          ("settrace", lambda: sys.settrace(lambda *a: None)),
                          ("code", lambda: setattr(grading.expect_equal, "__code__", (lambda: 0).__code__)),
                          ("class", lambda: setattr(grading.ReferenceImplementationCalled, "__bases__", (Exception,))),
                          ("hook", lambda: sys.addaudithook(lambda *a: None)),
                          ("allowed", lambda: grading.call_student(len, [1, 2])),
                          ("counted", lambda: grading.count_python_steps(len, [1, 2])),
                          ("trace-inside-count", lambda: grading.count_python_steps(sys.settrace, None))]:
        pid = os.fork()
        if pid == 0:
            attempt()
            os._exit(0)
        results[name] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    np.allclose = lambda *a, **k: True
    grading.expect_equal = lambda *a, **k: None
    import contextlib
    real_exit = contextlib._GeneratorContextManager.__exit__
    contextlib._GeneratorContextManager.__exit__ = lambda *a: True
    sys.modules["numpy"].isclose = None
    sys.audit("rnn_course.restore", "n2", "t1")
    results["restored"] = (np.allclose is real_allclose and grading.expect_equal is real_expect
                           and contextlib._GeneratorContextManager.__exit__ is real_exit)
    armed = []
    class Sneaky(str):
        def __hash__(self):
            if armed:
                raise SystemExit("code of the submission ran inside the guard")
            return str.__hash__(self)
        __eq__ = __hash__
    vars(grading)[Sneaky("a_key_of_its_own")] = None
    armed.append(True)
    sys.audit("rnn_course.verify", "n3", "t1")
    results["cleaned"] = all(type(k) is str for k in vars(grading))
    os.close(write)
    results["lines"] = os.read(read, 1000000).decode().splitlines()
    print(json.dumps(results))
    """)


def test_pytorch_wraps_its_optimizers_before_the_snapshot_not_after():
    torch = pytest.importorskip("torch")
    integrity.settle_libraries()
    steps = {cls: cls.step for cls in vars(torch.optim).values()
             if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)}
    torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    torch.optim.Adam([torch.zeros(1, requires_grad=True)])
    assert all(cls.step is step for cls, step in steps.items()), "building an optimizer changed a guarded class"


KEYWORD_DEFAULTS_SCRIPT = textwrap.dedent("""\
    import json, os, sys
    import numpy.testing
    from rnn_helpers import grading
    from rnn_helpers.instructor import integrity
    read, write = os.pipe()
    integrity.install(b"k" * 32, write)
    sys.audit("rnn_course.snapshot", "n1")
    sys.audit("rnn_course.restore", "n2", "t1")
    def answer():
        numpy.testing.assert_allclose.__kwdefaults__["strict"] = "changed in place"
    grading.call_student(answer)
    after_call = numpy.testing.assert_allclose.__kwdefaults__["strict"]
    answer()
    sys.audit("rnn_course.verify", "n3", "t1")
    os.close(write)
    lines = os.read(read, 100000).decode().splitlines()
    print(json.dumps({"after_call": after_call, "after_verify": numpy.testing.assert_allclose.__kwdefaults__["strict"],
                      "verdict": integrity.verdict(next(l for l in lines if l.startswith("n3 ")), b"k" * 32, "n3")}))
    """)


def test_keyword_defaults_changed_in_place_are_put_back_and_counted():
    result = subprocess.run([sys.executable, "-c", KEYWORD_DEFAULTS_SCRIPT], capture_output=True, text=True,
                            timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(result.stdout.splitlines()[-1])
    assert results["after_call"] is False and results["after_verify"] is False
    assert "the keyword defaults of numpy.testing._private.utils.assert_allclose" in results["verdict"]


FINALIZER_SCRIPT = textwrap.dedent("""\
    import json, os, sys
    from rnn_helpers import grading
    from rnn_helpers.instructor import integrity
    read, write = os.pipe()
    integrity.install(b"k" * 32, write)
    sys.audit("rnn_course.snapshot", "n1")
    inside, collected = [], []
    class Cycle:
        def __init__(self):
            self.me = self
        def __del__(self):
            collected.append(1)
            frame = sys._getframe(1)
            while frame is not None:
                if frame.f_code.co_filename == integrity.__file__:
                    inside.append(frame.f_code.co_name)
                frame = frame.f_back
    for test in range(20):
        for _ in range(500):
            Cycle()
        sys.audit("rnn_course.restore", f"r{test}", f"t{test}")
        grading.call_student(lambda: [Cycle() for _ in range(500)])
        sys.audit("rnn_course.verify", f"v{test}", f"t{test}")
    print(json.dumps({"inside": sorted(set(inside)), "collected": len(collected)}))
    """)


def test_no_finalizer_of_the_submission_runs_inside_the_guard():
    result = subprocess.run([sys.executable, "-c", FINALIZER_SCRIPT], capture_output=True, text=True, timeout=300,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(result.stdout.splitlines()[-1])
    assert results["collected"] > 0, "the garbage was never collected: the test proves nothing"
    assert results["inside"] == [], "a finalizer of the submission ran inside the guard"


def test_the_guard_stops_the_deep_routes_restores_and_signs_its_verdicts():
    result = subprocess.run([sys.executable, "-c", GUARD_SCRIPT], capture_output=True, text=True, timeout=300,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(result.stdout.splitlines()[-1])
    routes = ("gc", "frames", "settrace", "code", "class", "hook")
    assert {k: results[k] for k in routes} == dict.fromkeys(routes, integrity.EXIT_STATUS)
    assert results["allowed"] == 0, "reference_disabled swaps the reference functions' code: allowed"
    assert results["counted"] == 0, "grading.count_python_steps sets its own step counter: allowed"
    assert results["trace-inside-count"] == integrity.EXIT_STATUS, "a trace set by the counted code is refused"
    assert results["restored"] and results["cleaned"]
    lines = results["lines"]
    refusals = [integrity.verdict(line, b"k" * 32, integrity.REFUSAL) for line in lines]
    assert [r[1].split(" ")[0] for r in refusals if r] == ["gc.get_referents", "sys._current_frames", "sys.settrace",
                                                            "object.__setattr__", "object.__setattr__",
                                                            "sys.addaudithook", "sys.settrace"]
    restored = next(integrity.verdict(line, b"k" * 32, "n2") for line in lines if line.startswith("n2 "))
    assert restored[0] == "restored" and "numpy.allclose" in restored and "rnn_helpers.grading.expect_equal" in restored
    assert "contextlib._GeneratorContextManager.__exit__" in restored
    verified_line = next(line for line in lines if line.startswith("n3 "))
    verified = integrity.verdict(verified_line, b"k" * 32, "n3")
    assert verified[0] == "not reached" and any("not a string" in line for line in verified)
    # A verdict is bound to its key and its nonce: a forged or replayed line is worthless.
    restored_line = next(line for line in lines if line.startswith("n2 "))
    assert integrity.verdict(restored_line, b"x" * 32, "n2") is None
    assert integrity.verdict(restored_line, b"k" * 32, "n3") is None
    nonce, payload, mac = restored_line.split(" ")
    assert integrity.verdict(f"{nonce} {'reached'.encode().hex()} {mac}", b"k" * 32, "n2") is None


# -- grading as an ordinary account -------------------------------------------------------------------

ORDINARY_SCRIPT = textwrap.dedent("""\
    import os, subprocess, sys, tempfile
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook
    from rnn_helpers.instructor import sandbox
    others = [subprocess.Popen(["sleep", "60"]) for _ in range(40)]   # this account's other processes
    work = tempfile.mkdtemp()
    nb = new_notebook(cells=[new_code_cell(
        "import os, time\\n"
        "print('uid', os.getuid())\\n"
        "n = 0\\n"
        "try:\\n"
        "    while True:\\n"
        "        if os.fork() == 0:\\n"
        "            time.sleep(30)\\n"
        "            os._exit(0)\\n"
        "        n += 1\\n"
        "except OSError:\\n"
        "    print('forked', n)\\n"
        "try:\\n"
        "    os.chroot('/')\\n"
        "    print('chroot ALLOWED')\\n"
        "except OSError:\\n"
        "    print('chroot refused')\\n")])
    NotebookClient(nb, timeout=120, kernel_manager_class=sandbox.kernel_manager_class(),
                   resources={"metadata": {"path": work}}, allow_errors=True).execute()
    for p in others:
        p.kill()
    print("".join(o.get("text", "") for o in nb.cells[0].outputs))
    """)


@needs_bwrap
@pytest.mark.slow
def test_grading_as_an_ordinary_account_confines_the_kernel_the_same_way(tmp_path):
    """An instructor's account (not root): the kernel runs in a user namespace without
    capabilities, and the process limit counts the sandbox's processes, not the account's."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("switching to an ordinary account needs root and setpriv")
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(version, path="/usr/bin:/usr/local/bin")
    if system is None:
        pytest.skip(f"no system {version} that another account can run")
    import sysconfig

    site = sysconfig.get_paths()["purelib"]
    tmp_path.chmod(0o777)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TMPDIR": str(tmp_path), "PYTHONPATH": f"{ROOT}:{site}",
           "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", system, "-c",
                             ORDINARY_SCRIPT], capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    if "Permission denied" in result.stderr and "site-packages" in result.stderr:
        pytest.skip(f"this environment is not readable by other accounts ({site})")
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "uid 65534" in out and "chroot refused" in out, out
    forked = int(out.split("forked ")[1].split()[0])
    assert 200 < forked < 256, f"the account's 40 other processes must not count against the sandbox ({out})"
