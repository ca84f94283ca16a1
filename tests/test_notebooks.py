"""Every solution notebook executes top to bottom, without errors and without stderr."""
import os
import time

import pytest
from nbclient import NotebookClient

from conftest import ASSIGNMENTS, read_notebook, source_notebook


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_notebook_executes_cleanly(name):
    path = source_notebook(name)
    nb = read_notebook(path)
    env_backup = os.environ.pop("NBGRADER_EXECUTION", None)
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=900, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        if env_backup is not None:
            os.environ["NBGRADER_EXECUTION"] = env_backup
    elapsed = time.perf_counter() - start
    problems = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                problems.append(f"cell {index}: {output.ename}: {output.evalue}")
            elif output.output_type == "stream" and output.name == "stderr":
                problems.append(f"cell {index} wrote to stderr: {output.text[:300]!r}")
    assert not problems, "\n".join(problems)
    print(f"{name}: executed in {elapsed:.1f} s")
