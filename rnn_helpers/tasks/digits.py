"""Handwritten digits read row by row: a small many-to-one classification task.

The 1797 8x8 grey-scale digits that scikit-learn ships (``sklearn.datasets.load_digits``,
no download) become sequences of T = 8 time steps, one image row per step, each step a
vector of the D = 8 pixels of that row. Pixel values 0..16 are scaled to [0, 1].
"""
from typing import NamedTuple

import numpy as np

ROWS = 8            # T: one time step per image row
PIXELS = 8          # D: pixels per row
NUM_CLASSES = 10


class DigitSequences(NamedTuple):
    x_train: np.ndarray   # (8, N_train, 8) float64, time-major: x[t, n] is row t of image n
    y_train: np.ndarray   # (N_train,) int64 labels 0..9
    x_test: np.ndarray    # (8, N_test, 8)
    y_test: np.ndarray    # (N_test,)


def images_to_sequences(images):
    """(N, 8, 8) images -> (8, N, 8) time-major sequences (row t is step t)."""
    images = np.asarray(images)
    if images.ndim != 3 or images.shape[1:] != (ROWS, PIXELS):
        raise ValueError(f"images should have shape (N, {ROWS}, {PIXELS}), but got shape {images.shape}")
    return np.ascontiguousarray(images.transpose(1, 0, 2))


def sequences_to_images(x):
    """(8, N, 8) sequences -> (N, 8, 8) images, the inverse of ``images_to_sequences``."""
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[0] != ROWS or x.shape[2] != PIXELS:
        raise ValueError(f"x should have shape ({ROWS}, N, {PIXELS}), but got shape {x.shape}")
    return np.ascontiguousarray(x.transpose(1, 0, 2))


def load_digit_sequences(test_fraction=0.25, seed=0):
    """The digits as row sequences, split at random (fixed seed) into train and test.

    Returns a DigitSequences with x_* (8, N, 8) in [0, 1] and y_* (N,) int64; the same
    arguments always give the same split.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction should be between 0 and 1 (exclusive), but got {test_fraction!r}")
    from sklearn.datasets import load_digits  # imported here: only this task needs scikit-learn

    digits = load_digits()
    images = digits.images / 16.0
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(labels))
    n_test = int(round(test_fraction * len(labels)))
    test, train = order[:n_test], order[n_test:]
    return DigitSequences(images_to_sequences(images[train]), labels[train],
                          images_to_sequences(images[test]), labels[test])
