"""One BLAS thread for every notebook that times or trains, the same setting as ``make test``.

The course's matrices are small: with several BLAS threads numpy spends more time handing
work between threads than computing, and timings depend on what else the machine runs.
Every notebook that trains or times calls this once, at the top::

    from rnn_helpers.training.threads import pin_threads
    pin_threads()          # prints: BLAS threads pinned to 1 (openblas)

``make lab`` and ``make test`` also export ``OPENBLAS_NUM_THREADS=1`` (and the OpenMP and MKL
equivalents), so a notebook run by hand and the same notebook run by the tests agree.
"""
from threadpoolctl import threadpool_info, threadpool_limits

_LIMITER = None


def blas_threads():
    """The thread counts of the BLAS libraries numpy loaded, as a dict name -> threads."""
    return {info["internal_api"]: info["num_threads"] for info in threadpool_info()
            if info["user_api"] == "blas"}


def pin_threads(threads=1, quiet=False):
    """Limit numpy's BLAS (and OpenMP) to ``threads`` threads for the rest of the session.

    Returns the thread counts after the change (name -> threads); prints them unless quiet.
    """
    global _LIMITER
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"pin_threads: threads must be a positive int, got {threads!r}")
    import numpy  # noqa: F401  (threadpoolctl limits only the libraries already loaded)
    _LIMITER = threadpool_limits(limits=threads)
    counts = blas_threads()
    if not quiet:
        names = ", ".join(f"{name}" for name in counts) or "no BLAS library found"
        print(f"BLAS threads pinned to {threads} ({names})")
    return counts
