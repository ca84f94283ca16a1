"""The grading guard's cost: what one call of a student's function costs the grader.

    python benchmarks/grading_guard.py [--torch] [--calls 20]

Installs the guard (``rnn_helpers.instructor.integrity``) in this process as the graded
kernel does, takes its snapshot with numpy, the course, IPython and ipykernel loaded (and
PyTorch with ``--torch``), then times ``grading.call_student`` on a trivial function: each
call makes the guard compare the state before and after it with the snapshot, so this is the
price a test cell pays per call of the student's code. Prints the median with the machine's
load. (The guard stops the process on what it refuses, so this runs in a process of its own.)
"""
import argparse
import os
import statistics
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch", action="store_true", help="load PyTorch before the snapshot")
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    import IPython  # noqa: F401  (loaded in a graded kernel)
    import ipykernel  # noqa: F401
    import numpy  # noqa: F401

    from rnn_helpers import grading
    from rnn_helpers.instructor import integrity
    if args.torch:
        import torch  # noqa: F401
    _, write = os.pipe()
    integrity.install(os.urandom(32), write)
    start = time.perf_counter()
    sys.audit("rnn_course.snapshot", "benchmark")
    snapshot = time.perf_counter() - start
    times = []
    for _ in range(args.calls):
        start = time.perf_counter()
        grading.call_student(len, [1, 2])
        times.append(time.perf_counter() - start)
    load = os.getloadavg()[0]
    print(f"modules loaded: {len(sys.modules)}{' (with torch)' if args.torch else ''}; snapshot {1000 * snapshot:.0f} ms")
    print(f"call_student: median {1000 * statistics.median(times):.1f} ms over {args.calls} calls "
          f"(load average {load:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
