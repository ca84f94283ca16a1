"""Time grading a class with one worker and with N, against plain execution, and project.

    python benchmarks/grading_scale.py [--assignment 01_sequences] [--students 8] [--workers 2]

Builds a class of ``--students`` submissions (the solution, and the solution with one
exercise wrong, alternately), grades it with ``grade_class`` with one worker and with
``--workers``, and prints: seconds per submission (wall time of the class / submissions),
the speed-up, the overhead ratio of grading against plain execution of the same notebook
(nbclient, NBGRADER_EXECUTION set, no sandbox), and the projected time for 500 students x 9
notebooks on 1, 2 and 16 cores. The overhead is measured in pairs, a worker's grading of the
solution (sandbox, nbgrader, integrity checks) right after a plain execution, ``--pairs``
times, so that a machine shared with other work slows both alike. The projection assumes
every notebook grades like this one, and that the parallel efficiency measured with N
workers holds on 16 cores.
"""
import argparse
import io
import pathlib
import shutil
import statistics
import sys
import tempfile
import time

import nbformat

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from notebook_times import ROOT, execute_seconds  # noqa: E402

from rnn_helpers.instructor import workers  # noqa: E402
from rnn_helpers.instructor.grade_class import GradingRun  # noqa: E402


def build_class(course, assignment, students):
    course.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / assignment, course / "solutions" / assignment)
    solution = nbformat.read(str(ROOT / "solutions" / assignment / f"{assignment}.ipynb"), as_version=4)
    case = __import__("json").loads((ROOT / "tests" / "grading_cases" / f"{assignment}.json").read_text())
    wrong = nbformat.from_dict(solution)
    for cell in wrong.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == case["wrong_exercise"]:
            cell.source = case["wrong_source"]
    for number in range(students):
        folder = course / "submitted" / f"student-{number:03d}" / assignment
        folder.mkdir(parents=True)
        nbformat.write(wrong if number % 2 else solution, str(folder / f"{assignment}.ipynb"))


def time_class(assignment, students, workers, isolation):
    """(wall seconds for the class, [worker seconds per submission]) with ``workers`` workers."""
    with tempfile.TemporaryDirectory() as tmp:
        course = pathlib.Path(tmp) / "course"
        build_class(course, assignment, students)
        run = GradingRun(course, isolation, workers=workers, out=io.StringIO())
        try:
            run.prepare([assignment])
            run.check_grader([assignment])  # also starts the workers, outside the timed part
            start = time.perf_counter()
            run.grade_submissions([(assignment, s) for s in run.students(assignment)])
            wall = time.perf_counter() - start
        finally:
            run.close()
        if run.problems:
            raise RuntimeError(f"grading went wrong: {run.problems}")
        return wall, run.timings, run.isolation_note


def paired_overhead(assignment, pairs, isolation):
    """[(plain seconds, grading seconds)] for the solution, one pair after the other."""
    solution = ROOT / "solutions" / assignment
    with tempfile.TemporaryDirectory() as tmp:
        course = pathlib.Path(tmp) / "course"
        build_class(course, assignment, 0)
        run = GradingRun(course, isolation, workers=1, out=io.StringIO())
        try:
            run.prepare([assignment])
            task = run.task(assignment, "solution", solution)
            workers.grade_submission(task)  # imports nbgrader once, as a worker does
            result = []
            for _ in range(pairs):
                plain = execute_seconds(solution / f"{assignment}.ipynb", grading=True)
                result.append((plain, workers.grade_submission(task)["seconds"]))
        finally:
            run.close()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="01_sequences")
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--isolation", choices=("auto", "sandbox", "none"), default="auto")
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    serial, _, note = time_class(args.assignment, args.students, 1, args.isolation)
    parallel, _, _ = time_class(args.assignment, args.students, args.workers, args.isolation)
    pairs = paired_overhead(args.assignment, args.pairs, args.isolation)
    plain = statistics.median(p for p, _ in pairs)
    graded = statistics.median(g for _, g in pairs)
    per_serial, per_parallel = serial / args.students, parallel / args.students
    speedup = serial / parallel
    efficiency = speedup / args.workers
    print(note)
    print(f"class: {args.students} submissions of {args.assignment}")
    print(f"seconds per submission, 1 worker:  {per_serial:.1f} s (class in {serial:.1f} s)")
    print(f"seconds per submission, {args.workers} workers: {per_parallel:.1f} s (class in {parallel:.1f} s)")
    print(f"speed-up with {args.workers} workers: {speedup:.2f}x (parallel efficiency {efficiency:.0%})")
    print(f"the solution graded on a worker: {graded:.1f} s, executed plainly: {plain:.1f} s (medians of "
          f"{args.pairs} pairs: {', '.join(f'{g:.1f}/{p:.1f}' for p, g in pairs)}); overhead ratio {graded / plain:.2f}")
    print(f"a graded submission of the class with 1 worker against plain execution: {per_serial / plain:.2f}")
    total = 500 * 9
    for cores in (1, 2, 16):
        seconds = total * per_serial / (1 if cores == 1 else cores * efficiency)
        print(f"projected for 500 students x 9 notebooks on {cores:2d} core(s): {seconds / 3600:.1f} h")


if __name__ == "__main__":
    main()
