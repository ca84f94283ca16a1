"""Executing notebooks without the widget-cell stall: the one notebook client of the course.

nbclient waits for a cell's reply with one long ``get_msg(timeout=...)`` on the kernel's
shell channel. Under CPU load that wait can miss its wake-up (nbclient issue #312): the
kernel has answered, both sides sit idle, and the cell takes exactly its timeout. It hit the
widget cells (``widgets.interact``) of notebooks 03, 04 and 09 in up to 4 of 6 runs on a
busy machine. ``SlicedPolling`` waits in slices of ``POLL_SLICE`` seconds instead, until the
same deadline: a missed wake-up then costs at most one slice.

Everything in the course that executes notebooks uses it: the grader's execute preprocessor
(``autograding.ResilientExecute``), the test suite, the site build and the benchmarks
(``SteadyNotebookClient``). ``benchmarks/widget_stall.py`` runs the widget notebooks under
load many times and counts stalls.
"""
from queue import Empty
from time import monotonic

from jupyter_core.utils import ensure_async, run_sync
from nbclient import NotebookClient

#: Longest single wait on a kernel channel, in seconds.
POLL_SLICE = 1.0


def _sliced(get_msg):
    """``get_msg(timeout)`` of a kernel channel, rewritten as waits of at most POLL_SLICE."""
    async def get_msg_in_slices(timeout=None):
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            left = POLL_SLICE if deadline is None else max(0.0, deadline - monotonic())
            try:
                return await ensure_async(get_msg(timeout=min(POLL_SLICE, left)))
            except Empty:
                if deadline is not None and monotonic() >= deadline:
                    raise
    return get_msg_in_slices


class SlicedPolling:
    """Mixin for ``NotebookClient`` and its subclasses: channel waits in short slices."""

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        for channel in (kc.shell_channel, kc.iopub_channel):
            channel.get_msg = _sliced(channel.get_msg)
        return kc

    # nbclient's synchronous wrapper wraps its own coroutine, not an override: without this
    # line nbconvert's ExecutePreprocessor (so nbgrader's Execute and the grader's
    # ResilientExecute, which start the kernel through setup_kernel) would poll unsliced.
    start_new_kernel_client = run_sync(async_start_new_kernel_client)


class SteadyNotebookClient(SlicedPolling, NotebookClient):
    """``nbclient.NotebookClient`` whose cells never stall on a missed wake-up."""
