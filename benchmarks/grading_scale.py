"""Time grading a class with one worker and with N, against plain execution, and project.

    python benchmarks/grading_scale.py [--assignment 01_sequences] [--students 8] [--workers 2]
    python benchmarks/grading_scale.py --submission-only      # one submission with and without the sandbox
    python benchmarks/grading_scale.py --profile              # where one graded submission's time goes

Builds a class of ``--students`` submissions (the solution, and the solution with one
exercise wrong, alternately), grades it with ``grade_class`` with one worker and with
``--workers``, and prints: seconds per submission (wall time of the class / submissions),
the speed-up, the seconds one worker spends on a submission with the sandbox and without it
against plain execution of the same notebook (nbclient, NBGRADER_EXECUTION set), and the
projected time for 500 students x 9 notebooks on 1, 2 and 16 cores. ``--profile`` grades the
solution once in this process under cProfile and prints the wall time of each step (kernel
start, the grading guard's hidden cells, the notebook's cells, kernel shutdown, nbgrader's
steps and gradebook). The per-submission
times are measured in rounds, plain execution, grading without the sandbox and grading in
it one after the other, ``--rounds`` times, so that a machine shared with other work slows
all three alike. Every figure is printed with the machine's load (1-minute load average
before and after it was measured, and the number of cores): on a busy machine they are
this run's figures, not the code's. The projection assumes every notebook grades like this
one and never more than linear speed-up: the parallel efficiency measured with N workers,
capped at 100 %, is taken to hold on 16 cores.
"""
import argparse
import contextlib
import cProfile
import io
import os
import pathlib
import pstats
import resource
import shutil
import statistics
import sys
import tempfile
import time

import nbformat

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from notebook_times import ROOT, execute_seconds  # noqa: E402

from rnn_helpers.instructor import sandbox, workers  # noqa: E402
from rnn_helpers.instructor.grade_class import GradingRun  # noqa: E402


def build_class(course, assignment, students):
    course.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / assignment, course / "solutions" / assignment)
    solution = nbformat.read(str(ROOT / "solutions" / assignment / f"{assignment}.ipynb"), as_version=4)
    cases = __import__("json").loads((ROOT / "tests" / "grading_cases" / f"{assignment}.json").read_text())
    case = cases[0] if isinstance(cases, list) else cases             # one case or a list: the first
    wrong = nbformat.from_dict(solution)
    for cell in wrong.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == case["wrong_exercise"]:
            cell.source = case["wrong_source"]
    for number in range(students):
        folder = course / "submitted" / f"student-{number:03d}" / assignment
        folder.mkdir(parents=True)
        nbformat.write(wrong if number % 2 else solution, str(folder / f"{assignment}.ipynb"))


def load():
    """The machine's 1-minute load average."""
    return os.getloadavg()[0]


class Measured:
    """A figure with the load average before and after it was measured."""

    def __init__(self):
        self.before = load()

    def done(self, value):
        self.value, self.after = value, load()
        return self

    @property
    def load(self):
        return f"[load {self.before:.1f} -> {self.after:.1f} on {os.cpu_count()} cores]"


def time_class(assignment, students, workers, isolation):
    """(Measured wall seconds for the class, isolation note) with ``workers`` workers."""
    with tempfile.TemporaryDirectory() as tmp:
        course = pathlib.Path(tmp) / "course"
        build_class(course, assignment, students)
        run = GradingRun(course, isolation, workers=workers, out=io.StringIO())
        try:
            run.prepare([assignment])
            run.check_grader([assignment])  # also starts the workers, outside the timed part
            measured = Measured()
            start = time.perf_counter()
            run.grade_submissions([(assignment, s) for s in run.students(assignment)])
            measured.done(time.perf_counter() - start)
        finally:
            run.close()
        if run.problems:
            raise RuntimeError(f"grading went wrong: {run.problems}")
        return measured, run.isolation_note


@contextlib.contextmanager
def solution_task(assignment):
    """A grading task of the solution in a scratch course, graded once already (nbgrader imported, as in a worker)."""
    with tempfile.TemporaryDirectory() as tmp:
        course = pathlib.Path(tmp) / "course"
        build_class(course, assignment, 0)
        run = GradingRun(course, "auto", workers=1, out=io.StringIO())
        try:
            run.prepare([assignment])
            # the grader reads submissions only from inside the course: the course's own copy
            task = run.task(assignment, "solution", course / "solutions" / assignment)
            workers.grade_submission(task)
            yield task
        finally:
            run.close()


def per_submission(assignment, rounds, isolations):
    """{"plain" and each isolation: Measured median seconds} for the solution on one worker."""
    solution = ROOT / "solutions" / assignment
    seconds = {name: [] for name in ("plain", *isolations)}
    with solution_task(assignment) as task:
        measured = Measured()
        for _ in range(rounds):
            # errors allowed, as the grader allows them (a timing claim can fail on a loaded machine)
            seconds["plain"].append(execute_seconds(solution / f"{assignment}.ipynb", grading=True,
                                                    allow_errors=True)[0])
            for isolation in isolations:
                result = workers.grade_submission(dict(task, isolation=isolation))
                if not result["success"]:
                    raise RuntimeError(f"grading the solution failed: {result['error'] or result['log']}")
                seconds[isolation].append(result["seconds"])
    measured.done(None)
    return {name: (statistics.median(values), values) for name, values in seconds.items()}, measured


def profile_steps():
    """(label, function) of the steps ``--profile`` reports."""
    from nbgrader.api import Gradebook
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import OverwriteCells

    from rnn_helpers.instructor.autograding import ResilientExecute

    return (("whole submission (workers.grade_submission)", workers.grade_submission),
            ("  nbgrader: gradebook entries for the submission", Autograde.init_assignment),
            ("  nbgrader: OverwriteCells (reads the gradebook)", OverwriteCells.preprocess),
            ("  gradebook opened (nbgrader Gradebook)", Gradebook.__init__),
            ("  execution (ResilientExecute), all of it", ResilientExecute.preprocess),
            ("    the guard's snapshot (with the tests' imports)", ResilientExecute._take_snapshot),
            ("    the guard's hidden cells (snapshot, restore, verify)", ResilientExecute._guard),
            ("    the notebook's code cells", ResilientExecute._execute),
            ("  graded folder read back (student_files)", workers.folder_files))


def profile(assignment, isolation):
    """Grade the solution once under cProfile; print the wall seconds of each step."""
    with solution_task(assignment) as task:
        measured, profiler = Measured(), cProfile.Profile()
        cpu = resource.getrusage(resource.RUSAGE_SELF)
        profiler.runcall(workers.grade_submission, dict(task, isolation=isolation))
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        measured.done(None)
    stats = pstats.Stats(profiler).stats
    print(f"one graded submission of {assignment} (the solution), isolation {isolation!r}, under cProfile "
          f"{measured.load}; wall seconds (calls):")
    seconds = {}
    for label, function in profile_steps():
        code = function.__code__
        _, calls, _, seconds[function], _ = stats.get((code.co_filename, code.co_firstlineno, code.co_name),
                                                      (0, 0, 0, 0.0, 0))
        print(f"  {label:62s} {seconds[function]:6.2f} s ({calls})")
    # the kernel's start and shutdown run in nbclient's event loop, where cProfile cannot tell them apart
    execution = [seconds[function] for _, function in profile_steps()[4:8]]
    print(f"  {'    the rest: kernel start, ready and shutdown':62s} {execution[0] - sum(execution[2:]):6.2f} s")
    print(f"  CPU of this process (nbgrader, the client, the gradebook): "
          f"{cpu_after.ru_utime + cpu_after.ru_stime - cpu.ru_utime - cpu.ru_stime:.2f} s")


def print_submission(assignment, times, rounds, count):
    """Print the per-submission figures of ``per_submission``; returns the plain execution's seconds."""
    plain = times["plain"][0]
    print(f"one submission of {assignment} (the solution) on one worker, medians of {count} rounds {rounds.load}:")
    print(f"  plain execution (nbclient, no nbgrader, no sandbox): {plain:.1f} s  "
          f"({', '.join(f'{v:.1f}' for v in times['plain'][1])})")
    for isolation in times:
        if isolation == "plain":
            continue
        graded = times[isolation][0]
        print(f"  graded {'in the sandbox' if isolation == 'sandbox' else 'without the sandbox'}: {graded:.1f} s  "
              f"({', '.join(f'{v:.1f}' for v in times[isolation][1])}); against plain execution {graded / plain:.2f}")
    if "sandbox" in times:
        extra = times["sandbox"][0] - times["none"][0]
        print(f"  the sandbox adds {extra:+.1f} s per submission ({extra / times['none'][0]:+.0%})")
    return plain


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="01_sequences")
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--isolation", choices=("auto", "sandbox", "none"), default="auto",
                        help="isolation of the class runs (the per-submission rounds time both)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--submission-only", action="store_true",
                        help="time only one submission with and without the sandbox (no class, no projection)")
    parser.add_argument("--profile", action="store_true",
                        help="where one graded submission's wall time goes (cProfile), with and without the sandbox")
    args = parser.parse_args()
    isolations = ("none", "sandbox") if sandbox.availability()[0] else ("none",)
    if args.profile:
        for isolation in isolations:
            profile(args.assignment, isolation)
        return
    if args.submission_only:
        print_submission(args.assignment, *per_submission(args.assignment, args.rounds, isolations), args.rounds)
        return
    serial, note = time_class(args.assignment, args.students, 1, args.isolation)
    parallel, _ = time_class(args.assignment, args.students, args.workers, args.isolation)
    times, rounds = per_submission(args.assignment, args.rounds, isolations)
    per_serial, per_parallel = serial.value / args.students, parallel.value / args.students
    speedup = serial.value / parallel.value
    efficiency = min(1.0, speedup / args.workers)
    print(note)
    print(f"class: {args.students} submissions of {args.assignment}")
    print(f"seconds per submission, 1 worker:  {per_serial:.1f} s (class in {serial.value:.1f} s) {serial.load}")
    print(f"seconds per submission, {args.workers} workers: {per_parallel:.1f} s (class in {parallel.value:.1f} s) "
          f"{parallel.load}")
    print(f"speed-up with {args.workers} workers: {speedup:.2f}x (parallel efficiency {speedup / args.workers:.0%}"
          + ("; over 100 % is a load change between the two runs, the projection takes 100 %"
             if speedup > args.workers else "") + ")"
          + (f"; {args.workers} workers on {os.cpu_count()} cores" if args.workers > (os.cpu_count() or 1) else ""))
    plain = print_submission(args.assignment, times, rounds, args.rounds)
    print(f"a graded submission of the class with 1 worker against plain execution: {per_serial / plain:.2f} "
          f"{serial.load}")
    total = 500 * 9
    for cores in (1, 2, 16):
        seconds = total * per_serial / (1 if cores == 1 else cores * efficiency)
        print(f"projected for 500 students x 9 notebooks on {cores:2d} core(s): {seconds / 3600:.1f} h "
              f"(from the 1-worker run {serial.load}; parallel efficiency {efficiency if cores > 1 else 1:.0%})")


if __name__ == "__main__":
    main()
