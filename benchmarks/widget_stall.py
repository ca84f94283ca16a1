"""Execute the notebooks with widgets many times under CPU load and count stalled cells.

    python benchmarks/widget_stall.py [--runs 50] [--notebook 04_long_term_dependencies ...]
                                      [--client grader|steady|plain] [--busy 2] [--wait 5]

nbclient's missed wake-up on the shell channel (nbclient issue #312) makes a cell, typically
a widget cell, wait for its whole timeout although the kernel answered at once
(``rnn_helpers.instructor.execution``). A cell counts as stalled when the client took its
result more than ``--wait`` seconds after the kernel sent its last message for it (the
kernel's reply and idle status carry the kernel's send time): a stall, not a cell that
computes for long. Cells that took longer than ``--threshold`` seconds (default: half the
cell timeout) are listed as well, with that wait. Each notebook runs as the autograder runs
it: NBGRADER_EXECUTION set, the cell timeout of ``nbgrader_config.py``, in a fresh copy of
its folder, with ``--busy`` processes spinning on the CPU beside it. ``--client`` picks the
execute client:

* ``grader``: the autograder's own preprocessor (``autograding.ResilientExecute``, sliced
  polling, in the sandbox where bubblewrap works), the default;
* ``steady``: ``execution.SteadyNotebookClient`` (sliced polling, no sandbox), as the tests run;
* ``plain``: nbclient's ``NotebookClient`` without the fix, to show the stall it had.

Default notebooks: every solution notebook whose code uses ipywidgets, directly or through
a module of ``rnn_helpers`` that does. Each run prints its time, its slowest cell, its widget
cells' times, its slow and stalled cells and the 1-minute load average; the summary gives
the runs without a stall. The exit status is 1 when a stall was seen.
"""
import argparse
import ast
import contextlib
import datetime
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def _imports_ipywidgets(source):
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                 [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(name.split(".")[0] == "ipywidgets" for name in names):
            return True
    return False


def widget_modules():
    """Dotted names of the rnn_helpers modules that import ipywidgets."""
    package = ROOT / "rnn_helpers"
    return sorted(".".join(path.relative_to(ROOT).with_suffix("").parts) for path in package.rglob("*.py")
                  if _imports_ipywidgets(path.read_text(encoding="utf-8")))


def uses_widgets(notebook, modules):
    """Does a code cell of ``notebook`` import ipywidgets or one of ``modules``?"""
    for cell in nbformat.read(str(notebook), as_version=4).cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        if _imports_ipywidgets(code) or any(module in code for module in modules):
            return True
    return False


def widget_notebooks():
    """Names of the solution notebooks that build widgets."""
    modules = widget_modules()
    return [folder.name for folder in sorted((ROOT / "solutions").iterdir())
            if (folder / f"{folder.name}.ipynb").is_file() and uses_widgets(folder / f"{folder.name}.ipynb", modules)]


def grader_timeout():
    """Execute.timeout of the course's nbgrader_config.py (the grader's cell timeout)."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config().Execute.timeout


@contextlib.contextmanager
def cpu_load(processes):
    """``processes`` Python processes spinning on the CPU while the block runs."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        yield spinners
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait()


def _sent(cell):
    """When the kernel sent its last message for ``cell`` (its reply or its idle status), or None."""
    stamps = cell.get("metadata", {}).get("execution", {})
    sent = [datetime.datetime.strptime(stamps[key], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
            for key in ("shell.execute_reply", "iopub.status.idle") if key in stamps]
    return max(sent) if sent else None


def _timed(client_class):
    """``client_class`` that records (cell index, seconds, seconds its result waited) of every cell."""
    class Timed(client_class):
        def _record(self, cell, cell_index, store_history, start):
            if not store_history:  # the grader's own hidden cells (integrity checks) are not the notebook's
                return
            sent = _sent(cell)
            waited = None if sent is None else (datetime.datetime.now(datetime.timezone.utc) - sent).total_seconds()
            self.cell_seconds.append((cell_index, time.monotonic() - start, waited))

        async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
            start = time.monotonic()
            try:
                return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
            finally:
                self._record(cell, cell_index, store_history, start)

        def execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
            # the preprocessors' path (nbconvert's ExecutePreprocessor calls the sync wrapper)
            start = time.monotonic()
            try:
                return super().execute_cell(cell, cell_index, execution_count, store_history)
            finally:
                self._record(cell, cell_index, store_history, start)
    Timed.__name__ = f"Timed{client_class.__name__}"
    return Timed


def execute_once(name, client, timeout):
    """Execute solutions/<name> once; returns ({cell index: (seconds, seconds waited)}, widget cells, total)."""
    source = ROOT / "solutions" / name
    with tempfile.TemporaryDirectory(prefix="widget-stall-") as tmp:
        folder = pathlib.Path(tmp) / name
        shutil.copytree(source, folder)
        nb = nbformat.read(str(folder / f"{name}.ipynb"), as_version=4)
        resources = {"metadata": {"path": str(folder)}}
        start = time.monotonic()
        if client == "grader":
            from rnn_helpers.instructor.autograding import ResilientExecute

            executor = _timed(ResilientExecute)(timeout=timeout)
            executor.cell_seconds = []
            executor.preprocess(nb, resources)
        else:
            if client == "steady":
                from rnn_helpers.instructor.execution import SteadyNotebookClient as base
            else:
                from nbclient import NotebookClient as base
            executor = _timed(base)(nb, timeout=timeout, kernel_name="python3", resources=resources)
            executor.cell_seconds = []
            executor.execute()
        total = time.monotonic() - start
    widgets = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
               and any(WIDGET_MIME in output.get("data", {}) for output in cell.get("outputs", []))]
    return {i: (seconds, waited) for i, seconds, waited in executor.cell_seconds}, widgets, total


def _cells(cells):
    return ", ".join(f"{i} ({s:.0f} s" + (f", result waited {w:.1f} s)" if w is not None else ")")
                     for i, (s, w) in cells.items()) or "none"


def run(names, runs, client, busy, threshold, timeout, wait=5.0, out=sys.stdout):
    """Execute each notebook ``runs`` times under load; returns {name: [stalled cells of each run]}
    where a run's stalled cells are {index: (seconds, seconds its result waited)}."""
    previous = os.environ.get("NBGRADER_EXECUTION")
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    stalls = {name: [] for name in names}
    try:
        with cpu_load(busy):
            for name in names:
                for number in range(1, runs + 1):
                    cells, widgets, total = execute_once(name, client, timeout)
                    slow = {i: c for i, c in cells.items() if c[0] > threshold}
                    stalled = {i: c for i, c in cells.items() if c[1] is not None and c[1] > wait}
                    stalls[name].append(stalled)
                    slowest = max(cells, key=lambda i: cells[i][0])
                    print(f"{name} run {number}/{runs}: {total:.1f} s; slowest cell {slowest} "
                          f"({cells[slowest][0]:.1f} s); widget cell(s) "
                          + (", ".join(f"{i}: {cells[i][0]:.1f} s" for i in widgets if i in cells) or "none")
                          + f"; over {threshold:g} s: {_cells(slow)}; stalled: {_cells(stalled)}"
                          + f"; load {os.getloadavg()[0]:.1f}", file=out, flush=True)
    finally:
        if previous is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = previous
    return stalls


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", action="append", help="a solution notebook (default: every one with widgets)")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--client", choices=("grader", "steady", "plain"), default="grader")
    parser.add_argument("--busy", type=int, default=os.cpu_count() or 1,
                        help="processes spinning on the CPU beside the runs (default: one per core)")
    parser.add_argument("--timeout", type=int, help="cell timeout in seconds (default: nbgrader_config.py's)")
    parser.add_argument("--threshold", type=float, help="seconds above which a cell is listed as slow "
                                                        "(default: half the cell timeout)")
    parser.add_argument("--wait", type=float, default=5.0,
                        help="seconds a cell's result may wait for the client before the cell counts as stalled")
    args = parser.parse_args(argv)
    names = args.notebook or widget_notebooks()
    timeout = args.timeout or grader_timeout()
    threshold = args.threshold or timeout / 2
    print(f"notebooks: {', '.join(names)}; client: {args.client}; cell timeout {timeout} s; "
          f"stall: a result that waited over {args.wait:g} s for the client; slow: a cell over {threshold:g} s; "
          f"{args.busy} busy process(es); {os.cpu_count()} cores; load before {os.getloadavg()[0]:.1f}", flush=True)
    stalls = run(names, args.runs, args.client, args.busy, threshold, timeout, args.wait)
    for name, per_run in stalls.items():
        clean = sum(1 for slow in per_run if not slow)
        print(f"{name}: {clean} of {len(per_run)} runs without a stall ({args.client} client, "
              f"{args.busy} busy process(es), load {os.getloadavg()[0]:.1f} at the end)")
    return 0 if all(not slow for per_run in stalls.values() for slow in per_run) else 1


if __name__ == "__main__":
    sys.exit(main())
