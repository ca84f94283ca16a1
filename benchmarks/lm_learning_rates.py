"""The learning rates of notebook 07's language models: held-out perplexity after training.

    python benchmarks/lm_learning_rates.py [--steps 420] [--seeds 7 8] [--rates 0.003 0.005 0.01 0.02 0.03]

Trains the notebook's two models of the standard library's source (embedding 32, then an
LSTM of 128 units or a vanilla RNN of 250, the same number of parameters) with the
notebook's windows and Adam, once per learning rate and seed, and prints the held-out
perplexity of each and the mean over the seeds, then the dictionary that
``language_model.LEARNING_RATE_SWEEP`` holds (per seed; the notebook uses the best mean rate
of each model). Takes tens of minutes (one BLAS thread: set OPENBLAS_NUM_THREADS=1).
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
    parser.add_argument("--seeds", type=int, nargs="+", default=[7, 8])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.003, 0.005, 0.01, 0.02, 0.03])
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=sorted(MODELS))
    args = parser.parse_args()
    train_text, valid_text = stdlib_corpus()
    vocab = CharVocab(train_text + valid_text)
    train_ids, valid_ids = vocab.encode(train_text), vocab.encode(valid_text)
    print(f"{'model':6s} {'lr':>7s} " + " ".join(f"{f'seed {s}':>8s}" for s in args.seeds) + f" {'mean':>7s} {'s':>6s}")
    sweep = {}
    for name in args.models:
        cell, hidden = MODELS[name]
        for lr in args.rates:
            start = time.perf_counter()
            values = [held_out_perplexity(cell, hidden, lr, args.steps, seed, train_ids, valid_ids, vocab.size)
                      for seed in args.seeds]
            for seed, value in zip(args.seeds, values):
                sweep.setdefault(name, {}).setdefault(seed, []).append(round(value, 3))
            print(f"{name:6s} {lr:7.3f} " + " ".join(f"{v:8.3f}" for v in values)
                  + f" {np.mean(values):7.3f} {time.perf_counter() - start:6.0f}", flush=True)
    print("\nlanguage_model.LEARNING_RATE_SWEEP:")
    print({"steps": args.steps, "seeds": tuple(args.seeds), "rates": tuple(args.rates),
           "perplexity": {name: {seed: tuple(v) for seed, v in by_seed.items()} for name, by_seed in sweep.items()}})


if __name__ == "__main__":
    main()
