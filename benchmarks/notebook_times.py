"""Print how long each solution notebook takes to execute top to bottom.

    python benchmarks/notebook_times.py [NAME ...] [--grading] [--readme]

--grading also times the shortened run that nbgrader's autograder makes (with the
NBGRADER_EXECUTION environment variable set), which is what grading a class costs.
--readme writes the table (all notebooks, both runs) into README.md between the markers
``<!-- notebook-times -->`` and ``<!-- /notebook-times -->``, with the date, the BLAS
thread count and the machine's load beside it.

Each run reports its wall time and the CPU time of its kernel (user + system, read when the
kernel has been shut down and reaped): on a shared machine the wall time grows with the load,
the kernel's CPU time much less.
"""
import argparse
import datetime
import os
import pathlib
import re
import resource
import time

import nbformat
from rnn_helpers.instructor.execution import SteadyNotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def execute_seconds(path, grading, allow_errors=False):
    """(wall seconds, kernel CPU seconds) of one top-to-bottom run of the notebook at `path`."""
    nb = nbformat.read(str(path), as_version=4)
    previous = os.environ.pop("NBGRADER_EXECUTION", None)
    if grading:
        os.environ["NBGRADER_EXECUTION"] = "autograde"
    try:
        start, cpu_start = time.perf_counter(), children_cpu_seconds()
        SteadyNotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=allow_errors,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        return time.perf_counter() - start, children_cpu_seconds() - cpu_start
    finally:
        os.environ.pop("NBGRADER_EXECUTION", None)
        if previous is not None:
            os.environ["NBGRADER_EXECUTION"] = previous


def markdown_table(rows, load_before, load_after):
    lines = [f"Measured {datetime.date.today()} with `python benchmarks/notebook_times.py --readme` "
             f"({os.cpu_count()} cores, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, load average "
             f"{load_before:.1f} before and {load_after:.1f} after):",
             "",
             "| notebook | full run, wall (s) | full run, kernel CPU (s) | autograder's run, wall (s) | autograder's run, kernel CPU (s) |",
             "|---|---:|---:|---:|---:|"]
    lines += [f"| {name} | {full[0]:.0f} | {full[1]:.0f} | {graded[0]:.0f} | {graded[1]:.0f} |"
              for name, full, graded in rows]
    return "\n".join(lines)


def write_into_readme(table):
    readme = ROOT / "README.md"
    text = readme.read_text()
    block = re.compile(r"(<!-- notebook-times -->\n)(?:.*?\n)?(<!-- /notebook-times -->)", re.S)
    if not block.search(text):
        raise SystemExit("README.md has no <!-- notebook-times --> ... <!-- /notebook-times --> block")
    readme.write_text(block.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--grading", action="store_true")
    parser.add_argument("--readme", action="store_true",
                        help="time every notebook, both runs, and write the table into README.md")
    args = parser.parse_args()
    if args.readme and args.names:
        parser.error("--readme times every notebook: give no names")
    grading = args.grading or args.readme
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")       # the kernels inherit one BLAS thread
    names = args.names or sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    load_before = os.getloadavg()[0]
    print(f"{'notebook':32s} {'full: wall, CPU (s)':>20s}" + (f" {'autograde: wall, CPU (s)':>25s}" if grading else ""))
    rows = []
    for name in names:
        path = ROOT / "solutions" / name / f"{name}.ipynb"
        full = execute_seconds(path, False)
        graded = execute_seconds(path, True) if grading else None
        rows.append((name, full, graded))
        print(f"{name:32s} {full[0]:11.1f} {full[1]:8.1f}" + (f" {graded[0]:16.1f} {graded[1]:8.1f}" if grading else ""), flush=True)
    if args.readme:
        write_into_readme(markdown_table(rows, load_before, os.getloadavg()[0]))
        print("README.md updated")


if __name__ == "__main__":
    main()
