import base64

import numpy as np
import pytest

from rnn_helpers.lessons import lru_explorer
from rnn_helpers.lessons.scan_timings import first_win, growth_exponent


def test_eigenvalues_stay_inside_the_unit_disk_and_the_ring():
    nu, theta = lru_explorer.ring_init(500, 0.5, 0.95, np.random.default_rng(0))
    radius = np.abs(lru_explorer.lru_eigenvalues(nu, theta))
    assert np.all((radius >= 0.5 - 1e-12) & (radius <= 0.95 + 1e-12))
    assert np.all(np.abs(lru_explorer.lru_eigenvalues(np.linspace(-30, 5, 100), 1.0)) < 1)
    with pytest.raises(ValueError, match="r_min"):
        lru_explorer.ring_parameters(0.5, 0.5, 0.9, 0.5)


def test_horizon_and_normalised_impulse_response():
    eigenvalues = np.array([0.9, 0.99j])
    tau = lru_explorer.memory_horizon(eigenvalues)
    np.testing.assert_allclose(np.abs(eigenvalues) ** tau, np.exp(-1))
    response = lru_explorer.impulse_response(eigenvalues, 5)
    np.testing.assert_allclose(response[3], np.sqrt(1 - np.abs(eigenvalues) ** 2) * eigenvalues ** 3)


def test_the_highlighted_units_are_the_shortest_median_and_longest_horizons():
    rng = np.random.default_rng(2)
    summary = lru_explorer.ring_summary(rng.random(9), rng.random(9), 0.5, 0.99, 50)
    horizons = np.sort(summary.horizons)
    np.testing.assert_allclose(summary.horizons[summary.highlighted], horizons[[0, 4, 8]])


def test_explorer_redraws_and_shows_a_png_where_widgets_cannot_run():
    explorer = lru_explorer.LRUExplorer(H=16, seed=1, dpi=40)
    before = explorer.current.horizons.max()
    explorer.controls["r_max"].value = 0.9999
    assert explorer.current.horizons.max() > before
    png = explorer._repr_mimebundle_()["image/png"]
    assert isinstance(png, str) and base64.b64decode(png)[:4] == b"\x89PNG"


def test_timing_helpers():
    assert first_win([1, 2, 3, 4], [5, 1, 5, 1], [2, 2, 2, 2]) == 4
    assert first_win([1, 2], [5, 5], [1, 1]) is None
    assert growth_exponent([100, 200], [1.0, 4.0]) == pytest.approx(2.0)
