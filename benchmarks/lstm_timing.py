"""Time lstm_forward + lstm_backward on one batch (median of several runs).

    python benchmarks/lstm_timing.py [--repeats 7] [--profile]

Sizes: T = 100 steps, batch N = 32, input D = 32, hidden H = 128; float32 and float64.
Set OPENBLAS_NUM_THREADS=1 to measure one core. Times are this process's CPU time
(``time.process_time``): with one thread that is the wall time of a quiet machine, and on a
shared machine it leaves out the time spent waiting for a core.

--profile splits the time into the matmuls inside the time loop (h @ W.T forward,
da @ W backward), the matmuls outside it (input projection, dx, dU, dW), the fixed cost
of the numpy calls the loops make (measured on 1 x 1 arrays), and the elementwise work
that remains; where PyTorch is installed, it prints torch.nn.LSTM's forward + backward on the
same shapes (one thread) beside the course's matmuls alone.
"""
import argparse
import time

import numpy as np

from rnn_helpers.lstm import lstm_backward, lstm_forward

T, N, D, H = 100, 32, 32, 128
#: numpy ufunc calls per step of the time loops (matmul included), counted in rnn_helpers/lstm.py
#: (the backward without dcs).
CALLS_PER_STEP = {"forward": 12, "backward": 20}


def make_inputs(dtype, rng):
    x = rng.normal(size=(T, N, D)).astype(dtype)
    h0 = np.zeros((N, H), dtype=dtype)
    U = rng.normal(scale=D ** -0.5, size=(4 * H, D)).astype(dtype)
    W = rng.normal(scale=H ** -0.5, size=(4 * H, H)).astype(dtype)
    b = np.zeros(4 * H, dtype=dtype)
    dhs = rng.normal(size=(T, N, H)).astype(dtype)
    return x, h0, U, W, b, dhs


def median_ms(run, repeats):
    run()                                            # warm-up
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return 1e3 * float(np.median(times))


def profile(dtype, rng, repeats):
    x, h0, U, W, b, dhs = make_inputs(dtype, rng)
    cache = lstm_forward(x, h0, h0, U, W, b)[2]
    forward = median_ms(lambda: lstm_forward(x, h0, h0, U, W, b), repeats)
    backward = median_ms(lambda: lstm_backward(dhs, cache), repeats)
    h, gates = np.ones((N, H), dtype), np.ones((N, 4 * H), dtype)
    W_T = np.ascontiguousarray(W.T)
    flat_x, flat_da = x.reshape(T * N, D), np.ones((T * N, 4 * H), dtype)
    flat_h = np.ones((T * N, H), dtype)
    loop_fwd = median_ms(lambda: [np.matmul(h, W_T, out=gates) for _ in range(T)], repeats)
    loop_bwd = median_ms(lambda: [np.matmul(gates, W, out=h) for _ in range(T)], repeats)
    outside_fwd = median_ms(lambda: flat_x @ U.T, repeats)
    outside_bwd = median_ms(lambda: (flat_da @ U, flat_da.T @ flat_x, flat_da.T @ flat_h), repeats)
    tiny = np.ones((1, 1), dtype)
    per_call = median_ms(lambda: [np.multiply(tiny, tiny, out=tiny) for _ in range(1000)], repeats) / 1000
    print(f"  {np.dtype(dtype).name}: forward {forward:.1f} ms, backward {backward:.1f} ms")
    for name, total, loop, outside in [("forward", forward, loop_fwd, outside_fwd),
                                       ("backward", backward, loop_bwd, outside_bwd)]:
        overhead = T * CALLS_PER_STEP[name] * per_call
        rest = total - loop - outside - overhead
        print(f"    {name:8s} matmul in the loop {loop:5.1f} ms ({loop / total:4.0%})  "
              f"matmul outside {outside:5.1f} ms ({outside / total:4.0%})  "
              f"call overhead {overhead:5.1f} ms ({overhead / total:4.0%})  "
              f"elementwise and the rest {rest:5.1f} ms ({rest / total:4.0%})")
    matmuls = loop_fwd + outside_fwd + loop_bwd + outside_bwd
    print(f"    all matmuls {matmuls:.1f} ms of {forward + backward:.1f} ms")
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)
    layer = torch.nn.LSTM(D, H, dtype=torch.float32 if dtype == np.float32 else torch.float64)
    xt, dhst = torch.from_numpy(x).requires_grad_(), torch.from_numpy(dhs)
    state = (torch.from_numpy(h0[None]).requires_grad_(), torch.from_numpy(h0[None].copy()).requires_grad_())

    def torch_run():
        layer.zero_grad()
        layer(xt, state)[0].backward(dhst)

    print(f"    torch.nn.LSTM forward + backward {median_ms(torch_run, repeats):.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="split the time by kind of work")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"lstm_forward + lstm_backward, T={T}, N={N}, D={D}, H={H}")
    for dtype in (np.float32, np.float64):
        x, h0, U, W, b, dhs = make_inputs(dtype, rng)
        run = lambda: lstm_backward(dhs, lstm_forward(x, h0, h0, U, W, b)[2])  # noqa: E731
        print(f"  {np.dtype(dtype).name:8s} median {median_ms(run, args.repeats):7.1f} ms ({args.repeats} runs)")
    if args.profile:
        print("where the time goes:")
        for dtype in (np.float32, np.float64):
            profile(dtype, rng, args.repeats)


if __name__ == "__main__":
    main()
