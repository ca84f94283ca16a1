"""Every solution notebook executes top to bottom in full, without errors and without stderr,
so that every claim it checks is checked.

These are long runs: ``make test-slow`` (CI) runs each notebook with the default seed and
again under each of three other values of ``RNN_COURSE_SEED`` (1, 2 and 3): every claim a
notebook checks must hold for any seed (rnn_helpers/seeding.py).
``make test`` runs every solution notebook top to bottom too, as the autograder does (its
experiments shortened): the grading pipeline's full-marks test.
"""
import os
import time

import pytest

from conftest import ASSIGNMENTS, read_notebook, source_notebook
from rnn_helpers import precomputed
from rnn_helpers.instructor.execution import SteadyNotebookClient
from test_precomputed import unshipped_results

#: The other values of RNN_COURSE_SEED every notebook runs under.
OTHER_SEEDS = (1, 2, 3)


def execute_solution(name, course_seed=None, record=None):
    """Execute a solution notebook as a student's Run All would; returns (nb, seconds). record: a
    file that gets the key of every precomputed result the run asks for."""
    path = source_notebook(name)
    nb = read_notebook(path)
    env = {k: v for k, v in os.environ.items() if k not in ("NBGRADER_EXECUTION", "RNN_COURSE_SEED")}
    env["RNN_COURSE_STRICT_TIMINGS"] = "1"      # a timing claim that fails, fails the test
    if course_seed is not None:
        env["RNN_COURSE_SEED"] = str(course_seed)
    if record is not None:
        env[precomputed.RECORD] = str(record)
    start = time.perf_counter()
    SteadyNotebookClient(nb, timeout=900, kernel_name="python3",
                         resources={"metadata": {"path": str(path.parent)}}).execute(env=env)
    return nb, time.perf_counter() - start


def problems_in(nb):
    problems = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                problems.append(f"cell {index}: {output.ename}: {output.evalue}")
            elif output.output_type == "stream" and output.name == "stderr":
                problems.append(f"cell {index} wrote to stderr: {output.text[:300]!r}")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_notebook_executes_cleanly(name, tmp_path):
    nb, elapsed = execute_solution(name, record=tmp_path / "asked")
    problems = problems_in(nb) + [f"the course ships no precomputed result {key!r}: run python -m rnn_helpers.precomputed "
                                  f"{name}" for key in unshipped_results(name, tmp_path / "asked")]
    assert not problems, "\n".join(problems)
    print(f"{name}: executed in {elapsed:.1f} s")


@pytest.mark.slow
@pytest.mark.parametrize("course_seed", OTHER_SEEDS)
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_claims_hold_under_other_seeds(name, course_seed):
    nb, elapsed = execute_solution(name, course_seed)
    problems = problems_in(nb)
    assert not problems, f"RNN_COURSE_SEED={course_seed}:\n" + "\n".join(problems)
    print(f"{name} with RNN_COURSE_SEED={course_seed}: executed in {elapsed:.1f} s")
