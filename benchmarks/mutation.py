"""How strong are the graded tests? Mutate each solution and count the mutants they catch.

    python benchmarks/mutation.py                       # every notebook
    python benchmarks/mutation.py 05_lstm --survivors   # one notebook, listing what got through
    python benchmarks/mutation.py --json mutation.json  # also save the table

For every autograded exercise of a solution notebook, the answer cell's solution region is
mutated the way real mistakes look: a swapped operator (+/-, */ /, @ / *), a transpose
dropped or added, an off-by-one index or slice, a dropped term, another axis, ``keepdims``
lost, a copy dropped or an in-place update turned into a rebinding (and back), a comparison
loosened, a constant changed, one numpy function for its twin (sum/mean, max/min, ...), a
call statement dropped (``optimizer.zero_grad()``).

The notebook runs once in a kernel as the autograder runs it (``NBGRADER_EXECUTION`` set).
Then, for each mutant, the mutated answer cell and the exercise's test cells (the graded
code cells up to the next answer cell, visible and hidden) run in that kernel; the mutant is
caught when a test cell, or the answer cell itself, fails (an error, the grader's timeout, a
dead kernel). The original answer runs again before the next mutant. A mutant caught by a
timeout or a dead kernel runs again in a fresh kernel if the original then fails too (a busy
machine's timeout is no catch), and mutants caught by a timeout are counted apart; after the
last mutant of an exercise the solution must still pass its tests (no mutant left a changed
global behind to fail the later ones). A mutant that computes the same thing as the solution
(an equivalent mutant) cannot be caught: ``--survivors`` lists the ones that got through, to
be judged.
"""
import argparse
import ast
import copy
import json
import os
import pathlib
import sys
import time

import nbformat
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook

from rnn_helpers.instructor.execution import SteadyNotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

SWAPPED_OPERATORS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
                     ast.MatMult: ast.Mult, ast.Pow: ast.Mult, ast.FloorDiv: ast.Div, ast.Mod: ast.FloorDiv}
SWAPPED_COMPARISONS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
                       ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
TWIN_FUNCTIONS = {"sum": "mean", "mean": "sum", "max": "min", "min": "max", "argmax": "argmin",
                  "argmin": "argmax", "exp": "log", "log": "exp", "tanh": "sinh", "sqrt": "abs",
                  "maximum": "minimum", "minimum": "maximum", "cumsum": "cumprod", "cumprod": "cumsum",
                  "zeros": "ones", "ones": "zeros", "zeros_like": "ones_like", "ones_like": "zeros_like"}


class _Mutator:
    """Walk a tree and yield a mutated copy for every mutation point."""

    def __init__(self, tree):
        self.tree = tree

    def mutants(self):
        """(description, mutated source) for each mutation of the tree."""
        nodes = list(ast.walk(self.tree))
        for index, node in enumerate(nodes):
            for description, change in self._changes(node):
                tree = copy.deepcopy(self.tree)
                target = list(ast.walk(tree))[index]
                parent_of = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
                try:
                    if change(target, parent_of) is False:
                        continue
                    ast.fix_missing_locations(tree)
                    yield description, ast.unparse(tree)
                except (ValueError, TypeError, AttributeError):
                    continue

    @staticmethod
    def _replace(node, parent_of, new):
        parent = parent_of.get(node)
        if parent is None:
            return False
        for field, value in ast.iter_fields(parent):
            if value is node:
                setattr(parent, field, new)
                return True
            if isinstance(value, list) and node in value:
                value[value.index(node)] = new
                return True
        return False

    def _changes(self, node):
        line = getattr(node, "lineno", "?")
        if isinstance(node, ast.BinOp):
            swapped = SWAPPED_OPERATORS.get(type(node.op))
            if swapped:
                yield (f"line {line}: {type(node.op).__name__} -> {swapped.__name__}",
                       lambda n, p, s=swapped: setattr(n, "op", s()))
            yield f"line {line}: dropped the right operand", lambda n, p: self._replace(n, p, n.left)
            yield f"line {line}: dropped the left operand", lambda n, p: self._replace(n, p, n.right)
        elif isinstance(node, ast.AugAssign):
            yield (f"line {line}: in-place {type(node.op).__name__} -> rebinding",
                   lambda n, p: self._replace(n, p, ast.Assign(
                       targets=[copy.deepcopy(n.target)],
                       value=ast.BinOp(left=_load(n.target), op=n.op, right=n.value), lineno=n.lineno)))
            swapped = SWAPPED_OPERATORS.get(type(node.op))
            if swapped:
                yield (f"line {line}: {type(node.op).__name__}= -> {swapped.__name__}=",
                       lambda n, p, s=swapped: setattr(n, "op", s()))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.value, ast.BinOp) \
                and isinstance(node.targets[0], (ast.Name, ast.Subscript)) \
                and ast.dump(_load(node.targets[0])) == ast.dump(node.value.left):
            yield (f"line {line}: rebinding -> in-place update",
                   lambda n, p: self._replace(n, p, ast.AugAssign(
                       target=n.targets[0], op=n.value.op, value=n.value.right, lineno=n.lineno)))
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            yield f"line {line}: dropped the call statement", lambda n, p: self._replace(n, p, ast.Pass())
        elif isinstance(node, ast.Compare) and len(node.ops) == 1:
            swapped = SWAPPED_COMPARISONS.get(type(node.ops[0]))
            if swapped:
                yield (f"line {line}: {type(node.ops[0]).__name__} -> {swapped.__name__}",
                       lambda n, p, s=swapped: setattr(n, "ops", [s()]))
        elif isinstance(node, ast.Attribute) and node.attr == "T":
            yield f"line {line}: dropped a transpose (.T)", lambda n, p: self._replace(n, p, n.value)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if isinstance(func, ast.Attribute) and name == "copy" and not node.args:
                yield f"line {line}: dropped a .copy()", lambda n, p: self._replace(n, p, n.func.value)
            if name in ("copy", "array", "asarray") and isinstance(func, ast.Attribute) \
                    and getattr(func.value, "id", None) in ("np", "numpy") and node.args:
                yield f"line {line}: dropped np.{name}(...)", lambda n, p: self._replace(n, p, n.args[0])
            if name == "einsum" and node.args and isinstance(node.args[0], ast.Constant) \
                    and "->" in str(node.args[0].value):
                inputs, output = node.args[0].value.split("->")
                if len(output) > 1:
                    yield (f"line {line}: einsum output axes reversed",
                           lambda n, p, s=f"{inputs}->{output[::-1]}": setattr(n.args[0], "value", s))
            if name == "range" and node.args:
                stop = 1 if len(node.args) > 1 else 0     # range(stop), range(start, stop[, step])
                yield (f"line {line}: range stops one early",
                       lambda n, p, i=stop: n.args.__setitem__(i, ast.BinOp(
                           left=n.args[i], op=ast.Sub(), right=ast.Constant(1))))
            if isinstance(func, ast.Attribute) and name in TWIN_FUNCTIONS:
                twin = TWIN_FUNCTIONS[name]
                yield f"line {line}: {name} -> {twin}", lambda n, p, t=twin: setattr(n.func, "attr", t)
            for keyword in node.keywords:
                if keyword.arg == "axis" and isinstance(keyword.value, (ast.Constant, ast.UnaryOp)):
                    yield (f"line {line}: axis={ast.unparse(keyword.value)} -> another axis",
                           lambda n, p, k=node.keywords.index(keyword): _shift_axis(n.keywords[k]))
                if keyword.arg == "keepdims":
                    yield (f"line {line}: dropped keepdims",
                           lambda n, p, k=node.keywords.index(keyword): n.keywords.pop(k) and None)
        elif isinstance(node, ast.Slice):
            for bound in ("lower", "upper"):
                if getattr(node, bound) is not None:
                    yield (f"line {line}: slice {bound} bound + 1",
                           lambda n, p, b=bound: setattr(n, b, _plus_one(getattr(n, b))))
        elif isinstance(node, ast.Subscript) and not isinstance(node.slice, (ast.Slice, ast.Tuple)):
            yield f"line {line}: index + 1", lambda n, p: setattr(n, "slice", _plus_one(n.slice))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            yield f"line {line}: dropped a minus sign", lambda n, p: self._replace(n, p, n.operand)
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float) and not isinstance(node.value, bool):
            new = 0 if node.value == 1 else (1 if node.value == 0 else node.value * 2)
            yield f"line {line}: constant {node.value!r} -> {new!r}", lambda n, p, v=new: setattr(n, "value", v)


def _load(target):
    node = copy.deepcopy(target)
    for sub in ast.walk(node):
        if hasattr(sub, "ctx"):
            sub.ctx = ast.Load()
    return node


def _plus_one(expression):
    return ast.BinOp(left=expression, op=ast.Add(), right=ast.Constant(1))


def _shift_axis(keyword):
    value = ast.literal_eval(keyword.value)
    keyword.value = ast.Constant(value - 1 if value > 0 else value + 1 if value < 0 else 1)


def solution_regions(source):
    """The answer cell's source cut at its solution markers: a list of (text, is_solution)."""
    parts, rest = [], source
    while BEGIN in rest and END in rest.split(BEGIN, 1)[1]:
        head, rest = rest.split(BEGIN, 1)
        body, rest = rest.split(END, 1)
        parts += [(head + BEGIN, False), (body, True), (END, False)]
    parts.append((rest, False))
    return parts if len(parts) > 1 else [(source, True)]


def _mutate_region(body):
    """(description, mutated text) for every mutation of one solution region."""
    lines = [line for line in body.splitlines() if line.strip()]
    indent = lines[0][:len(lines[0]) - len(lines[0].lstrip())] if lines else ""
    dedented = "\n".join(line[len(indent):] if line.startswith(indent) else line for line in body.splitlines())
    # A region inside a function may hold a return: parse it as the body of a function.
    wrapped = "def __region__():\n" + "\n".join("    " + line for line in dedented.splitlines())
    try:
        tree = ast.parse(wrapped)
    except SyntaxError:
        return []
    seen, mutants = {ast.unparse(tree)}, []
    for description, mutated in _Mutator(tree).mutants():
        if mutated in seen:
            continue
        seen.add(mutated)
        inner = [line[4:] for line in mutated.splitlines()[1:]]
        mutants.append((description, "\n" + "\n".join(indent + line for line in inner) + "\n" + indent))
    return mutants


def mutate_answer(source):
    """Every mutant of the solution regions: a list of (description, full cell source)."""
    parts = solution_regions(source)
    mutants = []
    for index, (text, is_solution) in enumerate(parts):
        if not is_solution:
            continue
        for description, mutated in _mutate_region(text):
            changed = [t for t, _ in parts]
            changed[index] = mutated
            mutants.append((description, "".join(changed)))
    return mutants


def exercises(nb):
    """[(grade id, answer cell index, [test cell indices])] of the autograded exercises.

    An answer cell's tests are the graded code cells that follow it, up to the next answer
    cell; answer cells with no test cell between them share the tests that follow the last.
    """
    found, waiting = [], []
    for index, cell in enumerate(nb.cells):
        grading = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if grading.get("solution") and not grading.get("grade"):
            if waiting and waiting[-1][2]:
                waiting = []
            waiting.append((grading.get("grade_id", f"cell {index}"), index, []))
            found.append(waiting[-1])
        elif grading.get("grade") and not grading.get("solution"):
            for exercise in waiting:
                exercise[2].append(index)
    return [exercise for exercise in found if exercise[2]]


def spread(items, limit):
    """At most ``limit`` items, evenly spaced over the list (all of them for limit 0)."""
    if not limit or len(items) <= limit:
        return items
    return [items[round(i * (len(items) - 1) / (limit - 1))] for i in range(limit)] if limit > 1 else items[:1]


class Kernel:
    """One kernel that runs cells by source, as the autograder would."""

    def __init__(self, path, timeout):
        self.path, self.timeout = path, timeout
        self.client = SteadyNotebookClient(new_notebook(cells=[new_code_cell("")]), timeout=timeout,
                                           kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
                                           resources={"metadata": {"path": str(path.parent)}})
        env = {k: v for k, v in os.environ.items() if k != "RNN_COURSE_SEED"}
        env["NBGRADER_EXECUTION"] = "autograde"
        self.client.km = self.client.create_kernel_manager()
        run_sync(self.client.async_start_new_kernel)(env=env)
        run_sync(self.client.async_start_new_kernel_client)()   # the sliced polling's override

    def run(self, source):
        """"passed", "failed" (an error output), "timed out" or "died" (the kernel)."""
        cell = new_code_cell(source)
        # nbclient updates a display (a progress bar) through the notebook's cell at the
        # index it runs: that is this cell, and no display of an earlier cell is updated.
        self.client.nb.cells[0] = cell
        self.client._display_id_map.clear()
        try:
            self.client.execute_cell(cell, 0, store_history=False)
        except CellTimeoutError:
            return "timed out"
        except DeadKernelError:
            return "died"
        return "failed" if any(output.output_type == "error" for output in cell.outputs) else "passed"

    def alive(self):
        return run_sync(self.client.km.is_alive)()

    def close(self):
        self.client._cleanup_kernel()


def measure(name, timeout, survivors, limit):
    path = ROOT / "solutions" / name / f"{name}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    rows = []
    kernel = None

    def fresh_kernel(upto):
        nonlocal kernel
        if kernel is not None:
            kernel.close()
        kernel = Kernel(path, timeout)
        for cell in nb.cells[:upto]:
            if cell.cell_type == "code":
                kernel.run(cell.source)

    def verdict(answer, tests):
        """The first outcome other than "passed" of the answer cell then its tests, or "passed"."""
        for source in [answer] + [nb.cells[i].source for i in tests]:
            outcome = kernel.run(source)
            if outcome != "passed":
                return outcome
        return "passed"

    fresh_kernel(len(nb.cells))
    try:
        for grade_id, answer, tests in exercises(nb):
            original = nb.cells[answer].source
            if verdict(original, tests) != "passed":
                raise RuntimeError(f"{name} {grade_id}: the solution itself fails its tests; fix that first")
            mutants = spread(mutate_answer(original), limit)
            caught, missed, timed_out, restarts = 0, [], 0, 0
            for description, source in mutants:
                outcome = verdict(source, tests)
                # A timeout may be the busy machine's, not the mutant's: the original answer must
                # pass its tests in that kernel, else the mutant runs again in a fresh kernel.
                if outcome in ("timed out", "died") and (not kernel.alive() or verdict(original, tests) != "passed"):
                    restarts += 1
                    fresh_kernel(len(nb.cells))
                    outcome = verdict(source, tests)
                if not kernel.alive() or kernel.run(original) != "passed":
                    fresh_kernel(len(nb.cells))
                caught += outcome != "passed"
                timed_out += outcome == "timed out"
                if outcome == "passed":
                    missed.append(description)
            # A mutant that left a global changed would make the later ones fail for nothing.
            if verdict(original, tests) != "passed":
                raise RuntimeError(f"{name} {grade_id}: after the mutants the solution fails its tests: a mutant "
                                   "changed the kernel's state, and the count is not to be trusted")
            rows.append({"notebook": name, "exercise": grade_id, "mutants": len(mutants), "caught": caught,
                         "caught_by_timeout": timed_out, "kernel_restarts": restarts, "survivors": missed})
            share = caught / len(mutants) if mutants else 1.0
            extra = f"  [{timed_out} by a timeout]" if timed_out else ""
            print(f"  {grade_id:32s} {caught:4d} / {len(mutants):4d} caught  ({100 * share:5.1f} %){extra}",
                  flush=True)
            if survivors:
                for description in missed:
                    print(f"      survived: {description}")
    finally:
        if kernel is not None:
            kernel.close()
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks (default: all of solutions/)")
    parser.add_argument("--survivors", action="store_true", help="list the mutants the tests did not catch")
    parser.add_argument("--json", help="also write the table to this file")
    parser.add_argument("--timeout", type=int, default=120,
                        help="seconds a cell may run, as in the grader (default 120)")
    parser.add_argument("--limit", type=int, default=0, help="at most this many mutants per exercise (0: all)")
    args = parser.parse_args(argv)
    names = args.names or sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    unknown = [n for n in names if not (ROOT / "solutions" / n).is_dir()]
    if unknown:
        parser.error(f"no notebook {', '.join(unknown)} in solutions/")
    rows, summary = [], []
    for name in names:
        start = time.perf_counter()
        print(f"{name}:", flush=True)
        mine = measure(name, args.timeout, args.survivors, args.limit)
        rows += mine
        total, caught = sum(r["mutants"] for r in mine), sum(r["caught"] for r in mine)
        summary.append((name, caught, total, time.perf_counter() - start))
    print("\nnotebook                      caught / mutants   share   (seconds)")
    for name, caught, total, seconds in summary:
        share = 100 * caught / total if total else 100.0
        print(f"{name:28s} {caught:6d} / {total:6d}   {share:5.1f} %  ({seconds:.0f} s)")
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
