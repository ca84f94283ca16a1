"""The seed knob: RNN_COURSE_SEED shifts every random draw of every notebook."""
import re

import numpy as np
import pytest

from conftest import ASSIGNMENTS, read_notebook, source_notebook
from rnn_helpers import seeding


def test_default_offset_is_zero(monkeypatch):
    monkeypatch.delenv("RNN_COURSE_SEED", raising=False)
    assert seeding.course_seed(5) == 5
    assert seeding.course_rng(5).integers(1 << 30) == np.random.default_rng(5).integers(1 << 30)


def test_offset_shifts_every_seed(monkeypatch):
    monkeypatch.setenv("RNN_COURSE_SEED", "3")
    assert seeding.course_seed(5) == 8
    assert seeding.course_rng(5).normal() == np.random.default_rng(8).normal()


@pytest.mark.parametrize("value", ["x", "-1", "1.5"])
def test_bad_offset_is_named(monkeypatch, value):
    monkeypatch.setenv("RNN_COURSE_SEED", value)
    with pytest.raises(ValueError, match="RNN_COURSE_SEED must be a non-negative integer"):
        seeding.course_seed(0)


@pytest.mark.parametrize("seed", [-1, 1.0, True, "3"])
def test_bad_seed_is_named(seed):
    with pytest.raises(ValueError, match="course_seed: seed must be a non-negative int"):
        seeding.course_seed(seed)


#: Random draws that bypass the knob. Graded test cells are exempt: their seeds are fixed
#: so that grading never depends on RNN_COURSE_SEED.
BYPASSES = re.compile(r"np\.random\.(default_rng|seed|RandomState|rand|randn|normal|uniform|choice|"
                      r"permutation|shuffle|integers|random)\s*\(|torch\.manual_seed\s*\(|"
                      r"\bseed\s*=\s*\d")


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_notebook_draws_only_through_the_seed_knob(name):
    offenders = []
    for index, cell in enumerate(read_notebook(source_notebook(name)).cells):
        grading = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or (grading.get("grade") and not grading.get("solution")):
            continue
        for line in cell.source.splitlines():
            if BYPASSES.search(line.split("#")[0]):
                offenders.append(f"cell {index}: {line.strip()}")
    assert not offenders, ("draw through rnn_helpers.seeding (course_rng, course_seed, seed_torch) "
                           "so that RNN_COURSE_SEED shifts it:\n" + "\n".join(offenders))
