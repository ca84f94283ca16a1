"""The learning rates of notebook 07's language models: held-out perplexity after training.

    python benchmarks/lm_learning_rates.py [--steps 420] [--seeds 7 8 9] [--rates 0.003 0.005 0.01 0.02 0.03]

Trains the notebook's two models of the standard library's source (embedding 32, then an
LSTM of 128 units or a vanilla RNN of 250, the same number of parameters) exactly as the
notebook does: float32, ``language_model.train`` with its windows (64 of 32 characters),
clipping at 5 and Adam at a constant rate, the parameters drawn with seed s and the windows
with seed s + 1. Seed s is therefore the notebook's own run under RNN_COURSE_SEED = s - 7
(its SEED is 7). Prints the held-out perplexity of every run as it ends, the mean and spread
over the seeds, then the dictionary that ``language_model.LEARNING_RATE_SWEEP`` holds (one
value per seed and rate). The stored sweep has the seeds 7, 8 and 9, the LSTM at the rates
0.003 to 0.03 and the RNN at 0.003, 0.005, 0.007 and 0.01, from runs of one model and some
rates each (``--models RNN --rates 0.007``) merged by hand. Takes tens of minutes per model (one BLAS
thread: set OPENBLAS_NUM_THREADS=1).
"""
import argparse
import time

import numpy as np

from rnn_helpers.lessons import language_model
from rnn_helpers.tasks.corpus import stdlib_corpus
from rnn_helpers.tasks.text import CharVocab

MODELS = {"LSTM": ("lstm", 128), "RNN": ("rnn", 250)}


def held_out_perplexity(cell, hidden, lr, steps, seed, train_ids, valid_ids, vocab_size):
    params = language_model.init_params(vocab_size, 32, hidden, np.random.default_rng(seed), cell=cell,
                                        dtype=np.float32)
    language_model.train(params, train_ids, steps, np.random.default_rng(seed + 1), lr,
                         progress=False)
    log_probs, _ = language_model.held_out_log_probs(params, valid_ids)
    return float(np.exp(-log_probs.mean()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=420)
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8, 9])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.003, 0.005, 0.01, 0.02, 0.03])
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=sorted(MODELS))
    args = parser.parse_args()
    train_text, valid_text = stdlib_corpus()
    vocab = CharVocab(train_text + valid_text)
    train_ids, valid_ids = vocab.encode(train_text), vocab.encode(valid_text)
    print(f"{'model':6s} {'lr':>7s} " + " ".join(f"{f'seed {s}':>8s}" for s in args.seeds) + f" {'mean':>7s} {'range':>6s} {'s':>6s}")
    sweep = {}
    for name in args.models:
        cell, hidden = MODELS[name]
        for lr in args.rates:
            start = time.perf_counter()
            values = []
            for seed in args.seeds:
                values.append(held_out_perplexity(cell, hidden, lr, args.steps, seed, train_ids, valid_ids, vocab.size))
                print(f"  {name} lr {lr:g} seed {seed}: {values[-1]:.3f}", flush=True)
                sweep.setdefault(name, {}).setdefault(seed, []).append(round(values[-1], 3))
            print(f"{name:6s} {lr:7.3f} " + " ".join(f"{v:8.3f}" for v in values)
                  + f" {np.mean(values):7.3f} {np.ptp(values):6.3f} {time.perf_counter() - start:6.0f}", flush=True)
    print("\nlanguage_model.LEARNING_RATE_SWEEP:")
    print({"steps": args.steps, "seeds": tuple(args.seeds), "rates": {name: tuple(args.rates) for name in args.models},
           "perplexity": {name: {seed: tuple(v) for seed, v in by_seed.items()} for name, by_seed in sweep.items()}})


if __name__ == "__main__":
    main()
