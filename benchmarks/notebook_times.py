"""Print how long each solution notebook takes to execute top to bottom.

    python benchmarks/notebook_times.py [NAME ...] [--grading]

--grading also times the shortened run that nbgrader's autograder makes (with the
NBGRADER_EXECUTION environment variable set), which is what grading a class costs.
"""
import argparse
import os
import pathlib
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent


def execute_seconds(path, grading):
    nb = nbformat.read(str(path), as_version=4)
    previous = os.environ.pop("NBGRADER_EXECUTION", None)
    if grading:
        os.environ["NBGRADER_EXECUTION"] = "autograde"
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        return time.perf_counter() - start
    finally:
        os.environ.pop("NBGRADER_EXECUTION", None)
        if previous is not None:
            os.environ["NBGRADER_EXECUTION"] = previous


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*")
    parser.add_argument("--grading", action="store_true")
    args = parser.parse_args()
    names = args.names or sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
    print(f"{'notebook':32s} {'full run (s)':>12s}" + (f" {'autograde run (s)':>18s}" if args.grading else ""))
    for name in names:
        path = ROOT / "solutions" / name / f"{name}.ipynb"
        row = f"{name:32s} {execute_seconds(path, False):12.1f}"
        if args.grading:
            row += f" {execute_seconds(path, True):18.1f}"
        print(row, flush=True)


if __name__ == "__main__":
    main()
