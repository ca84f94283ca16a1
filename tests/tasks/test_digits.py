"""Tests of rnn_helpers.tasks.digits: the scikit-learn digits as row-by-row sequences."""
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits

from rnn_helpers.tasks import digits


def test_shapes_dtypes_and_scaling():
    data = digits.load_digit_sequences()
    assert data.x_train.shape == (8, 1348, 8) and data.x_test.shape == (8, 449, 8)
    assert data.y_train.shape == (1348,) and data.y_test.shape == (449,)
    assert data.x_train.dtype == np.float64 and data.y_train.dtype == np.int64
    for x in (data.x_train, data.x_test):
        assert x.min() == 0.0 and x.max() == 1.0
    assert set(np.unique(data.y_train)) == set(range(10)) == set(np.unique(data.y_test))


def test_rows_are_time_steps():
    """Step t of sequence n is row t of the image, scaled by 1/16; the split covers every image once."""
    data = digits.load_digit_sequences()
    raw = load_digits()
    images = np.concatenate([digits.sequences_to_images(data.x_train), digits.sequences_to_images(data.x_test)])
    labels = np.concatenate([data.y_train, data.y_test])
    key = {img.tobytes(): [] for img in raw.images / 16.0}
    for img, label in zip(raw.images / 16.0, raw.target):
        key[img.tobytes()].append(label)
    assert len(images) == len(raw.images)
    for img, label in zip(images, labels):
        assert label in key[img.tobytes()]
    x0 = data.x_train[:, 0]
    np.testing.assert_array_equal(x0, digits.sequences_to_images(data.x_train)[0])


def test_split_is_fixed_by_the_seed():
    a = digits.load_digit_sequences(seed=0)
    b = digits.load_digit_sequences(seed=0)
    c = digits.load_digit_sequences(seed=1)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.y_test, c.y_test)


def test_test_fraction():
    data = digits.load_digit_sequences(test_fraction=0.1)
    assert data.x_test.shape[1] == 180 and data.x_train.shape[1] == 1617
    with pytest.raises(ValueError, match="test_fraction"):
        digits.load_digit_sequences(test_fraction=1.0)


def test_loading_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        digits.load_digit_sequences()


def test_image_sequence_round_trip_and_checks():
    images = np.random.default_rng(0).random((5, 8, 8))
    x = digits.images_to_sequences(images)
    assert x.shape == (8, 5, 8)
    np.testing.assert_array_equal(x[3, 2], images[2, 3])
    np.testing.assert_array_equal(digits.sequences_to_images(x), images)
    with pytest.raises(ValueError, match=r"images should have shape \(N, 8, 8\)"):
        digits.images_to_sequences(images[:, :4])
    with pytest.raises(ValueError, match=r"x should have shape \(8, N, 8\)"):
        digits.sequences_to_images(images[:, :4])
