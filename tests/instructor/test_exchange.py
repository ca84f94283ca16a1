"""The nbgrader exchange end to end on one machine with real Unix accounts, as on a JupyterHub,
then attacked by its students.

The instructor (the account running the tests, root) releases 01_sequences into a real
exchange folder with the course's hub configuration (hub/instructor, hub/student); two
students, real accounts with their own home folders, fetch it, one answers the first
exercise, both submit; the instructor collects, makes the course folder private
(rnn_helpers.instructor.privacy), grades with grade_class and releases the feedback, which
each student fetches. Checked: the grades, that each student got their own feedback only, and
that a student can neither read the solutions or the gradebook nor change another student's
submission, and that the students' kernels import rnn_helpers from the shared environment
that hub/install_student_env.sh builds (not from the instructor's folder).

Then a second class on its own exchange, with an instructor account of its own (not root) and
three students who attack each other and the instructor through the exchange: uploads made
by hand into ``inbound/`` holding links to the instructor's solutions and gradebook, a pipe,
a hard link, a dangling link and a name with a newline; a notebook that is a link to the
gradebook; an upload folder that is a link; an upload filed under another student's name;
a file put into another student's upload; a name nbgrader cannot read; an inbound folder
made by a student. The course's collect (``nbgrader collect`` typed by the instructor, and the
formgrader's Collect button) refuses and reports each, collects the rest of the class, and the
gradebook survives autograding; homes are private; the exchange check finds what is open.
Needs root (useradd); skipped otherwise. The accounts are removed afterwards.
"""
import csv
import datetime
import html
import json
import os
import pathlib
import pwd
import re
import secrets
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import time

import pytest
from nbgrader.api import Gradebook

from conftest import ROOT, autograded_tests, read_notebook, source_notebook
from test_hostile_files import tree_hash

pytestmark = pytest.mark.xdist_group("exchange")

ASSIGNMENT = "01_sequences"
EXERCISE = "ex-rnn-step"


def run(command, user=None, cwd=None, env=None, check=True, timeout=600):
    result = subprocess.run(command, user=user, group=user, extra_groups=[] if user else None, cwd=cwd,
                            env=env, capture_output=True, text=True, timeout=timeout)
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
    # The machine's own /home and /etc stay untouched: this machine's homes live in base/home.
    install = run(["bash", str(ROOT / "hub" / "install_student_env.sh"), str(env_dir), system,
                   "--homes", str(base / "home"), "--etc", str(base / "etc")], check=False, timeout=1800)
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
    carol, instructor = f"rnncar{secrets.token_hex(3)}", f"rnnins{secrets.token_hex(3)}"
    created = []
    try:
        (base / "home").mkdir(mode=0o755)
        (base / "etc").mkdir()          # copies of the files install_student_env.sh edits
        for name in ("login.defs", "adduser.conf"):
            if (pathlib.Path("/etc") / name).is_file():
                shutil.copy(pathlib.Path("/etc") / name, base / "etc" / name)
        for name in students + [carol, instructor]:
            run(["useradd", "--create-home", "--home-dir", str(base / "home" / name), "--shell", "/bin/sh",
                 "--user-group", name])
            created.append(name)
        homes_before = {name: stat.S_IMODE((base / "home" / name).stat().st_mode) for name in created}
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
               "installed": installed, "carol": carol, "instructor": instructor, "homes_before": homes_before,
               "student_config": student_config,
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


@pytest.mark.slow
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


# -- students attacking each other and the instructor through the exchange ------------------------

ALICE_SECRET = "CANARY-alice-own-work-31d9"
SECRETS = ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "SQLite format 3", ALICE_SECRET)
#: entries alice puts beside her notebook in an upload she makes by hand: name, words of the refusal
ALICE_ENTRIES = {"solution-link": "a symbolic link", "gradebook-link": "a symbolic link",
                 "dangling": "a symbolic link (to /nowhere/at/all)", "pipe": "a named pipe",
                 "hard.txt": "a hard link", "'evil\\nname'": "named with a control character"}


def exchange_time(delta_seconds):
    """A timestamp as nbgrader writes it into an upload's name, ``delta_seconds`` from now."""
    moment = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_seconds)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def as_user(machine, name, code, *args, env=None, check=True):
    """Run Python ``code`` (with ``args`` in sys.argv[1:]) as account ``name`` in its home."""
    return run([machine["python"], "-c", code, *map(str, args)], user=name, cwd=machine["base"] / "home" / name,
               env=env or machine["student_env"](name), check=check)


MAKE_UPLOAD = """
import os, sys, shutil
folder, notebook = sys.argv[1], sys.argv[2]
os.mkdir(folder)
os.chmod(folder, 0o755)
shutil.copy(notebook, os.path.join(folder, "01_sequences.ipynb"))
with open(os.path.join(folder, "timestamp.txt"), "w") as f:
    f.write(sys.argv[3])
with open(os.path.join(folder, "submission_secret.txt"), "w") as f:
    f.write(sys.argv[4])
"""


@pytest.fixture(scope="module")
def attacked(machine):
    """The attacked class: release, hostile uploads, collect (typed and through the formgrader's
    API), autograde, feedback; everything the instructor does runs as the instructor's account."""
    base, (alice, bob), carol, instructor = machine["base"], machine["students"], machine["carol"], machine["instructor"]
    py = machine["python"]
    exchange = base / "exchange-attacks"
    exchange.mkdir()
    exchange.chmod(0o1777)
    config = base / "etc-jupyter-instructor"
    config.mkdir()
    shutil.copy(ROOT / "hub" / "instructor" / "nbgrader_config.py", config)
    ihome = base / "home" / instructor
    courses = {}
    for name in ("course", "course-formgrader"):
        course = ihome / name
        course.mkdir()
        shutil.copy(ROOT / "nbgrader_config.py", course)
        for folder in ("solutions", "notebooks"):
            shutil.copytree(ROOT / folder / ASSIGNMENT, course / folder / ASSIGNMENT)
        # The repository is the course folder: the configuration imports the course's package from it.
        shutil.copytree(ROOT / "rnn_helpers", course / "rnn_helpers", ignore=shutil.ignore_patterns("__pycache__"))
        courses[name] = course
    run(["chown", "-R", f"{instructor}:{instructor}", str(ihome)])
    ienv = dict(machine["student_env"](instructor), RNN_COURSE_EXCHANGE=str(exchange), JUPYTER_CONFIG_PATH=str(config))
    senv = {name: dict(machine["student_env"](name), RNN_COURSE_EXCHANGE=str(exchange)) for name in (alice, bob, carol)}
    course = courses["course"]

    def instructor_runs(*args, cwd=course, check=True, timeout=900):
        result = subprocess.run([py, "-m", "nbgrader", *args], user=instructor, group=instructor, extra_groups=[],
                                cwd=cwd, env=ienv, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"nbgrader {args} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    for student in (alice, bob, carol):
        instructor_runs("db", "student", "add", student)
    instructor_runs("generate_assignment", ASSIGNMENT, "--force")   # records its notebooks in the gradebook
    instructor_runs("release_assignment", ASSIGNMENT)
    inbound = exchange / "rnn-course" / "inbound"
    guarded = [course / "solutions", course / "notebooks", course / "nbgrader_config.py"]
    before = tree_hash(*guarded)

    # Alice solves the assignment. Her first upload she makes by hand, with links to the
    # instructor's solutions and gradebook, a dangling link, a pipe, a hard link and a name with
    # a newline beside her notebook; later she submits the same work with nbgrader.
    work = {name: base / "home" / name / "attacked-class" for name in (alice, bob, carol)}
    for student in (alice, bob):
        run(["mkdir", str(work[student])], user=student)
        run([py, "-m", "nbgrader", "fetch_assignment", ASSIGNMENT], user=student, cwd=work[student],
            env=senv[student])
    alice_notebook = work[alice] / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    answer_first_exercise(alice_notebook)
    nb = json.loads(alice_notebook.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == EXERCISE:
            cell["source"] += f"\n# {ALICE_SECRET}\n"
    alice_notebook.write_text(json.dumps(nb), encoding="utf-8")
    t1 = exchange_time(-3600)
    crafted = inbound / f"{alice}+{ASSIGNMENT}+{t1}+byhand"
    as_user(machine, alice, MAKE_UPLOAD + """
os.symlink(sys.argv[5] + "/solutions/01_sequences/01_sequences.ipynb", os.path.join(folder, "solution-link"))
os.symlink(sys.argv[5] + "/gradebook.db", os.path.join(folder, "gradebook-link"))
os.symlink("/nowhere/at/all", os.path.join(folder, "dangling"))
os.mkfifo(os.path.join(folder, "pipe"))
open("mine.txt", "w").write("alice's own file")
os.link("mine.txt", os.path.join(folder, "hard.txt"))
open(os.path.join(folder, "evil\\nname"), "w").write("a name with a newline")
# as nbgrader submit does, a copy in her cache: fetch_feedback finds her feedback through it
cache = os.path.expanduser("~/.local/share/jupyter/nbgrader_cache/rnn-course/" + os.path.basename(folder).rsplit("+", 1)[0])
os.makedirs(cache)
for name in ("01_sequences.ipynb", "timestamp.txt", "submission_secret.txt"):
    shutil.copy(os.path.join(folder, name), cache)
""", crafted, alice_notebook, t1, "alice-secret", course, env=senv[alice])
    run([py, "-m", "nbgrader", "submit", ASSIGNMENT], user=alice, cwd=work[alice], env=senv[alice])
    submitted_by_alice = sorted(p for p in inbound.iterdir() if p.name.startswith(f"{alice}+") and p != crafted)
    assert len(submitted_by_alice) == 1

    # Bob submits his own (untouched) work, then files an upload under alice's name, newer than
    # hers (nbgrader submit --student), and replaces the notebook in her newest upload, whose
    # name he has learnt (nbgrader makes that folder writable by all).
    run([py, "-m", "nbgrader", "submit", ASSIGNMENT], user=bob, cwd=work[bob], env=senv[bob])
    bob_notebook = work[bob] / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    forged = run([py, "-m", "nbgrader", "submit", ASSIGNMENT, "--student", alice], user=bob,
                 cwd=work[bob], env=senv[bob])
    forged_upload = [p for p in inbound.iterdir() if p.name.startswith(f"{alice}+") and p.stat().st_uid != 0
                     and p.owner() == bob]
    assert len(forged_upload) == 1, forged.stderr
    as_user(machine, bob, "import os, shutil, sys; nb = os.path.join(sys.argv[1], '01_sequences.ipynb'); "
                          "os.rename(nb, nb + '.old'); shutil.copy(sys.argv[2], nb)",
            submitted_by_alice[0], bob_notebook, env=senv[bob])

    # Carol attacks the instructor: an upload whose notebook is a link to the gradebook, a newer
    # upload that is a link to the instructor's solutions, and an upload named with an unreadable time.
    carol_upload = inbound / f"{carol}+{ASSIGNMENT}+{exchange_time(-1800)}+byhand"
    as_user(machine, carol, """
import os, sys
os.mkdir(sys.argv[1])
os.symlink(sys.argv[2] + "/gradebook.db", os.path.join(sys.argv[1], "01_sequences.ipynb"))
open(os.path.join(sys.argv[1], "timestamp.txt"), "w").write("whatever")
os.symlink(sys.argv[2] + "/solutions/01_sequences", sys.argv[3])
os.mkdir(sys.argv[4])
""", carol_upload, course, inbound / f"{carol}+{ASSIGNMENT}+{exchange_time(-60)}+link",
            inbound / f"{carol}+{ASSIGNMENT}+not-a-time", env=senv[carol])

    started = time.monotonic()
    collected = instructor_runs("collect", "--update", ASSIGNMENT, timeout=300)
    collect_seconds = time.monotonic() - started
    formgrader = subprocess.run([py, "-c", FORMGRADER_COLLECT, ASSIGNMENT], user=instructor, group=instructor,
                                extra_groups=[], cwd=courses["course-formgrader"], env=ienv, capture_output=True,
                                text=True, timeout=300)
    gradebook = course / "gradebook.db"
    gradebook_mode = stat.S_IMODE(gradebook.stat().st_mode)
    autograde = instructor_runs("autograde", ASSIGNMENT, check=False, timeout=1800)
    feedback = instructor_runs("generate_feedback", ASSIGNMENT, check=False)
    release = instructor_runs("release_feedback", ASSIGNMENT, check=False)
    run([py, "-m", "nbgrader", "fetch_feedback", ASSIGNMENT], user=alice, cwd=work[alice], env=senv[alice])
    with Gradebook(f"sqlite:///{gradebook}") as gb:
        scores = {s.student.id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}
    released = b"".join(p.read_bytes() for p in (exchange / "rnn-course" / "feedback").glob("*.html"))
    return {"course": course, "formgrader_course": courses["course-formgrader"], "collected": collected,
            "before": before, "after": tree_hash(*guarded), "scores": scores, "released": released,
            "gradebook_mode_after": stat.S_IMODE(gradebook.stat().st_mode),
            "collect_seconds": collect_seconds, "formgrader": formgrader, "autograde": autograde,
            "feedback": feedback, "release": release, "gradebook_mode": gradebook_mode, "inbound": inbound,
            "alice": alice, "bob": bob, "carol": carol, "instructor": instructor, "crafted": crafted,
            "alice_upload": submitted_by_alice[0], "forged_upload": forged_upload[0], "carol_upload": carol_upload,
            "senv": senv, "ienv": ienv, "exchange": exchange, "work": work}


FORMGRADER_COLLECT = """
import json, sys
from jupyter_core.paths import jupyter_config_dir
from nbgrader.apps import NbGrader, NbGraderAPI
from nbgrader.coursedir import CourseDirectory
# What the formgrader's Collect button runs: the course folder's configuration, then the API.
app = NbGrader()
app.load_cwd_config = True
app.config_dir = jupyter_config_dir()
app.load_config_file()
api = NbGraderAPI(CourseDirectory(parent=app), parent=app)
print(json.dumps(api.collect(sys.argv[1])))
"""


def collect_log(attacked):
    return attacked["collected"].stdout + attacked["collected"].stderr


def assert_class_unharmed(attacked):
    """What every attack must leave as it was: the instructor's files (hashed before the first
    attack), the gradebook, the grades of the others (as without the attacks: alice's own work
    earns the first exercise's points, bob's untouched notebook nothing, carol is not graded),
    and no secret in any feedback page released to the students."""
    assert attacked["after"] == attacked["before"], "the instructor's files changed"
    gradebook = attacked["course"] / "gradebook.db"
    assert not gradebook.is_symlink() and gradebook.read_bytes().startswith(b"SQLite format 3\0")
    assert attacked["gradebook_mode_after"] == attacked["gradebook_mode"], "grading changed the gradebook's mode"
    points = sum(p for gid, p in autograded_tests(read_notebook(source_notebook(ASSIGNMENT))).items()
                 if gid.startswith("test-rnn-step"))
    assert attacked["scores"] == {attacked["alice"]: pytest.approx(points), attacked["bob"]: 0}, \
        attacked["autograde"].stderr[-3000:]
    for secret in SECRETS[:3]:
        assert secret.encode() not in attacked["released"]


@pytest.mark.slow
def test_an_upload_filed_under_another_students_name_is_refused_and_her_own_collected(attacked):
    log, alice, bob = collect_log(attacked), attacked["alice"], attacked["bob"]
    assert (f"upload {attacked['forged_upload'].name} was refused: it was uploaded by the account {bob}, "
            f"not by {alice}") in log, log
    notebook = attacked["course"] / "submitted" / alice / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert ALICE_SECRET in notebook.read_text(), "alice's collected notebook is not her own work"
    assert_class_unharmed(attacked)


@pytest.mark.slow
def test_a_file_another_account_put_into_an_upload_makes_it_refused(attacked):
    log = collect_log(attacked)
    assert f"upload {attacked['alice_upload'].name} was refused: it holds 01_sequences.ipynb, owned by " \
           f"{attacked['bob']}, not by {attacked['alice']}" in log, log
    timestamp = (attacked["course"] / "submitted" / attacked["alice"] / ASSIGNMENT / "timestamp.txt").read_text()
    assert timestamp == attacked["crafted"].name.split("+")[2], "not alice's newest upload that she alone wrote"
    assert_class_unharmed(attacked)


@pytest.mark.slow
@pytest.mark.parametrize("entry", sorted(ALICE_ENTRIES))
def test_links_pipes_and_hard_links_in_an_upload_are_refused_and_the_rest_collected(attacked, entry):
    log = collect_log(attacked)
    assert f"upload {attacked['crafted'].name}: file {entry} was refused: it is {ALICE_ENTRIES[entry]}" in log, log
    folder = attacked["course"] / "submitted" / attacked["alice"] / ASSIGNMENT
    assert sorted(p.name for p in folder.iterdir()) == [f"{ASSIGNMENT}.ipynb", "submission_secret.txt", "timestamp.txt"]
    assert all(p.is_file() and not p.is_symlink() and p.stat().st_mode & 0o077 == 0 for p in folder.iterdir())
    assert attacked["collect_seconds"] < 120, "collect waited on the pipe"
    assert_class_unharmed(attacked)


@pytest.mark.slow
def test_an_upload_folder_that_is_a_link_and_a_name_with_an_unreadable_time_are_refused(attacked):
    log, carol = collect_log(attacked), attacked["carol"]
    assert re.search(rf"upload {carol}\+{ASSIGNMENT}\+[^+]+\+link was refused: it is a symbolic link \(to [^)]*\), not a folder", log)
    assert f"upload {carol}+{ASSIGNMENT}+not-a-time was refused: its time not-a-time cannot be read" in log
    assert attacked["collected"].returncode == 0
    assert (attacked["course"] / "submitted" / attacked["bob"] / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()
    assert_class_unharmed(attacked)


@pytest.mark.slow
def test_a_notebook_that_links_to_the_gradebook_is_refused_and_autograde_keeps_the_gradebook(attacked):
    log, carol, course = collect_log(attacked), attacked["carol"], attacked["course"]
    assert f"upload {attacked['carol_upload'].name}: file {ASSIGNMENT}.ipynb was refused: it is a symbolic link" in log
    assert not (course / "submitted" / carol / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()
    assert carol not in attacked["scores"]
    assert_class_unharmed(attacked)       # the gradebook, its mode through grading, the others' grades


@pytest.mark.slow
def test_the_formgraders_collect_button_applies_the_same_rules(attacked):
    result = json.loads(attacked["formgrader"].stdout.strip().splitlines()[-1])
    assert result["success"], result
    log, alice, bob = result["log"], attacked["alice"], attacked["bob"]
    assert f"it was uploaded by the account {bob}, not by {alice}" in log
    assert f"it holds 01_sequences.ipynb, owned by {bob}" in log
    assert "solution-link was refused: it is a symbolic link" in log
    notebook = attacked["formgrader_course"] / "submitted" / alice / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert ALICE_SECRET in notebook.read_text()
    assert_class_unharmed(attacked)


@pytest.mark.slow
def test_feedback_is_released_without_secrets_and_alice_fetches_hers(attacked):
    assert attacked["feedback"].returncode == 0, attacked["feedback"].stderr[-3000:]
    assert attacked["release"].returncode == 0, attacked["release"].stderr[-3000:]
    pages = sorted((attacked["work"][attacked["alice"]] / ASSIGNMENT / "feedback").rglob("*.html"))
    assert len(pages) == 1
    page = html.unescape(pages[0].read_text(encoding="utf-8"))
    for secret in SECRETS[:3]:
        assert secret not in page
    released = attacked["exchange"] / "rnn-course" / "feedback"
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o644 and not p.is_symlink() for p in released.iterdir())
    assert_class_unharmed(attacked)


@pytest.mark.slow
def test_homes_are_private_and_students_cannot_reach_each_other_or_the_instructor(machine, attacked):
    alice, bob = attacked["alice"], attacked["bob"]
    home = machine["base"] / "home"
    assert any(mode & 0o005 for mode in machine["homes_before"].values()), "useradd made private homes already"
    for name in machine["homes_before"]:
        assert stat.S_IMODE((home / name).stat().st_mode) == 0o700, name
    targets = [attacked["work"][alice] / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", home / alice / "mine.txt",
               attacked["course"] / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", attacked["course"] / "gradebook.db"]
    for path, tries in as_student_try(machine, bob, targets).items():
        assert not any(tries.values()), f"{bob} could {tries} on {path}"
    listing = as_user(machine, bob, "import os, sys; os.listdir(sys.argv[1])", attacked["inbound"], check=False)
    assert "PermissionError" in listing.stderr, "a student can list the uploads"
    etc = machine["base"] / "etc"
    if (etc / "login.defs").exists():
        assert re.search(r"^HOME_MODE\s+0700$", (etc / "login.defs").read_text(), re.M)
    profile = etc / "profile.d" / "rnn-course.sh"
    found = run(["sh", "-c", f". {profile}; command -v nbgrader"], user=bob, cwd=home / bob,
                env={"PATH": "/usr/bin:/bin", "HOME": str(home / bob)}, check=False)
    if machine["installed"]:
        assert found.stdout.strip() == str(machine["base"] / "student-env" / "bin" / "nbgrader")
    from rnn_helpers.instructor.privacy import check_homes

    assert check_homes(home).private
    assert_class_unharmed(attacked)


@pytest.mark.slow
def test_the_exchange_check_finds_a_renamable_upload_and_the_fix_stops_it(attacked, machine):
    from rnn_helpers.instructor.privacy import check_exchange

    alice, bob, inbound = attacked["alice"], attacked["bob"], attacked["inbound"]
    decoy = inbound / f"{alice}+99_other+{exchange_time(0)}+decoy"
    as_user(machine, alice, "import os, sys; os.mkdir(sys.argv[1]); os.chmod(sys.argv[1], 0o755)", decoy)
    renamed = as_user(machine, bob, "import os, sys; os.rename(sys.argv[1], sys.argv[1] + '-gone')", decoy, check=False)
    assert renamed.returncode == 0, "nbgrader's inbound was expected to let a student rename another's upload"
    instructor_uid = pwd.getpwnam(attacked["instructor"]).pw_uid
    report = check_exchange(attacked["exchange"], "rnn-course", instructor_uid=instructor_uid)
    assert not report.private and "it is not sticky" in str(report)
    fixed = run([machine["python"], "-m", "rnn_helpers.instructor.privacy", str(attacked["course"]), "--fix",
                 "--exchange", str(attacked["exchange"]), "--homes", str(machine["base"] / "home")],
                user=attacked["instructor"], cwd=attacked["course"], env=attacked["ienv"], check=False)
    assert "closed" in fixed.stdout and fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert check_exchange(attacked["exchange"], "rnn-course", instructor_uid=instructor_uid).private
    again = as_user(machine, bob, "import os, sys; os.rename(sys.argv[1], sys.argv[1] + '-gone')",
                    attacked["crafted"], check=False)
    assert "PermissionError" in again.stderr, "after the fix a student still renames another's upload"
    assert_class_unharmed(attacked)


@pytest.mark.slow
def test_collect_refuses_an_inbound_folder_a_student_made(attacked, machine):
    bob = attacked["bob"]
    as_user(machine, bob, "import os, sys; os.makedirs(os.path.join(sys.argv[1], 'rnn-course-2', 'inbound'))",
            attacked["exchange"])
    result = subprocess.run([machine["python"], "-m", "nbgrader", "collect", ASSIGNMENT, "--course", "rnn-course-2"],
                            user=attacked["instructor"], group=attacked["instructor"], extra_groups=[],
                            cwd=attacked["course"], env=attacked["ienv"], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert f"belongs to {bob}, not to you: another account made it" in result.stderr
    assert_class_unharmed(attacked)
