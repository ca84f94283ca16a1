"""Time lstm_forward + lstm_backward on one batch (median of several runs).

    python benchmarks/lstm_timing.py [--repeats 7]

Sizes: T = 100 steps, batch N = 32, input D = 32, hidden H = 128; float32 and float64.
Set OPENBLAS_NUM_THREADS=1 to measure one core.
"""
import argparse
import time

import numpy as np

from rnn_helpers.lstm import lstm_backward, lstm_forward

T, N, D, H = 100, 32, 32, 128


def time_once(dtype, rng):
    x = rng.normal(size=(T, N, D)).astype(dtype)
    h0 = np.zeros((N, H), dtype=dtype)
    c0 = np.zeros((N, H), dtype=dtype)
    U = rng.normal(scale=D ** -0.5, size=(4 * H, D)).astype(dtype)
    W = rng.normal(scale=H ** -0.5, size=(4 * H, H)).astype(dtype)
    b = np.zeros(4 * H, dtype=dtype)
    dhs = rng.normal(size=(T, N, H)).astype(dtype)
    start = time.perf_counter()
    hs, cs, cache = lstm_forward(x, h0, c0, U, W, b)
    lstm_backward(dhs, cache)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"lstm_forward + lstm_backward, T={T}, N={N}, D={D}, H={H}")
    for dtype in (np.float32, np.float64):
        time_once(dtype, rng)  # warm-up
        times = [time_once(dtype, rng) for _ in range(args.repeats)]
        print(f"  {np.dtype(dtype).name:8s} median {1e3 * np.median(times):7.1f} ms "
              f"(min {1e3 * min(times):.1f} ms, {args.repeats} runs)")


if __name__ == "__main__":
    main()
