"""The widget-cell stall (nbclient's missed wake-up, rnn_helpers.instructor.execution) does not
happen where the course executes notebooks: every client polls its channels in slices, the
grader's preprocessor included, and notebook 04 runs ten times under CPU load without a
stalled cell (benchmarks/widget_stall.py, which runs it 50 times by default)."""
import io
import sys

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from conftest import ROOT
from rnn_helpers.instructor.autograding import ResilientExecute
from rnn_helpers.instructor.execution import SteadyNotebookClient

sys.path.insert(0, str(ROOT / "benchmarks"))
import widget_stall  # noqa: E402


def channel_waits(client_class, **kwargs):
    """Names of the shell and iopub channels' get_msg while a cell of ``client_class`` runs."""
    seen = []

    class Spy(client_class):
        def _check(self):
            seen.append((self.kc.shell_channel.get_msg.__name__, self.kc.iopub_channel.get_msg.__name__))

        async def async_execute_cell(self, *args, **kwargs):
            self._check()
            return await super().async_execute_cell(*args, **kwargs)

        def execute_cell(self, *args, **kwargs):
            self._check()
            return super().execute_cell(*args, **kwargs)

    nb = new_notebook(cells=[new_code_cell("1 + 1")])
    if issubclass(client_class, ResilientExecute):
        Spy(timeout=60, isolation="none", **kwargs).preprocess(nb, {"metadata": {"path": str(ROOT)}})
    else:
        Spy(nb, timeout=60, kernel_name="python3", **kwargs).execute()
    return set(seen)


def test_every_course_client_polls_in_slices_the_graders_preprocessor_included():
    # nbconvert's ExecutePreprocessor starts its kernel through nbclient's synchronous wrapper,
    # which bypassed the override until SlicedPolling wrapped its own coroutine.
    sliced = {("get_msg_in_slices", "get_msg_in_slices")}
    assert channel_waits(SteadyNotebookClient) == sliced
    assert channel_waits(ResilientExecute) == sliced


def test_the_harness_finds_the_widget_notebooks():
    assert {"03_vanishing_gradients", "04_long_term_dependencies", "09_attention"} <= set(widget_stall.widget_notebooks())
    assert "01_sequences" not in widget_stall.widget_notebooks()


@pytest.mark.slow
def test_notebook_04_runs_ten_times_under_load_without_a_stall():
    out = io.StringIO()
    timeout = widget_stall.grader_timeout()
    stalls = widget_stall.run(["04_long_term_dependencies"], runs=10, client="grader", busy=2,
                              threshold=timeout / 2, timeout=timeout, out=out)
    assert stalls["04_long_term_dependencies"] == [{}] * 10, out.getvalue()
