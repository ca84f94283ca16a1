"""The sealed student environment (``rnn_helpers/instructor/sealing.py``): no graded function's
reference is readable in it, everything else works, and the instructor's package is untouched.

The quick tests read a sealed copy of the package written into a temporary folder. The slow ones
pip-install that copy into a new virtual environment and check that it holds no answer, and run
every untouched student notebook NN in a kernel that reads the copy sealed for it (notebooks
before NN open: ``write_sealed_copy(..., open_through=NN - 1)``), with the checks of
``test_untouched_student_notebooks.py``.
"""
import ast
import hashlib
import importlib
import inspect
import json
import marshal
import operator
import os
import pathlib
import re
import subprocess
import sys
import sysconfig
import textwrap
import venv

import numpy as np
import pytest
from rnn_helpers.instructor import sealing

from conftest import ASSIGNMENTS, ROOT, grade_cells, read_notebook, source_notebook
from test_untouched_student_notebooks import (NAMES, autograder_length_run, cells_that_say_passed,
                                              name_errors_outside_exercises, untouched_run)

PACKAGE = ROOT / "rnn_helpers"


@pytest.fixture(scope="module")
def sealed(tmp_path_factory):
    """(folder of the sealed copy, dotted names it sealed)."""
    folder = tmp_path_factory.mktemp("sealed") / "course"
    return folder, sealing.write_sealed_copy(folder)


def _module_path(root, dotted):
    return pathlib.Path(root, *dotted.split(".")).with_suffix(".py")


def _split(dotted):
    """"rnn_helpers.lessons.leaky_units.reaction_delay" -> ("rnn_helpers.lessons.leaky_units",
    "reaction_delay"); a method keeps its class: ("rnn_helpers.optim", "SGD.step")."""
    for module, names in sealing.SEALED.items():
        for name in names:
            if dotted == f"rnn_helpers.{module}.{name}":
                return f"rnn_helpers.{module}", name
    module, _, name = dotted.rpartition(".")
    return module, name


def test_every_graded_function_has_its_reference_sealed():
    """An exercise's function that the package defines under the same name is sealed, and every
    entry of the table names a notebook of the course and a function of the package."""
    sealed = {f"{module}.{name}" for module, names in sealing.SEALED.items() for name in names}
    top_level = {}
    for path in PACKAGE.rglob("*.py"):
        if "instructor" in path.parts:
            continue
        module = ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef):
                top_level.setdefault(node.name, []).append(module)
            elif isinstance(node, ast.ClassDef):
                top_level.update({f"{node.name}.{m.name}": top_level.get(f"{node.name}.{m.name}", []) + [module]
                                  for m in node.body if isinstance(m, ast.FunctionDef)})
    unsealed = []
    for assignment in ASSIGNMENTS:
        for cell, meta in grade_cells(read_notebook(source_notebook(assignment))).values():
            if not meta.get("solution") or cell.cell_type != "code":
                continue
            for name in re.findall(r"^def (\w+)", cell.source, re.MULTILINE):
                unsealed += [f"{assignment}: rnn_helpers.{module}.{name}" for module in top_level.get(name, [])
                             if f"{module}.{name}" not in sealed]
    assert not unsealed, "the reference of these exercises is not sealed:\n" + "\n".join(unsealed)
    for module, names in sealing.SEALED.items():
        for name, notebook in names.items():
            assert notebook in ASSIGNMENTS, f"{module}.{name}: no notebook {notebook}"
            assert module in top_level.get(name, []), f"rnn_helpers.{module} defines no {name}"


def _exercise_functions(assignment):
    """The names an assignment's exercises define in their solution cells (functions, classes
    and ``Class.method``), and the sources of its graded test cells."""
    defined, tests = set(), []
    for cell, meta in grade_cells(read_notebook(source_notebook(assignment))).values():
        if cell.cell_type != "code":
            continue
        if meta.get("solution"):
            tree = ast.parse(cell.source)
            defined |= set(sealing._functions(tree)) | {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
        elif meta.get("grade"):
            tests.append(cell.source)
    return defined, tests


def test_every_entry_of_the_sealing_table_is_still_a_graded_function():
    """Names drift when an exercise is renamed: each sealed function is still what an exercise
    of its notebook defines (under its name in ``STUDENT_NAMES``: ``gru_forward`` runs the student's
    ``gru_step_forward``), or what its graded tests compare with (``reference.Adam`` for the
    student's ``AdamOptimizer``)."""
    stale = []
    for module, names in sealing.SEALED.items():
        for name, notebook in names.items():
            defined, tests = _exercise_functions(notebook)
            compared = any(f'load_reference("{module}")' in source
                           and re.search(rf"\.{re.escape(name.split('.')[0])}\(", source) for source in tests)
            if sealing.STUDENT_NAMES.get(module, {}).get(name, name) not in defined and not compared:
                stale.append(f"rnn_helpers.{module}.{name} ({notebook})")
    assert not stale, "no exercise defines these, and no graded test compares with them:\n" + "\n".join(stale)
    for module, names in sealing.STUDENT_NAMES.items():
        for name, student_name in names.items():
            notebook = sealing.SEALED[module][name]
            assert student_name in _exercise_functions(notebook)[0], \
                f"rnn_helpers.{module}.{name}: {notebook}'s exercises define no {student_name}"


def test_open_through_keeps_the_chapters_already_due_whole(tmp_path):
    """With open_through=2 the references of 01's and 02's exercises are whole, 03's on sealed."""
    sealed = sealing.write_sealed_copy(tmp_path / "course", open_through=2)
    everything = {f"rnn_helpers.{module}.{name}": notebook
                  for module, names in sealing.SEALED.items() for name, notebook in names.items()}
    assert set(sealed) & set(everything) == {dotted for dotted, notebook in everything.items() if notebook[:2] > "02"}
    assert {"rnn_helpers.rnn.rnn_forward", "rnn_helpers.rnn.rnn_backward"} <= set(everything) - set(sealed)
    for dotted, notebook in everything.items():
        module, name = _split(dotted)
        copy = sealing._functions(ast.parse(_module_path(tmp_path / "course", module).read_text()))[name]
        original = sealing._functions(ast.parse(_module_path(ROOT, module).read_text()))[name]
        if notebook[:2] <= "02":
            assert ast.dump(copy) == ast.dump(original), f"{dotted} ({notebook}) should be whole"
        else:
            assert sealing.CALL in ast.unparse(copy), f"{dotted} ({notebook}) should be sealed"
    assert set(everything) <= set(sealing.write_sealed_copy(tmp_path / "all"))    # the default: all sealed


_CHECKS = "checks the arguments and names the one that is wrong"
#: Functions of a sealed function's own module that it calls and that the sealed copy ships whole
#: because they hold no part of an answer: {dotted name: why}.
HELPERS_WITHOUT_ANSWERS = {
    **dict.fromkeys(["rnn_helpers.rnn._check_params", "rnn_helpers.lstm._check_params",
                     "rnn_helpers.gru._check_params", "rnn_helpers.lessons.gradient_decay._check_int",
                     "rnn_helpers.lessons.gradient_decay._check_eigenvalues",
                     "rnn_helpers.lessons.gradient_decay._check_nonlinearity",
                     "rnn_helpers.lessons.leaky_units._as_alpha", "rnn_helpers.lessons.parameter_sharing._positive_ints",
                     "rnn_helpers.lessons.skip_connections._check_delay", "rnn_helpers.lessons.teacher_forcing._check",
                     "rnn_helpers.lessons.truncated_bptt._positive_int", "rnn_helpers.linear_rnn._check_layer",
                     "rnn_helpers.optim._check_grads", "rnn_helpers.torch_bridge._check_layer"], _CHECKS),
    **dict.fromkeys(["rnn_helpers.gru.sigmoid", "rnn_helpers.lstm.sigmoid", "rnn_helpers.linear_rnn.sigmoid"],
                    "the logistic function, which the notebooks give"),
    "rnn_helpers.attention.allowed_keys": "the booleans of the padding mask and the causal mask, which 09 states",
    "rnn_helpers.attention.masked_softmax": "the softmax over the allowed keys, which 09 gives (softmax_where)",
    "rnn_helpers.attention.softmax_where": "the softmax over the allowed keys, which 09 gives",
    "rnn_helpers.attention.additive_keys": "the product h W_h^T of the additive score's formula, which 09 states",
    "rnn_helpers.lessons.bptt_feedback._first_match": "compares a value with the hints' candidates",
    "rnn_helpers.lessons.bptt_feedback._same": "compares two arrays",
    "rnn_helpers.lessons.forward_feedback._first_match": "compares a value with the hints' candidates",
    "rnn_helpers.lessons.forward_feedback._same": "compares two arrays",
    "rnn_helpers.lessons.gradient_decay._random_orthogonal": "a random orthogonal matrix (initialisation.orthogonal)",
    "rnn_helpers.lessons.pytorch_feedback._norm": "the norm of arrays (optim.global_norm ships it too)",
    "rnn_helpers.linear_rnn._project": "the input projection x U^T + b of all steps, one matmul",
    "rnn_helpers.linear_rnn.feature_map": "phi = elu + 1 of the linear attention, which 11 gives (a cell defines phi)",
    "rnn_helpers.torch_bridge.torch_names": "PyTorch's names of a layer's parameters",
}
#: Functions that a sealed function calls, that compute part of its answer and that the sealed copy
#: still ships whole, because unsealed code of the package calls them too or because they are public
#: (the sealing drops only private helpers): {dotted name: why} (the test fails when one of them is
#: sealed and still listed).
CALLED_ANSWERS_SHIPPED = {
    "rnn_helpers.rnn.input_and_weight_gradients": "02's rnn_backward after the time loop (dx, dU, dW, db from the "
                                                  "pre-activations' gradients); relu_rnn's backward calls it too",
    "rnn_helpers.lessons.gradient_decay.derivative_from_state": "f'(a_t) from h_t in 03's Jacobians; an unsealed "
                                                                "function of the module calls it too",
    "rnn_helpers.lessons.gradient_decay._block_diagonal": "the blocks of 03's matrix_with_eigenvalues; an unsealed "
                                                         "function of the module calls it too",
    "rnn_helpers.lessons.parameter_sharing.rnn_shapes": "01's parameter_counts (the RNN's shapes); public, called "
                                                      "only there",
    "rnn_helpers.lessons.parameter_sharing.window_shapes": "01's parameter_counts (the window network's shapes); "
                                                         "public, called only there",
    "rnn_helpers.lessons.parameter_sharing.size": "01's parameter_counts (the sum of the shapes' sizes); public, "
                                                "called only there",
    "rnn_helpers.lessons.teacher_forcing.previous_targets_onehot": "the inputs of 01's teacher_forced_logits; public, "
                                                                   "called only there",
    "rnn_helpers.optim.global_norm": "the norm in 04's clip_grad_norm; the training loop calls it",
    "rnn_helpers.attention.additive_keys_backward": "the keys' part of 09's attention_backward; seq2seq calls it",
    "rnn_helpers.linear_rnn._mix": "minGRU's recurrence (11's mingru_forward); minlstm_forward calls it too",
}


def _own_calls(node, functions, owner):
    """The functions of ``functions`` (a module's, by name or ``Class.method``) that the calls inside
    ``node`` (a function of class ``owner``, or of the module: ``owner`` "") name."""
    found = set()
    for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
        func = call.func
        if isinstance(func, ast.Name) and func.id in functions:
            found.add(func.id)
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            name = f"{owner if func.value.id in ('self', 'cls') else func.value.id}.{func.attr}"
            found |= {name} & set(functions)
    return found


def test_what_a_sealed_function_calls_of_its_own_module_is_sealed_too(sealed):
    """A sealed function's answer can live in the helpers of its module that it calls (a step's
    gates, a backward's chain rule): every function of its own module that it calls, directly or
    through other helpers, is sealed in the sealed copy too (sealed itself, or dropped as a private
    helper that only sealed code used), unless ``HELPERS_WITHOUT_ANSWERS`` says why it holds no
    answer. A helper that an unsealed function also calls stays whole and ships the answer."""
    folder, names = sealed
    shipped, sealed_now = {}, set()
    for module in sorted({_split(dotted)[0] for dotted in names}):
        original = sealing._functions(ast.parse(_module_path(ROOT, module).read_text()))
        copy = sealing._functions(ast.parse(_module_path(folder, module).read_text()))
        is_sealed = {name for name, node in copy.items() if sealing.CALL in ast.unparse(node)}
        todo = [(name, name) for name in is_sealed & {_split(dotted)[1] for dotted in names if
                                                      _split(dotted)[0] == module}]
        seen = set()
        while todo:
            caller, name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            for called in _own_calls(original[name], original, name.rpartition(".")[0]):
                dotted = f"{module}.{called}"
                if called not in is_sealed and dotted not in HELPERS_WITHOUT_ANSWERS | CALLED_ANSWERS_SHIPPED:
                    shipped.setdefault(dotted, set()).add(f"{module}.{caller}")
                todo.append((caller, called))
        sealed_now |= {f"{module}.{name}" for name in is_sealed}
    assert not shipped, ("these functions are called by sealed functions and ship whole in the sealed copy (seal "
                         "what calls them, or say in HELPERS_WITHOUT_ANSWERS why they hold no answer):\n"
                         + "\n".join(f"{dotted} (called by {', '.join(sorted(by))})"
                                      for dotted, by in sorted(shipped.items())))
    assert not set(CALLED_ANSWERS_SHIPPED) & sealed_now, \
        f"sealed now: {sorted(set(CALLED_ANSWERS_SHIPPED) & sealed_now)} (take them off CALLED_ANSWERS_SHIPPED)"
    assert set(HELPERS_WITHOUT_ANSWERS) <= {f"{_split(d)[0]}.{n}" for d in names
                                           for n in sealing._functions(ast.parse(_module_path(ROOT, _split(d)[0])
                                                                                 .read_text()))}, \
        "HELPERS_WITHOUT_ANSWERS names a function that no sealed module defines"


#: The grading helpers whose third argument is a test's expected value.
EXPECTATIONS = {"expect_close", "expect_scalar", "expect_equal"}
#: Functions of the package that a test's expected value may come from without computing an
#: exercise's answer: {dotted name: why}.
NOT_ANSWERS = {
    "rnn_helpers.gradcheck.numerical_gradient": "centred differences of the function it is given (whose calls "
                                                "are checked in turn)",
    "rnn_helpers.lessons.gradient_decay.run_recurrence": "the states that jacobian_norms is given as its input",
    "rnn_helpers.lessons.bidirectional_deep_feedback.stacked_test_inputs": "the random inputs of a stack, whose caches "
        "come from the reference module it is given (the course's stacked_rnn_forward, sealed)",
    "rnn_helpers.lessons.language_model.init_params": "the random parameters that the test starts from",
    "rnn_helpers.lessons.pytorch_feedback.trained_state": "the random arrays that the test starts from",
    "rnn_helpers.lessons.pytorch_feedback._loss_and_gradient": "the loss of a linear model, which no exercise "
                                                               "asks for (train_step's test compares the update)",
    "rnn_helpers.lessons.pytorch_feedback._norm": "the norm of arrays (optim.global_norm ships it too)",
    "rnn_helpers.optim.clip_grad_value": "clips one given gradient; 04's exercise asks for the longest step over "
                                         "all gradients",
}
#: Functions that compute an exercise's answer and that the sealed copy still ships whole, with
#: why they are not sealed yet (the test fails when one of them is sealed and still listed).
SHIPPED_ANSWERS = {}


class _Scope:
    """The names of one module or test cell: what its calls of the package resolve to."""

    def __init__(self, tree, module):
        self.module, self.functions, self.aliases = module, set(sealing._functions(tree)), {}
        package = module.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:      # a relative import inside the package
                    base = ".".join(filter(None, [package.rsplit(".", node.level - 1)[0] if node.level > 1
                                                  else package, base]))
                for alias in node.names:
                    self.aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and \
                    ast.unparse(node.value.func).endswith("load_reference") and node.value.args:
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.aliases[target.id] = f"rnn_helpers.{ast.literal_eval(node.value.args[0])}"

    def calls(self, node):
        """The dotted names of the package's functions that the calls inside ``node`` name."""
        found = set()
        for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
            func = call.func
            if isinstance(func, ast.Name) and func.id in self.functions:
                found.add(f"{self.module}.{func.id}")
            elif isinstance(func, ast.Name) and func.id in self.aliases:
                found.add(self.aliases[func.id])
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in self.aliases:
                found.add(f"{self.aliases[func.value.id]}.{func.attr}")
        return {name for name in found if name.startswith("rnn_helpers.") and ".grading." not in name}


def _expected_values(body):
    """The expressions that ``body`` (a function or a cell) passes to the grading helpers as the
    expected value, each with what the names in it were assigned in ``body``."""
    assigned = {}
    for node in ast.walk(body):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            for target in getattr(node, "targets", [getattr(node, "target", None)]):
                pairs = (zip(target.elts, node.value.elts) if isinstance(target, ast.Tuple)
                         and isinstance(node.value, ast.Tuple) and len(target.elts) == len(node.value.elts)
                         else [(name, node.value) for name in ast.walk(target)])
                for name, value in pairs:
                    if isinstance(name, ast.Name):
                        assigned.setdefault(name.id, []).append(value)
        elif isinstance(node, (ast.For, ast.comprehension)):     # a loop's names take what it iterates over
            for name in ast.walk(node.target):
                if isinstance(name, ast.Name):
                    assigned.setdefault(name.id, []).append(node.iter)
    for call in (n for n in ast.walk(body) if isinstance(n, ast.Call)):
        name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
        expected = call.args[2] if len(call.args) > 2 else next(
            (k.value for k in call.keywords if k.arg == "expected"), None)
        if name in EXPECTATIONS and expected is not None:
            values, todo, seen = [expected], [expected], set()
            while todo:     # the names in it, and the names in what they were assigned, ...
                for node in ast.walk(todo.pop()):
                    if isinstance(node, ast.Name) and node.id not in seen:
                        seen.add(node.id)
                        values += assigned.get(node.id, [])
                        todo += assigned.get(node.id, [])
            yield ast.unparse(expected), values


def test_no_expected_value_of_a_test_is_computed_by_an_unsealed_function(sealed):
    """The expected values of the notebooks' graded tests and of the feedback modules' checks come
    from functions that are sealed in the sealed copy, or that call sealed ones: a function that
    computes an exercise's answer unsealed (a feedback module's ``expected_*``, a layer that runs
    the exercise's step) would show the answer with ``??``. ``NOT_ANSWERS`` lists the functions
    that compute something no exercise asks for."""
    folder, _ = sealed
    trees = {}

    def scope_of(module):
        if module not in trees:
            path = _module_path(folder, module)
            trees[module] = (ast.parse(path.read_text()), None) if path.exists() else (None, None)
            if trees[module][0] is not None:
                trees[module] = (trees[module][0], _Scope(trees[module][0], module))
        return trees[module]

    def computed_from_sealed(dotted, seen=()):
        module, _, name = dotted.rpartition(".")
        tree, scope = scope_of(module)
        node = sealing._functions(tree).get(name) if tree is not None else None
        if node is None or dotted in seen:      # a class, a constant or a module: no function body of its own
            return node is None
        if sealing.CALL in ast.unparse(node):
            return True
        return any(computed_from_sealed(called, seen + (dotted,)) for called in scope.calls(node))

    sources = []    # (where, the scope of its names, the function or cell whose expectations to read)
    for path in sorted((PACKAGE / "lessons").glob("*_feedback.py")):
        module = f"rnn_helpers.lessons.{path.stem}"
        tree, scope = scope_of(module)
        sources += [(f"{module}.{name}", scope, node) for name, node in sealing._functions(tree).items()]
    for assignment in ASSIGNMENTS:
        for grade_id, (cell, meta) in grade_cells(read_notebook(source_notebook(assignment))).items():
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                tree = ast.parse("\n".join(line for line in cell.source.splitlines()
                                           if not line.lstrip().startswith(("%", "!"))))
                sources.append((f"{assignment} {grade_id}", _Scope(tree, "__main__"), tree))
    unsealed = {}
    for where, scope, body in sources:
        for expected, values in _expected_values(body):
            for called in set().union(*(scope.calls(value) for value in values)) - set(NOT_ANSWERS):
                if not computed_from_sealed(called):
                    unsealed.setdefault(called, []).append(f"{where}: {expected}")
    new = sorted(f"{called} ({', '.join(uses)})" for called, uses in unsealed.items() if called not in SHIPPED_ANSWERS)
    assert not new, ("these functions compute a test's expected value and the sealed copy ships them whole "
                     "(seal them: sealing.ANSWERS):\n" + "\n".join(new))
    assert set(SHIPPED_ANSWERS) <= set(unsealed), f"sealed now: {sorted(set(SHIPPED_ANSWERS) - set(unsealed))}"


@pytest.fixture(scope="module")
def sealed_python(sealed):
    """What a new Python that imports the sealed copy finds: every sealed module imports (the
    others import from them only names that are still there; torch_models only where the
    optional torch is installed), the length of ``inspect.getsource`` of every sealed function,
    and the checks of a stub's behaviour (``ok``)."""
    folder, names = sealed
    code = textwrap.dedent(f"""
        import importlib, importlib.util, inspect, json, operator
        import numpy as np
        from rnn_helpers import grading, lstm, rnn
        from rnn_helpers.instructor.sealing import ExerciseNotShipped
        torch = importlib.util.find_spec("torch") is not None
        needs_torch = {{"rnn_helpers.training.torch_models"}}
        lengths = {{}}
        for dotted, (module, name) in {json.dumps({d: _split(d) for d in names})}.items():
            if torch or module not in needs_torch:
                function = operator.attrgetter(name)(importlib.import_module(module))
                assert function.__code__.co_filename.startswith({str(folder)!r}), function.__code__.co_filename
                lengths[dotted] = inspect.getsource(function).count("\\n")

        rng = np.random.default_rng(0)
        x, h0, c0 = rng.normal(size=(3, 2, 4)), np.zeros((2, 5)), np.zeros((2, 5))
        U, W, b = rng.normal(size=(20, 4)), rng.normal(size=(20, 5)), np.zeros(20)
        assert np.isfinite(rnn.log_softmax(x)).all()                 # not an exercise: it works

        def expect_not_shipped(call):
            try:
                call()
            except ExerciseNotShipped as error:
                assert "\\n" not in str(error) and "your exercise" in str(error), error
                return error
            raise AssertionError("no ExerciseNotShipped")

        assert not expect_not_shipped(lambda: rnn.rnn_backward(x, None)).defined    # no rnn_backward of the student's

        def rnn_backward(dhs, cache):
            return "mine", dhs
        assert rnn.rnn_backward(1, cache=2) == ("mine", 1)        # the student's own, called
        expect_not_shipped(lambda: grading.load_reference("rnn").rnn_backward(1, 2))   # a test's copy
        try:
            grading.load_reference("rnn").rnn_backward(1, 2)
        except ExerciseNotShipped as error:
            assert error.needs_course, "a test's copy needs the course's version"
        from rnn_helpers.lessons import gru_step_feedback
        def torch_gru_step(x, h, p, variant="pytorch"):
            return "mine"
        def expected_torch_gru_step(x, h, p, variant="pytorch"):
            return "mine"
        expect_not_shipped(lambda: gru_step_feedback.expected_torch_gru_step(1, 2, 3))   # an answer: never the student's

        def rnn_step_backward(dh_t):
            return "fewer arguments than the course's version"
        expect_not_shipped(lambda: rnn.rnn_step_backward(1, 2))       # does not take this call

        from rnn_helpers import torch_bridge
        def torch_to_course(state):
            return "mine"
        assert torch_bridge.torch_to_course({{}}) == "mine"             # options at their default: not passed on
        assert torch_bridge.torch_to_course({{}}, 0, reverse=False) == "mine"
        expect_not_shipped(lambda: torch_bridge.torch_to_course({{}}, 1))   # an option it does not take

        def rnn_forward(x, h0, U, W, b):
            raise NotImplementedError
        assert expect_not_shipped(lambda: rnn.rnn_forward(x, h0, U, W, b)).defined   # unfinished
        from rnn_helpers.rnn import rnn_step_forward                  # the stub itself: no loop
        expect_not_shipped(lambda: rnn.rnn_step_forward(x[0], h0, U, W, b))

        from rnn_helpers import optim                                 # exercises named otherwise
        from rnn_helpers.lessons import language_model
        expect_not_shipped(lambda: language_model.loss_and_grads(1, 2, 3, 4, 5))
        def lm_loss_and_grads(params, tokens, targets, h0, c0):
            return "mine"
        assert language_model.loss_and_grads(1, 2, 3, 4, 5) == "mine"
        class MomentumSGD:
            def __init__(self, lr, momentum=0.9):
                self.lr, self.momentum, self.velocity = lr, momentum, {{}}
            def step(self, params, grads):
                for name, g in grads.items():
                    self.velocity[name] = self.momentum * self.velocity.get(name, 0.0) + g
                    params[name] -= self.lr * self.velocity[name]
        weights, sgd = {{"w": np.ones(2)}}, optim.SGD(0.5, momentum=0.5)
        for _ in range(2):
            sgd.step(weights, {{"w": np.ones(2)}})
        assert np.allclose(weights["w"], 1 - 0.5 - 0.5 * 1.5), weights   # the student's class, its state kept
        try:
            optim.Adam(0.1).step(weights, {{"w": np.ones(2)}})
        except ExerciseNotShipped as error:
            assert "AdamOptimizer.step" in str(error), error           # named as the student knows it
        else:
            raise AssertionError("no ExerciseNotShipped without an AdamOptimizer")

        from rnn_helpers.lessons import gradient_decay, skip_connections     # through an adapter (ADAPTERS)
        def matrix_with_eigenvalues(eigenvalues, rng):
            return "mine", rng.integers(10 ** 9)
        assert gradient_decay.matrix_with_eigenvalues([1.0], seed=3) == ("mine", np.random.default_rng(3).integers(10 ** 9))
        def jacobian_product_norms(W, hs):
            return hs
        assert gradient_decay.jacobian_norms(np.eye(2), T=3).tolist() == [[0, 0]] * 3
        try:
            gradient_decay.jacobian_norms(np.eye(2), np.zeros((3, 2)), "sigmoid")    # a call it cannot stand for
        except ExerciseNotShipped as error:
            assert error.needs_course and "jacobian_product_norms" in str(error), error
        else:
            raise AssertionError("no ExerciseNotShipped for the sigmoid")
        def skip_rnn_states(x, h0, U, W, W_skip, b):
            return "no delay"
        expect_not_shipped(lambda: skip_connections.skip_rnn_forward(1, 2, 3, 4, 5, 6, 7))   # the adapter's call: not taken

        from rnn_helpers import deep_rnn, gru                         # 05's, 06's and 08's caches, through adapters
        def lstm_step_forward(x_t, h_prev, c_prev, U, W, b):          # the step's values: arrays that tell them apart
            h_t, c_t = h_prev + x_t.sum() + 1, c_prev + x_t.sum() + 2
            gates = [np.full_like(h_prev, k, np.float64) for k in range(4)]
            return h_t, c_t, (x_t, h_prev, c_prev, U, W, *gates, c_t)
        x, h0, c0, U, W, b = (a.astype(np.float32) for a in (x, h0, c0, U, W, b))
        hs, cs, sequence_cache = lstm.lstm_forward(x, h0, c0, U, W, b)   # the student's step over the steps
        assert hs.shape == cs.shape == (3, 2, 5) and np.allclose(hs[1], hs[0] + x[1].sum() + 1)
        assert hs.dtype == cs.dtype == sequence_cache.gates.dtype == np.float32, "the course's dtype"
        assert np.allclose(sequence_cache.gates[2, :, 15:], 3) and np.allclose(sequence_cache.tanh_cs, np.tanh(cs))
        steps = []
        def lstm_backward(dhs, caches, dcs=None, step_backward=None):
            steps.extend(caches)
            return tuple(np.zeros(2) for _ in range(6))
        grads = lstm.lstm_backward(hs, sequence_cache)                # the course's cache -> the step caches
        assert all(grad.dtype == np.float32 for grad in grads), "the course's dtype"
        assert len(steps) == 3 and np.allclose(steps[2].h_prev, hs[1]) and np.allclose(steps[1].c_prev, cs[0])
        assert np.allclose(steps[0].f, sequence_cache.gates[0, :, 5:10]), "the forget gate is the second block"
        def gru_step_forward(x_t, h_prev, U, W, b):
            return h_prev + x_t.sum(), (x_t, h_prev, U, W, h_prev + 1, h_prev + 2, h_prev + 3)
        def gru_step_backward(dh_t, cache):
            x_t, h_prev, U, W, r, z, n = cache
            return x_t + dh_t.sum(), dh_t + 1, U + 1, W + 2, h_prev[0]
        x, h0 = x.astype(np.float64), h0.astype(np.float64)
        U3, W3, b3 = np.ones((15, 4)), np.ones((15, 5)), np.zeros(15)
        gru_hs, gru_cache = gru.gru_forward(x, h0, U3, W3, b3)
        assert np.allclose(gru_hs[2], x.sum()) and np.allclose(gru_cache.ns[1], gru_hs[0] + 3)
        assert np.allclose(gru_cache.x, x) and np.allclose(gru_cache.hs, gru_hs) and gru_hs.dtype == np.float64
        dx, dh0, dU, dW, db = gru.gru_backward(np.zeros_like(gru_hs), gru_cache)
        assert np.allclose(dh0, 3) and np.allclose(dx[2], x[2]) and np.allclose(dx[0], x[0] + 20), "dh carried back"
        assert np.allclose(dU, 3 * (U3 + 1)) and np.allclose(db, h0[0] + gru_hs[0, 0] + gru_hs[1, 0]), "summed"
        def stacked_rnn_forward(x, h0, layers):
            return "top", [("x", "h0", "U", "W", "hs")]
        top, stack = deep_rnn.stacked_rnn_forward(1, 2, [3])
        assert stack.layers[0].hs == "hs" and not stack.bidirectional, stack
        assert expect_not_shipped(lambda: deep_rnn.stacked_rnn_forward(1, 2, [3], True)).needs_course  # no exercise

        from rnn_helpers.instructor import sealing
        sealing.ADAPTERS["rnn"] = {{"softmax_cross_entropy": sealing.course_only, "rnn_backward": sealing.course_only}}
        assert expect_not_shipped(lambda: rnn.softmax_cross_entropy(1, 2)).needs_course, "no exercise computes it"
        assert expect_not_shipped(lambda: rnn.rnn_backward(1, 2)).needs_course, "not even with the student's function"
        del sealing.ADAPTERS["rnn"]
        print(json.dumps({{"lengths": lengths, "ok": True}}))
    """)
    env = dict(os.environ, PYTHONPATH=str(folder))
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=folder, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_adapters_take_the_sealed_functions_arguments_and_only_reshape_them():
    """An adapter (``sealing.ADAPTERS``) takes the student's function and the parameters of the sealed
    function it stands for, and calls no function of the package (a class that holds a result is
    fine): it ships in the sealed copy next to the stubs, so it must not compute an answer."""
    tree = ast.parse(inspect.getsource(sealing))
    scope, nodes = _Scope(tree, sealing.__name__), sealing._functions(tree)
    for module, adapters in sealing.ADAPTERS.items():
        for name, adapter in adapters.items():
            dotted = f"rnn_helpers.{module}.{name}"
            assert name in sealing.SEALED.get(module, {}), f"ADAPTERS: {dotted} is not sealed"
            if adapter is not sealing.course_only:
                course = operator.attrgetter(name)(importlib.import_module(f"rnn_helpers.{module}"))
                first, *rest = inspect.signature(adapter).parameters.values()
                assert first.name == "student" and rest == list(inspect.signature(course).parameters.values()), \
                    f"{adapter.__name__} should take (student, ...the parameters of {dotted})"
            calls = [called for called in scope.calls(nodes[adapter.__name__])
                     if not isinstance(operator.attrgetter(called.rpartition(".")[2])(
                         importlib.import_module(called.rpartition(".")[0])), type)]
            assert not calls, f"{adapter.__name__} ({dotted}) calls the package's {calls}"


def test_adapters_of_09_and_11_return_what_the_course_returns_for_a_right_answer():
    """With the course's own function as the student's (a right answer under the exercise's signature),
    each adapter gives the course's result: 09's keys passed as features of h give the context and,
    backward, the keys' gradient of a decoder step given its keys; 11's scans start from zeros."""
    from rnn_helpers import attention, linear_rnn

    rng = np.random.default_rng(0)
    T, N, Hs, He, A = 5, 3, 4, 6, 7
    s, h, dcontext = rng.normal(size=(N, Hs)), rng.normal(size=(T, N, He)), rng.normal(size=(N, He))
    params = {"W_s": rng.normal(size=(A, Hs)), "W_h": rng.normal(size=(A, He)), "v": rng.normal(size=A)}
    mask = np.arange(T)[:, None] < np.array([5, 3, 1])
    keys = attention.additive_keys(h, params["W_h"])
    expected = attention.attention_forward(s, h, "additive", params, mask, keys=keys)
    context, alpha, cache = sealing._keys_as_features(attention.attention_forward, s, h, "additive", params, mask,
                                                      keys=keys)
    assert np.allclose(context, expected[0]) and np.allclose(alpha, expected[1])
    grads, expected_grads = (sealing._keys_gradient_apart(attention.attention_backward, dcontext, cache),
                             attention.attention_backward(dcontext, expected[2]))
    for got, want in zip(grads[:2], expected_grads[:2]):
        assert np.allclose(got, want)
    assert grads[2].keys() == expected_grads[2].keys()
    assert all(np.allclose(grads[2][name], expected_grads[2][name]) for name in grads[2])

    x = rng.normal(size=(T, N, Hs))
    self_params = {"W_q": rng.normal(size=(2, Hs)), "W_k": rng.normal(size=(2, Hs)), "W_v": rng.normal(size=(3, Hs))}
    student = lambda x, W_q, W_k, W_v, mask, causal: attention.self_attention_forward(
        x, {"W_q": W_q, "W_k": W_k, "W_v": W_v}, mask, causal)[:2]
    out, _, cache = sealing._projections_in_the_cache(student, x, self_params, mask, True)
    dout = rng.normal(size=out.shape)
    expected_dx, _ = attention.self_attention_backward(dout, attention.self_attention_forward(x, self_params, mask,
                                                                                             True)[2])
    assert np.allclose(attention.self_attention_backward(dout, cache)[0], expected_dx)

    a, b, dh = rng.uniform(-1, 1, (T, N, He)), rng.normal(size=(T, N, He)), rng.normal(size=(T, N, He))
    states = sealing._scan_from_zeros(linear_rnn.linear_scan, a, b)
    assert np.allclose(states, linear_rnn.linear_scan(a, b, method="loop"))
    for got, want in zip(sealing._real_scan_backward(linear_rnn.linear_scan_backward, dh, a, states),
                         linear_rnn.linear_scan_backward(dh, a, states)):
        assert np.allclose(got, want)
    for refused in (lambda: sealing._scan_from_zeros(linear_rnn.linear_scan, a, b, method="loop"),
                    lambda: sealing._real_scan_backward(linear_rnn.linear_scan_backward, dh, a * 1j, states)):
        with pytest.raises(sealing.CourseOnly):
            refused()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_adapters_of_05_and_06_return_what_the_course_returns_for_a_right_answer(dtype):
    """With the course's steps as the student's (their caches as plain tuples, as the exercises return
    them), the whole-sequence adapters give the course's gru_forward, gru_backward and lstm_forward:
    the states, every field of the caches, the gradients, in the inputs' dtype."""
    from rnn_helpers import gru, lstm

    def as_exercise(step):
        """The course's step, its cache a plain tuple (as the exercise returns it)."""
        def student(*args):
            *values, cache = step(*args)
            return (*values, tuple(cache))
        return student

    rng = np.random.default_rng(0)
    T, N, D, H = 5, 3, 4, 6
    x, h0, c0, dhs = (rng.normal(size=shape).astype(dtype) for shape in [(T, N, D), (N, H), (N, H), (T, N, H)])
    for module, step, adapter, blocks, states in [(gru, gru.gru_step_forward, sealing._gru_steps, 3, (h0,)),
                                                  (lstm, lstm.lstm_step_forward, sealing._lstm_steps, 4, (h0, c0))]:
        U, W, b = (rng.normal(size=shape).astype(dtype) for shape in [(blocks * H, D), (blocks * H, H), (blocks * H,)])
        course = getattr(module, f"{module.__name__.rpartition('.')[2]}_forward")(x, *states, U, W, b)
        adapted = adapter(as_exercise(step), x, *states, U, W, b)
        for got, want in zip([*adapted[:-1], *adapted[-1]], [*course[:-1], *course[-1]]):
            assert np.asarray(got).dtype == np.asarray(want).dtype and np.allclose(got, want, atol=1e-6)
    U, W, b = (rng.normal(size=shape).astype(dtype) for shape in [(3 * H, D), (3 * H, H), (3 * H,)])
    _, cache = gru.gru_forward(x, h0, U, W, b)
    for got, want in zip(sealing._gru_steps_backward(gru.gru_step_backward, dhs, cache), gru.gru_backward(dhs, cache)):
        assert got.dtype == want.dtype and np.allclose(got, want, atol=1e-4 if dtype == np.float32 else 1e-10)


STUDENTS_LM_LOSS = """
import numpy as np
from rnn_helpers.embedding import embedding_backward, embedding_forward
from rnn_helpers.lstm import lstm_backward, lstm_forward
from rnn_helpers.rnn import softmax_cross_entropy

def lm_loss_and_grads(params, tokens, targets, h0, c0):
    x, embed_cache = embedding_forward(tokens, params["E"])
    hs, cs, lstm_cache = lstm_forward(x, h0, c0, params["U"], params["W"], params["b"])
    logits = np.einsum("tnh,kh->tnk", hs, params["V"]) + params["c"]
    loss, dlogits = softmax_cross_entropy(logits, targets)
    dx, _, _, dU, dW, db = lstm_backward(np.einsum("tnk,kh->tnh", dlogits, params["V"]), lstm_cache)
    return loss, {"E": embedding_backward(dx, embed_cache), "U": dU, "W": dW, "b": db,
                  "V": np.einsum("tnk,tnh->kh", dlogits, hs), "c": dlogits.sum(axis=(0, 1))}, (hs[-1], cs[-1])
"""


def test_readout_adapter_of_07_gives_the_courses_readout_and_leaves_the_notebook_as_it_was(monkeypatch):
    """The read-out inside 07's lm_loss_and_grads (a right answer, written otherwise than the course's)
    gives the course's _readout_loss for an RNN's states (the RNN language model's training runs on it);
    the notebook's layers are its own again afterwards; a function that does not call the layers by
    name cannot stand for the read-out."""
    import types

    from rnn_helpers.lessons import language_model

    main = types.ModuleType("__main__")
    exec(STUDENTS_LM_LOSS, vars(main))
    monkeypatch.setitem(sys.modules, "__main__", main)
    before = dict(vars(main))
    rng = np.random.default_rng(0)
    params = language_model.init_params(7, 4, 5, rng, cell="rnn")
    params["c"] = rng.normal(size=7)
    hs, targets = rng.normal(size=(6, 3, 5)), rng.integers(0, 7, size=(6, 3))
    got = sealing._readout_inside_the_model(main.lm_loss_and_grads, params, hs, targets)
    want = language_model._readout_loss(params, hs, targets)
    assert np.isclose(got[0], want[0]) and all(np.allclose(g, w) for g, w in zip(got[1:], want[1:]))
    assert vars(main) == before
    elsewhere = lambda params, tokens, targets, h0, c0: language_model.loss_and_grads(params, tokens, targets, h0, c0)
    with pytest.raises(sealing.CourseOnly):
        sealing._readout_inside_the_model(elsewhere, language_model.init_params(7, 4, 5, rng), hs, targets)
    assert vars(main) == before


def test_log_norms_adapter_of_03_gives_the_courses_for_every_nonlinearity():
    """03's jacobian_product_norms (a tanh trajectory's norms; a right answer) stands for the course's
    _jacobian_log_norms for the slopes of every nonlinearity that the decay explorer draws."""
    from rnn_helpers.lessons import gradient_decay as gd

    rng = np.random.default_rng(0)
    W = gd.matrix_with_eigenvalues(1.2 * gd.base_spectrum(6, 0), 0)
    student = lambda W, hs: np.exp(gd._jacobian_log_norms(W, gd.derivative_from_state(hs, "tanh")))
    for nonlinearity in ("linear", "tanh", "sigmoid"):
        hs = gd.run_recurrence(W, 2 * rng.normal(size=(40, 6)), nonlinearity)
        derivatives = gd.derivative_from_state(hs, nonlinearity)
        assert np.allclose(sealing._log_norms_of_a_tanh_trajectory(student, W, derivatives),
                           gd._jacobian_log_norms(W, derivatives), atol=1e-6)
    with pytest.raises(sealing.CourseOnly):
        sealing._log_norms_of_a_tanh_trajectory(student, W, np.full((3, 6), 1.5))


def test_source_getsource_and_pyc_hold_only_the_stub(sealed, sealed_python):
    folder, names = sealed
    for dotted in names:
        module, name = _split(dotted)
        original = _module_path(ROOT, module).read_text()
        source = _module_path(folder, module).read_text()
        node = sealing._functions(ast.parse(source))[name]
        assert len(node.body) == 2 and ast.get_docstring(node) is not None, f"{dotted}: more than the stub"
        assert sealing.CALL in ast.unparse(node.body[1]), f"{dotted}: the stub does not call {sealing.CALL}"
        # No line of the answer that is its own (found once in the module) is left in the file.
        body = sealing._functions(ast.parse(original))[name].body
        lines = original.splitlines()[body[0].end_lineno:body[-1].end_lineno]
        left = [line for line in lines if line.strip() and original.count(line) == 1 and line in source]
        assert not left, f"{dotted}: its answer is still in the sealed source: {left[:3]}"
        # The compiled module (what pip writes into the .pyc): the function's code names
        # nothing but the stub's call.
        code = marshal.loads(marshal.dumps(compile(source, str(_module_path(folder, module)), "exec")))
        for part in name.split("."):
            code = next(c for c in code.co_consts if hasattr(c, "co_name") and c.co_name == part)
        assert set(code.co_names) <= {sealing.CALL, "globals"}, f"{dotted}: its code names {code.co_names}"
    lengths = sealed_python["lengths"]
    assert lengths and all(n <= 10 for n in lengths.values()), f"inspect.getsource: {lengths}"


def test_the_rest_of_the_sealed_package_imports_and_runs(sealed_python):
    assert sealed_python["ok"]


def _digest(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*.py"))}


def test_the_autograders_environment_keeps_the_full_package(tmp_path):
    before = _digest(PACKAGE)
    sealing.write_sealed_copy(tmp_path / "sealed")
    assert _digest(PACKAGE) == before, "sealing changed the course's own package"
    from rnn_helpers import grading
    source = _module_path(PACKAGE, "rnn").read_text()
    assert sealing.CALL not in source and sealing.CALL not in grading.load_reference("rnn").rnn_backward.__code__.co_names
    script = (ROOT / "hub" / "install_student_env.sh").read_text()
    assert re.search(r'else\n\s*cp -r "\$course/pyproject.toml" "\$course/README.md" "\$course/rnn_helpers"', script), \
        "without --sealed the hub's environment gets the full package"
    with pytest.raises(ValueError, match="new or empty folder"):
        sealing.write_sealed_copy(tmp_path / "sealed")


# -- slow: the pip-installed copy, and the untouched student notebooks in sealed kernels ----------------------


@pytest.mark.slow
def test_the_pip_installed_sealed_copy_holds_no_answer(tmp_path):
    """A virtual environment with the sealed copy pip-installed (without its dependencies, which
    it reads from this environment's site-packages): every sealed function it imports is the
    stub, from the installed package."""
    sealed = sealing.write_sealed_copy(tmp_path / "course")
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(tmp_path / "course")], check=True)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # After the install, so that pip never sees this environment's editable rnn-course.
    pathlib.Path(site, "course_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    code = textwrap.dedent(f"""
        import importlib, importlib.util, inspect, json, operator
        torch = importlib.util.find_spec("torch") is not None
        found = {{}}
        for dotted, (module, name) in {json.dumps({d: _split(d) for d in sealed})}.items():
            if torch or module != "rnn_helpers.training.torch_models":
                function = operator.attrgetter(name)(importlib.import_module(module))
                found[dotted] = [inspect.getsourcefile(function), inspect.getsource(function)]
        print(json.dumps(found))
    """)
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.splitlines()[-1])
    assert found
    shipped = sorted(p.name for p in pathlib.Path(site, "rnn_helpers", "data", "precomputed").glob("*.npz"))
    assert shipped == sorted(p.name for p in (PACKAGE / "data" / "precomputed").glob("*.npz")), \
        f"the installed copy lacks precomputed results: it has {shipped}"
    for dotted, (path, source) in found.items():
        assert path.startswith(site), f"{dotted} comes from {path}, not from the installed copy"
        assert sealing.CALL in source and source.count("\n") <= 10, f"{dotted}: the installed copy holds\n{source}"


@pytest.fixture(scope="session")
def sealed_kernels(tmp_path_factory):
    """kernel(name): the name of a kernel whose Python reads, ahead of this environment's package,
    the sealed copy for notebook ``name`` (the chapters before it open, as an instructor who
    releases that chapter installs it)."""
    root = tmp_path_factory.mktemp("sealed-kernels")
    previous = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(root / "share" / "jupyter"), previous]))

    def kernel(name):
        number = int(name[:2])
        folder = root / f"course-{number:02d}"
        spec = root / "share" / "jupyter" / "kernels" / f"rnn-course-sealed-{number:02d}"
        if not spec.exists():
            sealing.write_sealed_copy(folder, open_through=number - 1)
            spec.mkdir(parents=True)
            (spec / "kernel.json").write_text(json.dumps({
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "env": {"PYTHONPATH": str(folder)},
                "display_name": f"RNN course (sealed for {name})", "language": "python"}))
        return spec.name

    yield kernel
    if previous is None:
        os.environ.pop("JUPYTER_PATH")
    else:
        os.environ["JUPYTER_PATH"] = previous


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_untouched_student_notebook_runs_in_the_sealed_environment(name, sealed_kernels):
    nb = untouched_run(name, sealed_kernels(name))
    missing = name_errors_outside_exercises(nb)
    claims = cells_that_say_passed(nb)
    graded = {id(cell) for cell, meta in grade_cells(nb).values() if meta.get("solution") or meta.get("grade")}
    stopped = [f"cell {i}: {out.ename}: {out.evalue.splitlines()[0] if out.evalue else ''}"
               for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and id(cell) not in graded
               for out in cell.get("outputs", []) if out.output_type == "error"]
    assert not missing and not claims, (
        f"{name}, sealed: cells after an exercise that cannot run:\n" + "\n".join(missing)
        + "\ntest cells that say they passed:\n" + "\n".join(claims)
        + "\nevery cell outside the exercises that stopped:\n" + "\n".join(stopped))
    silent = [f"cell {i}" for i, cell in enumerate(nb.cells) if cell.cell_type == "code" and "Audio(" in cell.source
              and not any("<audio" in out.get("data", {}).get("text/html", "") for out in cell.get("outputs", []))]
    assert not silent, f"{name}, sealed: these cells play no sound: {silent}"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_finished_notebook_runs_on_the_students_answers_in_the_sealed_environment(name, sealed_kernels):
    """The solutions, run as a student's finished notebook in the sealed kernel: no experiment
    falls back on a stored result for want of an exercise the notebook has done, no cell
    outside the graded tests (which need the course's version) stops, and every claim holds. An experiment may fall
    back only when it needs a later chapter's exercise, runs above the cell that defines the
    exercise it needs, or makes a call that the exercise's adapter cannot stand for (``CourseOnly``)."""
    nb = autograder_length_run(source_notebook(name), sealed_kernels(name))
    graded = {id(cell) for cell, meta in grade_cells(nb).values() if meta.get("grade")}
    texts = [(i, cell, "".join(out.get("text", "") + out.get("evalue", "") for out in cell.get("outputs", [])))
             for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    course_only = {sealing.STUDENT_NAMES.get(module, {}).get(function, function)
                   for module, adapters in sealing.ADAPTERS.items() for function, adapter in adapters.items()
                   if adapter is sealing.course_only or "raise CourseOnly" in inspect.getsource(adapter)}
    course_only |= {exercise for answers in sealing.ANSWERS.values() for _, exercise in answers.values()}   # by design
    defined_at = {}     # a function or class -> the first cell that defines it
    for i, _, _ in reversed(texts):
        defined_at.update(dict.fromkeys(re.findall(r"^(?:def|class) (\w+)", nb.cells[i].source, re.MULTILINE), i))

    def excused(i, line):
        if course := re.search(r"needs the course's version of (\S+) ", line):
            return course.group(1) in course_only
        if later := re.search(r"needs (\S+) \(your exercise .* has not defined yet", line):
            return defined_at.get(later.group(1).split(".")[0], -1) > i
        return line.endswith("which is sealed until then")
    fallbacks = [f"cell {i}: {line[:200]}" for i, _, text in texts for line in text.splitlines()
                 if line.startswith("using the course's precomputed result") and not excused(i, line)]
    stopped = [f"cell {i}: {out.ename}: {(out.evalue or '').splitlines()[:1]}" for i, cell, _ in texts
               if id(cell) not in graded for out in cell.get("outputs", []) if out.output_type == "error"]
    contradicted = [f"cell {i}: {line[:200]}" for i, _, text in texts for line in text.splitlines()
                    if line.startswith("✗ not seen in this run's results: ")]
    assert not fallbacks and not stopped and not contradicted, (
        f"{name}, finished and sealed: experiments that did not run on the student's answers:\n"
        + "\n".join(fallbacks) + "\ncells outside the graded tests that stopped:\n" + "\n".join(stopped)
        + "\nclaims that the student's (right) answers did not bear out:\n" + "\n".join(contradicted))
