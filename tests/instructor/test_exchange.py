"""The nbgrader exchange end to end on one machine with real Unix accounts, as on a JupyterHub.

The instructor (the account running the tests, root) releases 01_sequences into a real
exchange folder with the course's hub configuration (hub/instructor, hub/student); two
students, real accounts with their own home folders, fetch it, one answers the first
exercise, both submit; the instructor collects, makes the course folder private
(rnn_helpers.instructor.privacy), grades with grade_class and releases the feedback, which
each student fetches. Checked: the grades, that each student got their own feedback only, and
that a student can neither read the solutions or the gradebook nor change another student's
submission, and that the students' kernels import rnn_helpers from the shared environment
that hub/install_student_env.sh builds (not from the instructor's folder). Needs root
(useradd); skipped otherwise. The accounts are removed afterwards.
"""
import csv
import html
import json
import os
import pathlib
import re
import secrets
import shutil
import subprocess
import sys
import sysconfig
import tempfile

import pytest

from conftest import ROOT, autograded_tests, read_notebook, source_notebook

pytestmark = pytest.mark.xdist_group("exchange")

ASSIGNMENT = "01_sequences"
EXERCISE = "ex-rnn-step"


def run(command, user=None, cwd=None, env=None, check=True):
    result = subprocess.run(command, user=user, group=user, extra_groups=[] if user else None, cwd=cwd,
                            env=env, capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"{command} as {user or 'instructor'} failed ({result.returncode}):\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def student_environment(base):
    """The students' Python: the shared environment hub/install_student_env.sh builds (the
    documented install), or where that cannot be installed (no package registry), a venv on
    the system's interpreter of the same version with a .pth file pointing at this test
    environment's site-packages (this environment may live in a private home). Returns the
    python and whether it is the documented install."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(version, path="/usr/bin:/usr/local/bin")
    if system is None:
        pytest.skip(f"no system {version} that other accounts can run")
    env_dir = base / "student-env"
    install = run(["bash", str(ROOT / "hub" / "install_student_env.sh"), str(env_dir), system], check=False)
    if install.returncode == 0:
        return str(env_dir / "bin" / "python"), True
    shutil.rmtree(env_dir, ignore_errors=True)
    run([system, "-m", "venv", "--without-pip", str(env_dir)])
    site = pathlib.Path(sysconfig.get_paths(vars={"base": str(env_dir), "platbase": str(env_dir)})["purelib"])
    site.mkdir(parents=True, exist_ok=True)
    (site / "course_env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return str(env_dir / "bin" / "python"), False


@pytest.fixture(scope="module")
def machine():
    """A temporary hub machine: exchange, shared config, instructor's course, two student accounts."""
    if os.geteuid() != 0 or shutil.which("useradd") is None:
        pytest.skip("the exchange test creates Unix accounts: it needs root and useradd")
    base = pathlib.Path(tempfile.mkdtemp(prefix="rnn-hub-"))
    base.chmod(0o755)
    students = [f"rnnstu{secrets.token_hex(3)}" for _ in range(2)]
    created = []
    try:
        (base / "home").mkdir(mode=0o755)
        for name in students:
            run(["useradd", "--create-home", "--home-dir", str(base / "home" / name), "--shell", "/bin/sh",
                 "--user-group", name])
            created.append(name)
        exchange = base / "exchange"
        exchange.mkdir()
        exchange.chmod(0o1777)          # as hub/README.md says: writable by all, sticky
        student_config = base / "etc-jupyter"      # stands for /etc/jupyter or <env>/etc/jupyter
        student_config.mkdir()
        shutil.copy(ROOT / "hub" / "student" / "nbgrader_config.py", student_config)
        course = base / "instructor" / "course"
        course.mkdir(parents=True)
        shutil.copy(ROOT / "nbgrader_config.py", course)
        for folder in ("solutions", "notebooks"):
            shutil.copytree(ROOT / folder / ASSIGNMENT, course / folder / ASSIGNMENT)
        python, installed = student_environment(base)
        probe = run([python, "-c", "import nbgrader"], user=students[0], cwd=base / "home" / students[0],
                    check=False)
        if probe.returncode != 0:
            pytest.skip(f"the students' accounts cannot run nbgrader from this environment: {probe.stderr[-500:]}")
        common = {"PATH": f"{pathlib.Path(python).parent}:/usr/bin:/bin", "RNN_COURSE_EXCHANGE": str(exchange),
                  "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "LANG": "C.UTF-8"}
        instructor_env = dict(os.environ, RNN_COURSE_EXCHANGE=str(exchange),
                              JUPYTER_CONFIG_PATH=str(ROOT / "hub" / "instructor"))
        instructor_env["PATH"] = f"{pathlib.Path(sys.executable).parent}{os.pathsep}{instructor_env['PATH']}"
        yield {"base": base, "course": course, "exchange": exchange, "students": students, "python": python,
               "installed": installed,
               "student_env": lambda name: dict(common, HOME=str(base / "home" / name), USER=name,
                                                JUPYTER_CONFIG_PATH=str(student_config)),
               "instructor_env": instructor_env}
    finally:
        for name in created:
            subprocess.run(["userdel", "--remove", name], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def answer_first_exercise(path):
    """Put the reference solution of the first exercise into a fetched notebook."""
    solved = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in read_notebook(source_notebook(ASSIGNMENT)).cells}
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == EXERCISE:
            lines = solved[EXERCISE].source.splitlines()
            cell["source"] = "\n".join(line for line in lines if "SOLUTION" not in line)
    path.write_text(json.dumps(nb), encoding="utf-8")


def as_student_try(machine, name, paths):
    """What student ``name`` can do to ``paths``: {path: {"read": ok, "write": ok, "create": ok}}."""
    code = """
import json, os, sys
result = {}
for path in sys.argv[1:]:
    tries = {}
    for what, action in (("read", lambda: open(path).read(1)),
                         ("write", lambda: open(path, "a").close()),
                         ("create", lambda: open(os.path.join(os.path.dirname(path), "planted.txt"), "w").close()),
                         ("delete", lambda: os.rename(path, path + ".gone"))):
        try:
            action()
            tries[what] = True
        except OSError:
            tries[what] = False
    result[path] = tries
print(json.dumps(result))
"""
    out = run([machine["python"], "-c", code, *map(str, paths)], user=name,
              cwd=machine["base"] / "home" / name, env=machine["student_env"](name))
    return json.loads(out.stdout)


def test_release_fetch_submit_collect_grade_and_feedback_with_two_student_accounts(machine):
    course, students = machine["course"], machine["students"]
    first, second = students
    ienv = machine["instructor_env"]
    nbgrader = [sys.executable, "-m", "nbgrader"]
    if machine["installed"]:
        # The students' kernels import the course's package from the shared environment.
        where = run([machine["python"], "-c", "import rnn_helpers; print(rnn_helpers.__file__)"], user=second,
                    cwd=machine["base"] / "home" / second, env=machine["student_env"](second))
        assert where.stdout.startswith(str(machine["base"] / "student-env")), where.stdout
    run(nbgrader + ["db", "assignment", "add", ASSIGNMENT], cwd=course, env=ienv)
    for name in students:
        run(nbgrader + ["db", "student", "add", name], cwd=course, env=ienv)
    run(nbgrader + ["release_assignment", ASSIGNMENT], cwd=course, env=ienv)
    for name in students:
        home = machine["base"] / "home" / name
        listing = run([machine["python"], "-m", "nbgrader", "list"], user=name, cwd=home,
                      env=machine["student_env"](name))
        assert ASSIGNMENT in listing.stdout + listing.stderr
        run([machine["python"], "-m", "nbgrader", "fetch_assignment", ASSIGNMENT], user=name, cwd=home,
            env=machine["student_env"](name))
        fetched = home / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        assert fetched.is_file()
        if name == first:
            answer_first_exercise(fetched)
        run([machine["python"], "-m", "nbgrader", "submit", ASSIGNMENT], user=name, cwd=home,
            env=machine["student_env"](name))
    run(nbgrader + ["collect", ASSIGNMENT], cwd=course, env=ienv)
    submission = course / "submitted" / first / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert submission.is_file()

    fixed = run([sys.executable, "-m", "rnn_helpers.instructor.privacy", str(course), "--fix"], env=ienv)
    assert "now private" in fixed.stdout or "is private" in fixed.stdout
    attempts = as_student_try(machine, second, [course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                                                course / "gradebook.db", submission])
    for path, tries in attempts.items():
        assert not any(tries.values()), f"student {second} could {tries} on {path}"

    graded = run([sys.executable, "-m", "rnn_helpers.instructor.grade_class", "--course", str(course),
                  "--assignment", ASSIGNMENT], cwd=course, env=ienv)
    with open(course / "grades.csv", newline="") as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    points = sum(p for gid, p in autograded_tests(read_notebook(source_notebook(ASSIGNMENT))).items()
                 if gid.startswith("test-rnn-step"))
    assert scores == {first: pytest.approx(points), second: 0.0}, graded.stdout
    # Grading writes grades.csv and feedback/ with the instructor's umask: the closed course
    # folder keeps them out of reach all the same.
    attempts = as_student_try(machine, second, [course / "grades.csv", submission])
    for path, tries in attempts.items():
        assert not any(tries.values()), f"after grading, student {second} could {tries} on {path}"

    run(nbgrader + ["release_feedback", ASSIGNMENT], cwd=course, env=ienv)
    for name in students:
        home = machine["base"] / "home" / name
        run([machine["python"], "-m", "nbgrader", "fetch_feedback", ASSIGNMENT], user=name, cwd=home,
            env=machine["student_env"](name))
        pages = sorted((home / ASSIGNMENT / "feedback").rglob("*.html"))
        assert len(pages) == 1, f"{name} fetched {pages}"
        page = html.unescape(pages[0].read_text(encoding="utf-8"))
        shown = re.search(r"Score:\s*([\d.]+)\s*/", page)
        assert shown and float(shown.group(1)) == pytest.approx(scores[name]), f"{name}'s feedback: {shown}"
        assert "BEGIN HIDDEN TESTS" not in page
