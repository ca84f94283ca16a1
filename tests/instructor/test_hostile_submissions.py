"""Grading a class survives hostile and broken submissions, and every student gets exactly
the points they earned.

One class is graded with ``grade_class`` on assignment 01_sequences: an honest student
with the solution, and one student per hostile case. Each case is the solution with some
cells changed, and states which test cells it must fail (the cheats earn nothing for the
exercise they cheat on; the rest of their notebook is graded as usual).
"""
import copy
import hashlib
import io
import os
import pathlib
import secrets
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import (ROOT, Listener, autograded_tests, read_notebook, source_notebook, start_scheduler,
                      student_notebook)
from rnn_helpers.instructor import sandbox
from rnn_helpers.instructor.grade_class import GradingRun
from rnn_helpers.instructor.release import nbgrader_env

ASSIGNMENT = "01_sequences"
pytestmark = pytest.mark.xdist_group("hostile")

STEP = ["test-rnn-step-shape", "test-rnn-step-values", "test-rnn-step-hidden"]
FORWARD = ["test-rnn-forward-shape", "test-rnn-forward-values", "test-rnn-forward-hidden"]
COUNT = ["test-param-count-visible", "test-param-count-arrays", "test-param-count-hidden"]
OUTPUT = ["test-output-layer-shape", "test-output-layer-values", "test-output-layer-stable",
          "test-output-layer-hidden"]
TEACHER = ["test-output-to-hidden-shape", "test-output-to-hidden-values", "test-output-to-hidden-hidden"]

WRONG_COUNT = "def parameter_counts(D, H, K, T):\n    return {'rnn': H * H + H * D, 'window': 0}\n"
RIGHT_COUNT = ("def parameter_counts(D, H, K, T):\n"
               "    return {'rnn': H * D + H * H + H + K * H + K, 'window': T * D * H + H + H * T * K + T * K}\n")


def cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def set_answer(grade_id, source):
    def change(nb, course):
        cell(nb, grade_id).source = source
    return change


def delete_cell(grade_id, replacement=None):
    def change(nb, course):
        nb.cells.remove(cell(nb, grade_id))
        if replacement:
            cell(nb, "ex-param-count").source = replacement
    return change


def edit_tests_and_break_answer(nb, course):
    cell(nb, "ex-param-count").source = WRONG_COUNT
    for grade_id in COUNT:
        cell(nb, grade_id).source = "print('all tests passed')"


def duplicate_test_cell(nb, course):
    cell(nb, "ex-param-count").source = WRONG_COUNT
    original = cell(nb, "test-param-count-hidden")
    copy_of_test = copy.deepcopy(original)
    copy_of_test.source = "pass"
    copy_of_test.id = "copied-cell"
    nb.cells.insert(nb.cells.index(original) + 1, copy_of_test)


def read_secrets(nb, course):
    targets = [course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", course / "gradebook.db"]
    cell(nb, "ex-param-count").source = (
        "import json\n"
        f"source = json.load(open({str(targets[0])!r}))\n"
        "answer = [c for c in source['cells'] if c['metadata'].get('nbgrader', {}).get('grade_id') == 'ex-param-count']\n"
        "exec(''.join(answer[0]['source']))\n"
        f"open({str(targets[1])!r}, 'rb').read()\n")


def write_outside(nb, course):
    cell(nb, "ex-param-count").source = RIGHT_COUNT + (
        "import pathlib\n"
        f"for target in [{str(course / 'PWNED')!r}, {str(course / 'submitted' / 'honest' / 'PWNED')!r},\n"
        f"               {str(course / 'solutions' / ASSIGNMENT / 'PWNED')!r}, '/tmp/PWNED-by-student']:\n"
        "    try:\n"
        "        pathlib.Path(target).write_text('owned')\n"
        "    except OSError:\n"
        "        pass\n")


CASES = {
    # name: (change to the solution, test cells it must fail, needs the sandbox)
    "syntax-error": (set_answer("ex-param-count", "def parameter_counts(D, H, K, T)\n    return D\n"), COUNT, False),
    "import-error": (set_answer("ex-output-layer", "import a_module_that_does_not_exist\n"), OUTPUT, False),
    "infinite-loop": (set_answer("ex-param-count", "import time\nwhile True:\n    try:\n        time.sleep(0.2)\n"
                                                   "    except KeyboardInterrupt:\n        pass\n"),
                      COUNT + OUTPUT + TEACHER, False),
    "kills-kernel": (set_answer("ex-output-layer", "import os\nos._exit(0)\n"), OUTPUT + TEACHER, False),
    "deleted-answer-cell": (delete_cell("ex-param-count"), COUNT, False),
    "deleted-test-cell": (delete_cell("test-param-count-hidden", WRONG_COUNT), COUNT, False),
    "edited-test-cells": (edit_tests_and_break_answer, COUNT, False),
    "duplicate-grade-id": (duplicate_test_cell, COUNT, False),
    "monkeypatches-checks": (set_answer("ex-param-count", WRONG_COUNT + (
        "import numpy as np\nimport builtins\nimport rnn_helpers.grading as checks\n"
        "for name in dir(checks):\n"
        "    if name.startswith('expect_'):\n"
        "        setattr(checks, name, lambda *args, **kwargs: None)\n"
        "checks.load_reference = lambda name: None\n"
        "np.allclose = lambda *args, **kwargs: True\n"
        "np.testing.assert_allclose = lambda *args, **kwargs: None\n"
        "np.abs = lambda x: 0 * x\nnp.any = lambda *args, **kwargs: False\n"
        "builtins.AssertionError = Warning\n")), COUNT, False),
    "rebinds-names": (set_answer("ex-param-count", WRONG_COUNT + (
        "class PassEverything:\n"
        "    def __getattr__(self, name):\n"
        "        return lambda *args, **kwargs: None\n"
        "grading = PassEverything()\n")), COUNT, False),
    "calls-reference": (set_answer("ex-rnn-step", "from rnn_helpers.rnn import rnn_step_forward\n"), STEP, False),   # 02-style isolation: Exercise 2 is graded with the reference step
    "always-equal": (set_answer("ex-param-count", "class Anything(int):\n    def __eq__(self, other):\n        return True\n"
                                                  "    __hash__ = int.__hash__\n"
                                                  "def parameter_counts(D, H, K, T):\n    return {'rnn': Anything(0), 'window': Anything(0)}\n"), COUNT, False),
    "enormous-output": (set_answer("ex-param-count", RIGHT_COUNT + "for i in range(200000):\n    print('spam', i)\n"), [], False),
    "reads-solutions": (read_secrets, COUNT, True),
    "writes-outside": (write_outside, [], True),
}


def submit(course, student, nb):
    folder = course / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    nbformat.write(nb, str(folder / f"{ASSIGNMENT}.ipynb"))


def scores_by_cell(course):
    """{student: {grade_id: score}} for the autograded test cells."""
    tests = autograded_tests(read_notebook(source_notebook(ASSIGNMENT)))
    scores = {}
    with Gradebook(f"sqlite:///{course}/gradebook.db") as gb:
        for submission in gb.assignment_submissions(ASSIGNMENT):
            notebook = submission.notebooks[0]
            scores[submission.student.id] = {g.name: g.score for g in notebook.grades if g.name in tests}
    return scores


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    available, why = sandbox.availability()
    course = tmp_path_factory.mktemp("hostile-class")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    solution = read_notebook(source_notebook(ASSIGNMENT))
    submit(course, "honest", solution)
    for name, (change, _, needs_sandbox) in CASES.items():
        if needs_sandbox and not available:
            continue
        nb = copy.deepcopy(solution)
        change(nb, course)
        submit(course, name, nb)
    log = io.StringIO()
    run = GradingRun(course, isolation="auto", cell_timeout=20, out=log)
    try:
        table = run.grade([ASSIGNMENT])
    finally:
        run.close()
    return course, run, table, scores_by_cell(course), log.getvalue(), available, why


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_submission_gets_exactly_what_it_earned(graded_class, case):
    course, run, table, scores, log, sandboxed, why = graded_class
    if CASES[case][2] and not sandboxed:
        pytest.skip(f"needs the grading sandbox: {why}")
    tests = autograded_tests(read_notebook(source_notebook(ASSIGNMENT)))
    failing = set(CASES[case][1])
    expected = {gid: 0.0 if gid in failing else pts for gid, pts in tests.items()}
    assert scores[case] == expected


def test_honest_student_and_gradebook_are_unaffected(graded_class):
    course, run, table, scores, log, sandboxed, why = graded_class
    tests = autograded_tests(read_notebook(source_notebook(ASSIGNMENT)))
    assert scores["honest"] == tests
    assert set(table) == {"honest"} | {c for c, (_, _, needs) in CASES.items() if sandboxed or not needs}
    assert run.problems == [], f"grading problems: {run.problems}\n{log}"
    assert (course / "grades.csv").read_text().count(ASSIGNMENT) == len(table)


def test_sandbox_keeps_files_outside_the_submission_untouched(graded_class):
    course, run, table, scores, log, sandboxed, why = graded_class
    if not sandboxed:
        pytest.skip(f"needs the grading sandbox: {why}")
    assert "runs in a sandbox" in log
    assert not list(course.rglob("PWNED")) and not pathlib.Path("/tmp/PWNED-by-student").exists()


def test_enormous_output_is_truncated(graded_class):
    course = graded_class[0]
    graded = course / "autograded" / "enormous-output" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert graded.stat().st_size < 2_000_000


def test_feedback_shows_failures_but_no_hidden_tests(graded_class):
    course = graded_class[0]
    html = (course / "feedback" / "edited-test-cells" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "parameter_counts" in html and "AssertionError" in html
    # (this submission was made from the solution, so its own answers may show solution markers)
    for secret in ("BEGIN HIDDEN TESTS", "----&gt;"):
        assert secret not in html, f"feedback shows {secret!r}"


def test_regrading_gives_identical_grades(graded_class):
    course, run, table, scores, log, sandboxed, why = graded_class
    again = GradingRun(course, isolation="auto", cell_timeout=20, out=io.StringIO())
    try:
        again.prepare([ASSIGNMENT])
        again.grade_submissions([(ASSIGNMENT, student) for student in ("honest", "monkeypatches-checks")])
    finally:
        again.close()
    assert again.problems == []
    rescored = scores_by_cell(course)
    for student in ("honest", "monkeypatches-checks"):
        assert rescored[student] == scores[student]


@pytest.fixture(scope="session")
def autograded_by_hand(tmp_path_factory):
    """`nbgrader autograde` run by hand in a fresh course (no gradebook yet), as an instructor would."""
    course = tmp_path_factory.mktemp("by-hand")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    submit(course, "untouched", read_notebook(student_notebook(ASSIGNMENT)))
    reader = read_notebook(source_notebook(ASSIGNMENT))
    read_secrets(reader, course)
    submit(course, "reads-solutions", reader)
    result = subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT], cwd=course,
                            env=nbgrader_env(), capture_output=True, text=True)
    return course, result


def test_nbgrader_autograde_by_hand_grades_a_fresh_course_in_the_sandbox(autograded_by_hand):
    course, result = autograded_by_hand
    assert result.returncode == 0, result.stderr[-3000:]
    assert "has changed" not in result.stderr, "untouched cells reported as changed"
    available, why = sandbox.availability()
    if not available:
        assert "ISOLATION IS OFF" in result.stderr
        pytest.skip(f"needs the grading sandbox: {why}")
    assert "ISOLATION IS OFF" not in result.stderr
    scores = scores_by_cell(course)
    tests = autograded_tests(read_notebook(source_notebook(ASSIGNMENT)))
    assert scores["reads-solutions"] == {gid: 0.0 if gid in COUNT else pts for gid, pts in tests.items()}
    graded = read_notebook(course / "autograded" / "reads-solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    outputs = cell(graded, "ex-param-count").outputs
    assert [o.ename for o in outputs if o.output_type == "error"] == ["FileNotFoundError"], "solutions/ was readable"


# == Attacks on the kernel: the grading guard, the sandbox and the limits ===========================
#
# Two more classes, graded with grade_class (slow: `make test-slow`). Every case asserts what
# the whole corpus asserts: the exact scores it earned (the cheat earns nothing), nothing of
# the instructor's outside the grading folders changed, nothing secret reaches the feedback,
# and the honest student of the same class earns every point.

RAW_LOGITS = "def output_layer(hs, V, c):\n    return hs @ V.T + c\n"
UNNORMALISED = "def output_layer(hs, V, c):\n    return np.exp(hs @ V.T + c)\n"
WRONG_STEP = "def rnn_step_forward(x_t, h_prev, U, W, b):\n    return np.tanh(x_t @ U.T + b), None\n"
ZERO_COUNT = "def parameter_counts(D, H, K, T):\n    return {'rnn': 0, 'window': 0}\n"
SECRET = "INSTRUCTOR-ONLY-" + secrets.token_hex(8)
HIDDEN_TEST_MARK = "(300, 1024, 10000, 7)"   # a line of 01's hidden tests


def answer(grade_id, source):
    return set_answer(grade_id, source)


DEEP_CASES = {
    # numpy below numpy.testing: a module global of numpy._core that np.any and np.all use.
    "patches-numpy-core": (answer("ex-output-layer", RAW_LOGITS + (
        "import numpy._core.fromnumeric as fromnumeric\n"
        "fromnumeric._wrapreduction_any_all = lambda obj, ufunc, *args, **kwargs: ufunc is np.logical_and\n")),
        OUTPUT),
    # the ufunc level: every numpy module's name for absolute, any, all and isfinite.
    "patches-ufuncs": (answer("ex-output-layer", RAW_LOGITS + (
        "import sys\n"
        "fakes = {np.absolute: lambda x, *a, **k: 0 * np.asarray(x), np.isfinite: lambda x, *a, **k: np.ones(np.shape(x), bool),\n"
        "         np.any: lambda *a, **k: False, np.all: lambda *a, **k: True}\n"
        "for module in [m for name, m in list(sys.modules.items()) if name.startswith('numpy')]:\n"
        "    for key, value in list(vars(module).items()):\n"
        "        for real, fake in fakes.items():\n"
        "            if value is real:\n"
        "                setattr(module, key, fake)\n")), OUTPUT),
    # np.ndarray's own methods: its type is immutable, but gc.get_referents reaches its dict
    # (the guard stops the kernel there: the cells after it score zero).
    "patches-ndarray-methods": (answer("ex-output-layer", UNNORMALISED + (
        "import ctypes, gc\n"
        "try:\n"
        "    np.ndarray.sum = lambda self, *a, **k: np.ones(self.shape[:-1])\n"
        "except TypeError:\n"
        "    pass\n"
        "gc.get_referents(np.ndarray.__dict__)[0]['sum'] = lambda self, *a, **k: np.ones(self.shape[:-1])\n"
        "ctypes.pythonapi.PyType_Modified(ctypes.py_object(np.ndarray))\n")), OUTPUT + TEACHER),
    # builtins the checks use: isinstance() says a number that equals anything is an int.
    "patches-builtins": (answer("ex-param-count", (
        "import builtins\n"
        "class Liar:\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "    __hash__ = object.__hash__\n"
        "real_isinstance = builtins.isinstance\n"
        "builtins.isinstance = lambda obj, kind: kind is not bool if real_isinstance(obj, Liar) else real_isinstance(obj, kind)\n"
        "def parameter_counts(D, H, K, T):\n    return {'rnn': Liar(), 'window': Liar()}\n")), COUNT),
    # while the test runs: the function under test replaces the check it is about to face.
    "patches-during-the-test": (answer("ex-param-count", (
        "def parameter_counts(D, H, K, T):\n"
        "    import rnn_helpers.grading as checks\n"
        "    global grading\n"
        "    class PassEverything:\n"
        "        def __getattr__(self, name):\n"
        "            return lambda *args, **kwargs: None\n"
        "    checks.expect_equal = lambda *args, **kwargs: None\n"
        "    grading = PassEverything()\n"
        "    return {'rnn': 0, 'window': 0}\n")), COUNT),
    # the import system: a fake module in sys.modules and in the package's namespace.
    "replaces-modules": (answer("ex-param-count", ZERO_COUNT + (
        "import sys, types, rnn_helpers\n"
        "fake = types.ModuleType('rnn_helpers.grading')\n"
        "fake.__getattr__ = lambda name: (lambda *args, **kwargs: None)\n"
        "sys.modules['rnn_helpers.grading'] = fake\n"
        "rnn_helpers.grading = fake\n")), COUNT),
    # IPython: an input transformer that empties every test cell before it runs.
    "rewrites-test-cells": (answer("ex-param-count", ZERO_COUNT + (
        "get_ipython().input_transformers_post.append(\n"
        "    lambda lines: ['pass\\n'] if any('expect_' in line for line in lines) else lines)\n")), COUNT),
    # ipykernel: drop the test's error and report it as a success.
    "hides-errors": (answer("ex-param-count", (
        "def parameter_counts(D, H, K, T):\n"
        "    session = get_ipython().kernel.session\n"
        "    send = type(session).send\n"
        "    def quiet(stream, msg_or_type, content=None, *args, **kwargs):\n"
        "        if msg_or_type == 'error':\n"
        "            return None\n"
        "        if msg_or_type == 'execute_reply' and isinstance(content, dict):\n"
        "            content = dict(content, status='ok')\n"
        "        return send(session, stream, msg_or_type, content, *args, **kwargs)\n"
        "    session.send = quiet\n"
        "    return {'rnn': 0, 'window': 0}\n")), COUNT),
    # ipykernel: tell the grader the test finished (a reply and an idle status) before it fails.
    "fakes-completion": (answer("ex-param-count", (
        "def parameter_counts(D, H, K, T):\n"
        "    import time\n"
        "    kernel = get_ipython().kernel\n"
        "    parent = kernel.get_parent('shell')\n"
        "    kernel.session.send(kernel.shell_stream, 'execute_reply', {'status': 'ok', 'execution_count': 1,\n"
        "                        'user_expressions': {}, 'payload': []}, parent, ident=kernel._parent_ident['shell'])\n"
        "    kernel.session.send(kernel.iopub_socket, 'status', {'execution_state': 'idle'}, parent,\n"
        "                        ident=kernel._topic('status'))\n"
        "    time.sleep(1)\n"
        "    return {'rnn': 0, 'window': 0}\n")), COUNT),
    # a trace function that changes the check's globals only while the check runs, so that
    # nothing looks changed before or after it (sys.settrace stops the kernel).
    "traces-the-tests": (answer("ex-param-count", (
        "import sys\n"
        "class Liar:\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "    __hash__ = object.__hash__\n"
        "def parameter_counts(D, H, K, T):\n    return {'rnn': Liar(), 'window': Liar()}\n"
        "def tracer(frame, event, arg):\n"
        "    if event == 'call' and frame.f_code.co_name == 'expect_equal':\n"
        "        frame.f_globals['type'] = lambda *args: int\n"
        "        def on_return(frame, event, arg):\n"
        "            if event == 'return':\n"
        "                frame.f_globals.pop('type', None)\n"
        "            return on_return\n"
        "        return on_return\n"
        "    return None\n"
        "sys.settrace(tracer)\n")), COUNT + OUTPUT + TEACHER),
    # a signal handler that keeps replacing the check, from a timer.
    "patches-from-a-signal": (answer("ex-param-count", ZERO_COUNT + (
        "import signal\n"
        "import rnn_helpers.grading as checks\n"
        "def patch(*args):\n"
        "    checks.expect_equal = lambda *args, **kwargs: None\n"
        "signal.signal(signal.SIGALRM, patch)\n"
        "signal.setitimer(signal.ITIMER_REAL, 0.001, 0.001)\n")), COUNT),
    # a thread that keeps replacing the check: every test after it scores zero.
    "patches-from-a-thread": (answer("ex-param-count", ZERO_COUNT + (
        "import threading, time\n"
        "import rnn_helpers.grading as checks\n"
        "def keep_patching():\n"
        "    while True:\n"
        "        checks.expect_equal = lambda *args, **kwargs: None\n"
        "        time.sleep(0.001)\n"
        "threading.Thread(target=keep_patching, daemon=True).start()\n")), COUNT + OUTPUT + TEACHER),
    # a closure cell: reference_disabled's generator replaced, then the reference called.
    # (Exercise 2's tests run the student's loop with the course's step, so only Exercise 1 is lost.)
    "patches-a-closure": (answer("ex-rnn-step", (
        "from rnn_helpers.rnn import rnn_step_forward\n"
        "import rnn_helpers.grading as checks\n"
        "def allow_everything():\n    yield\n"
        "checks.reference_disabled.__closure__[0].cell_contents = allow_everything\n")), STEP),
    # the bytecode cache: a forged .pyc of the reference (same mtime and size as its source)
    # under sys.pycache_prefix, so that load_reference computes the student's wrong values.
    "forges-reference-bytecode": (answer("ex-rnn-step", WRONG_STEP + (
        "import importlib._bootstrap_external as external, os, sys\n"
        "import rnn_helpers.rnn as rnn_module\n"
        "source = open(rnn_module.__file__).read() + '\\n' + " + repr(WRONG_STEP) + "\n"
        "info = os.stat(rnn_module.__file__)\n"
        "sys.pycache_prefix = '/tmp/forged-bytecode'\n"
        "target = external.cache_from_source(rnn_module.__file__)\n"
        "os.makedirs(os.path.dirname(target), exist_ok=True)\n"
        "with open(target, 'wb') as f:\n"
        "    f.write(external._code_to_timestamp_pyc(compile(source, rnn_module.__file__, 'exec'), info.st_mtime, info.st_size))\n"
        )), STEP[1:]),
    # a module that the fresh copy of the reference imports (load_reference runs rnn.py anew, but
    # `from .validation import ...` takes what is in sys.modules): W zeroed, so the reference
    # computes the same wrong step.
    "patches-what-the-reference-imports": (answer("ex-rnn-step", WRONG_STEP + (
        "import rnn_helpers.validation as validation\n"
        "real = validation.as_float_array\n"
        "def without_W(name, value, *args, **kwargs):\n"
        "    out = real(name, value, *args, **kwargs)\n"
        "    return out * 0 if name == 'W' else out\n"
        "validation.as_float_array = without_W\n")), STEP[1:]),
    # the checks' code objects swapped for one that returns at once (this stops the kernel).
    "swaps-function-code": (answer("ex-param-count", ZERO_COUNT + (
        "import rnn_helpers.grading as checks\n"
        "for name in ('expect_equal', 'expect_close', 'expect_shape'):\n"
        "    getattr(checks, name).__code__ = (lambda *args, **kwargs: None).__code__\n")), COUNT + OUTPUT + TEACHER),
    # the guard itself: its module's settings, sys.audit, and the objects gc can list.
    "tampers-with-the-guard": (answer("ex-param-count", ZERO_COUNT + (
        "import gc, sys\n"
        "import rnn_helpers.instructor.integrity as guard\n"
        "import rnn_helpers.grading as checks\n"
        "guard.REFUSED, guard.PROTECTED_ROOTS = frozenset(), ()\n"
        "try:\n"
        "    hooks = [o for o in gc.get_objects() if getattr(o, '__name__', '') == 'guard']\n"
        "except RuntimeError:\n"
        "    pass\n"
        "checks.expect_equal = lambda *args, **kwargs: None\n"
        "sys.audit = lambda *args: None\n")), COUNT + OUTPUT + TEACHER),
}


def shadow_files(nb, course):
    """Start-up files beside the notebook: a package named like the course's, numpy.py, a fake
    ipykernel_launcher.py, sitecustomize.py, usercustomize.py and a .pth file. Each would leave
    a mark outside the sandbox (or fake the checks) if the grader or the kernel imported it."""
    cell(nb, "ex-param-count").source = ZERO_COUNT
    marks = [course / "SHADOW-RAN", pathlib.Path("/tmp/SHADOW-RAN-by-student")]
    leave_mark = ("import pathlib\n"
                  f"for mark in {[str(m) for m in marks]!r}:\n"
                  "    try:\n        pathlib.Path(mark).write_text(__name__)\n    except OSError:\n        pass\n")
    return {"rnn_helpers/__init__.py": leave_mark, "rnn_helpers/grading.py": leave_mark + (
                "def __getattr__(name):\n    return lambda *args, **kwargs: None\n"),
            "rnn_helpers/instructor/__init__.py": leave_mark, "rnn_helpers/instructor/sandbox.py": leave_mark,
            "numpy.py": leave_mark, "ipykernel_launcher.py": leave_mark, "sitecustomize.py": leave_mark,
            "usercustomize.py": leave_mark,
            "zz-course.pth": f"import pathlib; [pathlib.Path(m).write_text('pth') for m in {[str(m) for m in marks]!r}]\n"}


CONFINEMENT_CASES = {
    # name: (change returning extra files or None, test cells it must fail, note the feedback must show)
    "shadows-start-up-files": (shadow_files, COUNT, None),
    "memory-bomb": (lambda nb, course: set_answer("ex-param-count", (
        "def parameter_counts(D, H, K, T):\n"
        "    hoard = np.ones(3 * 2 ** 30 // 8)\n"
        "    return {'rnn': int(hoard[0]), 'window': 0}\n"))(nb, course), COUNT, "MB of memory per process"),
    "fork-bomb": (lambda nb, course: set_answer("ex-param-count", RIGHT_COUNT.replace("    return", (
        "    import os, time\n"
        "    while True:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(600)\n"
        "            os._exit(0)\n"
        "    return"), 1))(nb, course), COUNT, "processes and threads"),
    "fills-the-disk": (lambda nb, course: set_answer("ex-param-count", RIGHT_COUNT.replace("    return", (
        "    for name in ('filler', '/tmp/filler', '/dev/shm/filler'):\n"
        "        with open(name, 'wb') as f:\n"
        "            for _ in range(300):\n"
        "                f.write(b'x' * 2 ** 20)\n"
        "    return"), 1))(nb, course), COUNT, "MB written"),
    "prints-a-50-MB-line": (lambda nb, course: set_answer(
        "ex-param-count", RIGHT_COUNT + "print('x' * 50_000_000)\n")(nb, course), [], "characters per line]"),
    "swallows-the-interrupt-then-finishes": (lambda nb, course: set_answer("ex-param-count", (
        "import time\n"
        "while True:\n"
        "    try:\n        time.sleep(0.2)\n"
        "    except KeyboardInterrupt:\n        break\n"
        "time.sleep(2)\n") + RIGHT_COUNT)(nb, course), COUNT + OUTPUT + TEACHER, None),
    "plants-links-in-its-folder": (lambda nb, course: set_answer("ex-param-count", RIGHT_COUNT + (
        "import os\n"
        f"for name, target in [('01_sequences.ipynb', {str(course / 'gradebook.db')!r}),\n"
        f"                     ('loot.txt', {str(course / 'solutions' / ASSIGNMENT / (ASSIGNMENT + '.ipynb'))!r}),\n"
        f"                     ('secret.txt', {str(course / 'instructor-secret.txt')!r})]:\n"
        "    try:\n        os.remove(name)\n    except OSError:\n        pass\n"
        "    os.symlink(target, name)\n"))(nb, course), [], None),
    "reads-its-environment": (lambda nb, course: set_answer(
        "ex-param-count", RIGHT_COUNT + "import os\nprint(dict(os.environ))\n")(nb, course), [], None),
    "uses-the-network": (None, [], None),   # filled in by the fixture (it knows the ports)
}


def network_attack(listener_port, scheduler_port):
    """An answer that tries the host's loopback (a listener and a Dask scheduler) and its address."""
    return set_answer("ex-param-count", RIGHT_COUNT + (
        "import socket\n"
        f"targets = [('127.0.0.1', {listener_port}), ('127.0.0.1', {scheduler_port}), ('localhost', {listener_port})]\n"
        "try:\n"
        f"    targets.append((socket.gethostbyname(socket.gethostname()), {listener_port}))\n"
        "except OSError:\n"
        "    pass\n"
        "for target in targets:\n"
        "    try:\n"
        "        socket.create_connection(target, timeout=3).sendall(b'hello from a graded cell')\n"
        "        print('reached', target)\n"
        "    except OSError as error:\n"
        "        print('not reached', target, type(error).__name__)\n"
        "try:\n"
        "    import distributed\n"
        f"    distributed.Client('tcp://127.0.0.1:{scheduler_port}', timeout='3s').submit(print, 'pwned').result()\n"
        "    print('submitted a task')\n"
        "except Exception as error:\n"
        "    print('no Dask client', type(error).__name__)\n"))


def build_course(base):
    """A course of 01_sequences, a secret file of the instructor's, and the honest student."""
    course = base / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / ASSIGNMENT, course / "solutions" / ASSIGNMENT)
    (course / "instructor-secret.txt").write_text(SECRET + "\n")
    submit(course, "honest", read_notebook(source_notebook(ASSIGNMENT)))
    return course


def instructor_digest(course):
    """A digest of everything of the instructor's that grading must leave alone (so: not the
    grading folders, the gradebook, grades.csv and nbgrader's log), and the marks attacks leave."""
    digest = hashlib.sha256()
    skipped = {"autograded", "feedback", "submitted", "gradebook.db", "grades.csv", ".nbgrader.log",
               "notebooks"}   # (the student version, which grading generates)
    for path in sorted(course.rglob("*")):
        relative = path.relative_to(course)
        if relative.parts[0] in skipped or "__pycache__" in relative.parts:
            continue
        digest.update(str(relative).encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    outside = sorted(str(p) for p in pathlib.Path("/tmp").glob("*by-student*")) + \
        sorted(str(p) for p in pathlib.Path("/tmp").glob("forged-bytecode"))
    return digest.hexdigest(), outside


def grade(course, cell_timeout=60):
    log = io.StringIO()
    run = GradingRun(course, isolation="auto", cell_timeout=cell_timeout, out=log)
    try:
        table = run.grade([ASSIGNMENT])
    finally:
        run.close()
    return run, table, scores_by_cell(course), log.getvalue()


def needs_sandbox():
    available, why = sandbox.availability()
    if not available:
        pytest.skip(f"needs the grading sandbox: {why}")


@pytest.fixture(scope="session")
def cheating_class(tmp_path_factory):
    needs_sandbox()
    course = build_course(tmp_path_factory.mktemp("cheating-class"))
    solution = read_notebook(source_notebook(ASSIGNMENT))
    for name, (change, _) in DEEP_CASES.items():
        nb = copy.deepcopy(solution)
        change(nb, course)
        submit(course, name, nb)
    before = instructor_digest(course)
    return (course, before) + grade(course)


@pytest.fixture(scope="session")
def dask_scheduler(tmp_path_factory):
    """A Dask scheduler on the loopback, started as the cluster mode's instructions say (without TLS)."""
    process, port, log = start_scheduler(tmp_path_factory.mktemp("scheduler"))
    try:
        yield port, log
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def confined_class(tmp_path_factory, dask_scheduler):
    needs_sandbox()
    course = build_course(tmp_path_factory.mktemp("confined-class"))
    listener = Listener()
    os.environ["RNN_TEST_GRADER_SECRET"] = SECRET   # in the grader's environment, never the kernel's
    solution = read_notebook(source_notebook(ASSIGNMENT))
    for name, (change, _, _) in CONFINEMENT_CASES.items():
        nb = copy.deepcopy(solution)
        if name == "uses-the-network":
            change = network_attack(listener.port, dask_scheduler[0])
        extra = change(nb, course)
        submit(course, name, nb)
        for relative, text in (extra or {}).items():
            target = course / "submitted" / name / ASSIGNMENT / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    before = instructor_digest(course)
    try:
        graded = grade(course)
    finally:
        del os.environ["RNN_TEST_GRADER_SECRET"]
    return (course, before) + graded + (listener, dask_scheduler[1])


def expected_scores(failing):
    tests = autograded_tests(read_notebook(source_notebook(ASSIGNMENT)))
    return {gid: 0.0 if gid in failing else pts for gid, pts in tests.items()}


def feedback_of(course, student):
    folder = course / "feedback" / student / ASSIGNMENT
    return "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


def assert_contained(course, before, scores, student):
    """The corpus's three promises, for one hostile student."""
    assert instructor_digest(course) == before, "grading changed something of the instructor's"
    assert scores["honest"] == expected_scores([]), "the honest student's grade changed"
    returned = feedback_of(course, student)
    for secret in (SECRET, HIDDEN_TEST_MARK, "BEGIN HIDDEN TESTS"):
        assert secret not in returned, f"{student}'s feedback shows {secret!r}"


@pytest.mark.slow
@pytest.mark.xdist_group("cheating-class")
@pytest.mark.parametrize("case", sorted(DEEP_CASES))
def test_a_deep_monkeypatch_earns_nothing(cheating_class, case):
    course, before, run, table, scores, log = cheating_class
    assert run.problems == [], f"grading problems: {run.problems}\n{log}"
    assert scores[case] == expected_scores(DEEP_CASES[case][1])
    assert_contained(course, before, scores, case)


@pytest.mark.slow
@pytest.mark.xdist_group("confined-class")
@pytest.mark.parametrize("case", sorted(CONFINEMENT_CASES))
def test_a_confined_submission_gets_exactly_what_it_earned(confined_class, case):
    course, before, run, table, scores, log, listener, scheduler_log = confined_class
    assert run.problems == [], f"grading problems: {run.problems}\n{log}"
    assert scores[case] == expected_scores(CONFINEMENT_CASES[case][1])
    assert_contained(course, before, scores, case)
    note = CONFINEMENT_CASES[case][2]
    if note:
        assert note in feedback_of(course, case), f"the feedback does not say which limit was reached ({note!r})"


@pytest.mark.slow
@pytest.mark.xdist_group("confined-class")
def test_the_class_report_says_which_limit_or_timeout_a_submission_reached(confined_class):
    log = confined_class[5]
    said = {case: next(line for line in log.splitlines() if f" {case} / {ASSIGNMENT}: " in line)
            for case in ("memory-bomb", "fork-bomb", "fills-the-disk", "swallows-the-interrupt-then-finishes")}
    assert "MB of memory per process" in said["memory-bomb"], said
    assert "processes and threads" in said["fork-bomb"], said
    assert "MB written" in said["fills-the-disk"], said
    assert "went on past its timeout" in said["swallows-the-interrupt-then-finishes"], said


@pytest.mark.slow
@pytest.mark.xdist_group("confined-class")
def test_a_graded_cell_reaches_nothing_on_the_network(confined_class):
    course, before, run, table, scores, log, listener, scheduler_log = confined_class
    assert listener.received == [], f"the loopback listener received {listener.received}"
    assert "Receive client connection" not in scheduler_log.read_text(), "a graded cell reached the Dask scheduler"
    graded = read_notebook(course / "autograded" / "uses-the-network" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    printed = "".join(o.get("text", "") for o in cell(graded, "ex-param-count").outputs)
    assert "not reached ('127.0.0.1'" in printed and "reached ('" not in printed.replace("not reached", "")
    assert "submitted a task" not in printed


@pytest.mark.slow
@pytest.mark.xdist_group("confined-class")
def test_nothing_from_the_submission_folder_runs_at_start_up(confined_class):
    course = confined_class[0]
    assert not (course / "SHADOW-RAN").exists() and not pathlib.Path("/tmp/SHADOW-RAN-by-student").exists()


@pytest.mark.slow
@pytest.mark.xdist_group("confined-class")
def test_huge_output_is_cut_in_the_graded_notebook_and_the_feedback(confined_class):
    course = confined_class[0]
    graded = course / "autograded" / "prints-a-50-MB-line" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    feedback = course / "feedback" / "prints-a-50-MB-line" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert graded.stat().st_size < 2_000_000 and feedback.stat().st_size < 3_000_000


@pytest.mark.slow
@pytest.mark.xdist_group("confined-class")
def test_the_kernel_sees_none_of_the_graders_environment(confined_class):
    course = confined_class[0]
    graded = (course / "autograded" / "reads-its-environment" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()
    assert "HOME" in graded and SECRET not in graded and "RNN_TEST_GRADER_SECRET" not in graded
