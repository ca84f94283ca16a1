"""An untouched student notebook, run as a student runs it, never says that a test passed.

The student version has no solutions and no hidden tests: every exercise still raises
``NotImplementedError``. Run top to bottom with errors allowed (as *Run All* would if it did
not stop), no locked test cell may print "passed": a cell may claim success only after
something it checked passed.
"""
import os
import re

import pytest
from nbclient import NotebookClient

from conftest import ASSIGNMENTS, grade_cells, read_notebook, student_notebook

PASSED = re.compile(r"\bpassed\b", re.IGNORECASE)


def _text(output):
    if output.output_type == "stream":
        return output.text
    if output.output_type in ("execute_result", "display_data"):
        return output.get("data", {}).get("text/plain", "")
    return ""


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_untouched_student_notebook_never_says_passed(name, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")   # the short training runs
    path = student_notebook(name)
    nb = read_notebook(path)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    claims = []
    for grade_id, (cell, meta) in grade_cells(nb).items():
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        text = "".join(_text(output) for output in cell.get("outputs", []))
        if PASSED.search(text):
            claims.append(f"{grade_id}: {text.strip()[:120]!r}")
    assert not claims, f"{name}: untouched, these test cells say they passed:\n" + "\n".join(claims)
