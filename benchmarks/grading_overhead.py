"""Time grading the demo class against plain execution of the same notebook.

    python benchmarks/grading_overhead.py [--assignment 01_sequences] [--isolation auto|none]

Prints the wall time of the whole instructor path on the five simulated students, the
time per graded submission, and the plain execution time of the solution notebook under
NBGRADER_EXECUTION (the same shortened run the autograder makes), with their ratio.
"""
import argparse
import io
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from notebook_times import ROOT, execute_seconds  # noqa: E402

from rnn_helpers.instructor import demo_class  # noqa: E402
from rnn_helpers.instructor.grade_class import GradingRun  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="01_sequences")
    parser.add_argument("--isolation", choices=("auto", "sandbox", "none"), default="auto")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        course = pathlib.Path(tmp) / "course"
        zips = demo_class.build(course, args.assignment)
        log = io.StringIO()
        run = GradingRun(course, args.isolation, out=log)
        start = time.perf_counter()
        try:
            run.grade([args.assignment], zips)
        finally:
            run.close()
        total = time.perf_counter() - start
    per_submission = run.timings
    plain, _ = execute_seconds(ROOT / "solutions" / args.assignment / f"{args.assignment}.ipynb", grading=True)
    mean = sum(per_submission) / len(per_submission)
    print(run.isolation_note)
    print(f"demo class ({args.assignment}, 5 students, whole path): {total:.1f} s")
    print(f"autograde per graded submission (on a worker): {mean:.1f} s (n={len(per_submission)})")
    print(f"plain execution of the same notebook (NBGRADER_EXECUTION set): {plain:.1f} s")
    print(f"grading overhead ratio: {mean / plain:.2f}")


if __name__ == "__main__":
    main()
