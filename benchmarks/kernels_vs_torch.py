"""Forward + backward time of the course's rnn, lstm and gru against torch.nn.RNN/LSTM/GRU.

    python benchmarks/kernels_vs_torch.py [--repeats 7] [--quick] [--cells lstm gru] [--clock cpu]

For every cell, shape and dtype: the median time of a forward pass over the whole sequence
plus the backward pass that gives the gradients of all parameters, of the input sequence and
of the initial state(s), for the course's contract functions (``rnn_forward`` +
``rnn_backward`` etc.) and for PyTorch's CPU layer with the same shapes, dtype and number
of threads (torch.set_num_threads = numpy's BLAS thread count, read with threadpoolctl).
The two are timed in turns (course, torch, course, torch, ...), so that a burst of other
work on a shared machine slows both alike and their ratio stays comparable. ``--clock cpu``
times each run by the CPU time of this process (``time.process_time``) instead of the wall
clock: with one BLAS thread, on a machine that other jobs share, it counts only the work of
the run, not the time it waited for a core.

Columns: the two medians, the ratio course / torch (below 1 means the course is faster) and
the load average (1 min) when the row was done; then, in a second table, the achieved matmul
GFLOP/s of each as a fraction of the machine's "peak", measured as
numpy's best GFLOP/s on a 2048 x 2048 matmul in the same dtype. Only matmul flops are
counted: forward 2*T*N*G*H*(D + H) for G gate blocks (1 rnn, 4 lstm, 3 gru), backward twice
that (gradients of the inputs and of the weights), so 6*T*N*G*H*(D + H) in all.

Needs the optional extra: pip install -e ".[torch]". On a shared machine, look at
``uptime`` first: the numbers mean little when other work keeps the cores busy.
"""
import argparse
import os
import time

import numpy as np
from threadpoolctl import threadpool_info

from rnn_helpers.gru import gru_backward, gru_forward
from rnn_helpers.lstm import lstm_backward, lstm_forward
from rnn_helpers.rnn import rnn_backward, rnn_forward

SHAPES = [(100, 32, 32, 128), (50, 64, 64, 256), (100, 64, 128, 512)]   # (T, N, D, H)
GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def blas_threads():
    counts = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    return counts[0] if counts else 1


def run_times(runs, repeats, clock=time.perf_counter):
    """Times of each run in ``runs``, called in turns ``repeats`` times: one list per run."""
    for run in runs:
        run()                                # warm-up (allocations, thread pools)
    times = [[] for _ in runs]
    for _ in range(repeats):
        for run, its_times in zip(runs, times):
            start = clock()
            run()
            its_times.append(clock() - start)
    return times


def matmul_peak_gflops(dtype, repeats, clock, n=2048):
    """numpy's best GFLOP/s on an n x n matmul: the best run, since it is a peak."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(n, n)).astype(dtype)
    b = rng.normal(size=(n, n)).astype(dtype)
    return 2 * n ** 3 / min(run_times([lambda: a @ b], repeats, clock)[0]) / 1e9


def course_runner(cell, x, h0, U, W, b, dhs):
    if cell == "rnn":
        return lambda: rnn_backward(dhs, rnn_forward(x, h0, U, W, b)[1])
    if cell == "gru":
        return lambda: gru_backward(dhs, gru_forward(x, h0, U, W, b)[1])
    return lambda: lstm_backward(dhs, lstm_forward(x, h0, h0, U, W, b)[2])


def torch_runner(torch, cell, x, h0, U, W, b, dhs):
    T, N, D = x.shape
    H = h0.shape[1]
    dtype = torch.float64 if x.dtype == np.float64 else torch.float32
    layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](
        D, H, dtype=dtype)
    with torch.no_grad():                    # same weights; b goes to bias_ih, bias_hh = 0
        layer.weight_ih_l0.copy_(torch.from_numpy(U))
        layer.weight_hh_l0.copy_(torch.from_numpy(W))
        layer.bias_ih_l0.copy_(torch.from_numpy(b))
        layer.bias_hh_l0.zero_()
    xt = torch.from_numpy(x).requires_grad_()
    h0t = torch.from_numpy(h0[None]).requires_grad_()
    c0t = torch.from_numpy(h0[None].copy()).requires_grad_()
    dhst = torch.from_numpy(dhs)

    def run():
        for p in (*layer.parameters(), xt, h0t, c0t):
            p.grad = None
        state = (h0t, c0t) if cell == "lstm" else h0t
        out, _ = layer(xt, state)
        out.backward(dhst)

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="only the small shape")
    parser.add_argument("--cells", nargs="+", choices=list(GATES), default=list(GATES),
                        help="the cells to time (default: all)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="wall clock (default) or this process's CPU time")
    args = parser.parse_args()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    try:
        import torch                         # the optional extra
    except ImportError:
        raise SystemExit('this benchmark needs PyTorch: pip install -e ".[torch]" (or make bench)')

    threads = blas_threads()
    torch.set_num_threads(threads)
    print(f"threads: numpy BLAS {threads}, torch {torch.get_num_threads()}; "
          f"torch {torch.__version__}; {args.clock} clock; load average (1 min) {os.getloadavg()[0]:.2f}")
    shapes = SHAPES[:1] if args.quick else SHAPES
    # The peak is measured before and after the table (best of both): one burst of
    # other work on a shared machine would otherwise make every percentage too high.
    peaks = {dtype: matmul_peak_gflops(dtype, args.repeats, clock) for dtype in (np.float32, np.float64)}
    rows = []
    print(f"{'cell':5s} {'T,N,D,H':>16s} {'dtype':8s} {'course ms':>10s} {'torch ms':>9s} "
          f"{'ratio':>6s} {'load':>5s}")
    rng = np.random.default_rng(0)
    for T, N, D, H in shapes:
        for dtype in (np.float32, np.float64):
            for cell in args.cells:
                G = GATES[cell]
                x = rng.normal(size=(T, N, D)).astype(dtype)
                h0 = rng.normal(scale=0.5, size=(N, H)).astype(dtype)
                U = rng.normal(scale=D ** -0.5, size=(G * H, D)).astype(dtype)
                W = rng.normal(scale=H ** -0.5, size=(G * H, H)).astype(dtype)
                b = rng.normal(scale=0.1, size=G * H).astype(dtype)
                dhs = rng.normal(size=(T, N, H)).astype(dtype)
                ours, theirs = (float(np.median(times)) for times in run_times(
                    [course_runner(cell, x, h0, U, W, b, dhs),
                     torch_runner(torch, cell, x, h0, U, W, b, dhs)], args.repeats, clock))
                print(f"{cell:5s} {f'{T},{N},{D},{H}':>16s} {np.dtype(dtype).name:8s} "
                      f"{1e3 * ours:10.1f} {1e3 * theirs:9.1f} {ours / theirs:6.2f} "
                      f"{os.getloadavg()[0]:5.2f}", flush=True)
                rows.append((cell, (T, N, D, H), dtype, ours, theirs))
    for dtype in peaks:
        peaks[dtype] = max(peaks[dtype], matmul_peak_gflops(dtype, args.repeats, clock))
    print()
    for dtype, peak in peaks.items():
        print(f"peak ({np.dtype(dtype).name}, numpy 2048 x 2048 matmul, best run): {peak:.1f} GFLOP/s")
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")
    print()
    print(f"{'cell':5s} {'T,N,D,H':>16s} {'dtype':8s} {'GFLOP':>7s} {'course GFLOP/s':>15s} "
          f"{'torch GFLOP/s':>14s} {'course %peak':>13s} {'torch %peak':>12s}")
    for cell, (T, N, D, H), dtype, ours, theirs in rows:
        gflop = 6 * T * N * GATES[cell] * H * (D + H) / 1e9
        peak = peaks[dtype]
        print(f"{cell:5s} {f'{T},{N},{D},{H}':>16s} {np.dtype(dtype).name:8s} {gflop:7.2f} "
              f"{gflop / ours:15.1f} {gflop / theirs:14.1f} "
              f"{100 * gflop / ours / peak:12.0f}% {100 * gflop / theirs / peak:11.0f}%")


if __name__ == "__main__":
    main()
