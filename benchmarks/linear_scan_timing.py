"""Time the four ways of computing h_t = a_t * h_{t-1} + b_t at larger sizes than notebook 11.

    OPENBLAS_NUM_THREADS=1 python benchmarks/linear_scan_timing.py [--repeats 5]

Prints the shortest of ``--repeats`` runs of ``linear_rnn.linear_scan`` with method
"loop", "scan", "blelloch" and "cumulative": against T at N·H = 16 and N·H = 1024, and against N·H
at T = 1024, with the first size from which the scan beats the loop. BLAS is pinned to one
thread (as in the notebooks), and the machine's load average is printed beside every table:
the figures are wall-clock times, so run it on a quiet machine and quote them with that load.
"""
import argparse
import os

import numpy as np

from rnn_helpers.lessons import scan_timings
from rnn_helpers.training.threads import pin_threads


def load():
    """The 1-, 5- and 15-minute load averages and the number of cores, as one line."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} (1, 5, 15 min) on {os.cpu_count()} cores"


def table(title, label, sizes, shapes, repeats, rng):
    times = scan_timings.recurrence_times(shapes, rng, repeats=repeats)
    print(f"{title}  [{load()}]")
    print(f"{label:>8s}" + "".join(f"{method + ' (ms)':>18s}" for method in times))
    for i, size in enumerate(sizes):
        print(f"{size:8d}" + "".join(f"{1000 * times[method][i]:18.3f}" for method in times))
    print(f"scan faster than the loop from {label} = {scan_timings.first_win(sizes, times['scan'], times['loop'])}\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    pin_threads()
    print(f"best of {args.repeats} runs; before: {load()}\n")
    rng = np.random.default_rng(0)
    lengths = [16, 64, 256, 1024, 4096, 16384]
    for N, H in ((4, 4), (32, 32)):
        table(f"N = {N}, H = {H}:", "T", lengths, [(T, N, H) for T in lengths], args.repeats, rng)
    widths = [1, 16, 256, 1024, 4096, 16384]
    table("T = 1024, H = 16 (or N·H when smaller):", "N·H", widths,
          [(1024, max(1, NH // 16), min(16, NH)) for NH in widths], args.repeats, rng)


if __name__ == "__main__":
    main()
