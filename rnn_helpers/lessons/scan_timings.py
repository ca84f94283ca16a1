"""Timings of notebook 11: the GRU's loop, the four ways to run a linear recurrence, and
linear attention as a recurrence or as a (T, T) matrix; and the work of the two scans,
counted.

Every figure is the shortest of a few wall-clock runs (the least disturbed by whatever else
the machine does), with whatever BLAS threads the caller pinned. They are this machine's
figures under this run's load, not laws: the notebook states them as such, and
``benchmarks/linear_scan_timing.py`` prints the same tables for larger sizes.
"""
import time
from unittest import mock

import numpy as np

from .. import gru, linear_rnn
from ..instructor.sealing import ExerciseNotShipped


def best_time(function, repeats=3):
    """The shortest of ``repeats`` wall-clock times of ``function()``, in seconds."""
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def gru_forward_times(lengths, N, D, H, rng, repeats=3):
    """Seconds of one ``gru.gru_forward`` over (T, N, D) inputs, for each T in ``lengths``."""
    U = rng.normal(size=(3 * H, D)) / np.sqrt(D)
    W = rng.normal(size=(3 * H, H)) / np.sqrt(H)
    b, h0 = np.zeros(3 * H), np.zeros((N, H))
    times = []
    for T in lengths:
        x = rng.normal(size=(T, N, D))
        times.append(best_time(lambda: gru.gru_forward(x, h0, U, W, b), repeats))
    return np.array(times)


def recurrence_times(shapes, rng, methods=linear_rnn.METHODS, repeats=3):
    """Seconds of ``linear_rnn.linear_scan`` per method, for each (T, N, H) in ``shapes``.

    Decays are drawn in [0.5, 1), inputs from N(0, 1). Returns a dict method -> array of times.
    """
    times = {method: [] for method in methods}
    for T, N, H in shapes:
        a = rng.uniform(0.5, 1.0, (T, N, H))
        b = rng.normal(size=(T, N, H))
        for method in methods:
            times[method].append(best_time(lambda: linear_rnn.linear_scan(a, b, method=method), repeats))
    return {method: np.array(values) for method, values in times.items()}


def attention_times(lengths, N, Dk, Dv, rng, repeats=3):
    """Seconds of ``causal_linear_attention`` per method, for each T in ``lengths``."""
    times = {method: [] for method in linear_rnn.ATTENTION_METHODS}
    for T in lengths:
        q, k = rng.normal(size=(T, N, Dk)), rng.normal(size=(T, N, Dk))
        v = rng.normal(size=(T, N, Dv))
        for method in linear_rnn.ATTENTION_METHODS:
            times[method].append(best_time(lambda: linear_rnn.causal_linear_attention(q, k, v, method), repeats))
    return {method: np.array(values) for method, values in times.items()}


def combines_done(method, T):
    """How many pairs ``linear_rnn.linear_scan(..., method)`` combines for T steps of one number each.

    Wraps ``linear_rnn.combine`` (which the scans call on whole slices) and adds up the sizes
    of the arrays it is called on: the work the scan actually does, not a formula. In a sealed
    environment (``instructor/sealing.py``) linear_scan runs the student's scan, which calls the
    student's own combine: nothing is counted there, and the count needs the course's scan.
    """
    with mock.patch.object(linear_rnn, "combine", wraps=linear_rnn.combine) as counting:
        linear_rnn.linear_scan(np.ones((T, 1, 1)), np.ones((T, 1, 1)), method=method)
    if T > 1 and not counting.called:
        raise ExerciseNotShipped("parallel_scan", "11_linear_recurrences", needs_course=True)
    return sum(np.size(call.args[0][0]) for call in counting.call_args_list)


def growth_exponent(sizes, seconds):
    """Slope of log(seconds) against log(size) between the last two sizes: 1 linear, 2 quadratic."""
    return float(np.log(seconds[-1] / seconds[-2]) / np.log(sizes[-1] / sizes[-2]))


def first_win(sizes, winner, loser):
    """The first size from which ``winner`` is faster than ``loser`` at every larger size (None if never)."""
    wins = np.asarray(winner) < np.asarray(loser)
    for index in range(len(sizes)):
        if wins[index:].all():
            return sizes[index]
    return None
