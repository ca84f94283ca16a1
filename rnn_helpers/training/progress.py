"""A progress display for training loops: one line that updates in place in a notebook.

    with Progress(500, "char model") as bar:
        for step in range(500):
            ...
            bar.update(loss=loss)

In a Jupyter kernel the line is a display that is updated (a few times a second at
most); elsewhere a plain line is printed every ten seconds and at the end.
"""
import time

_WIDTH = 20


def _in_kernel():
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class Progress:
    """Progress of ``total`` steps with the latest metrics and the elapsed time."""

    def __init__(self, total, description="", enabled=True, min_interval=0.25):
        if not isinstance(total, int) or total < 0:
            raise ValueError(f"total should be a non-negative int, but got {total!r}")
        self.total, self.description, self.enabled = total, description, enabled
        self.min_interval = min_interval
        self.done, self.metrics = 0, {}
        self._start = self._last_shown = None
        self._handle = None

    def __enter__(self):
        self._start = time.perf_counter()
        self._last_shown = -float("inf")
        if self.enabled and _in_kernel():
            from IPython.display import display

            self._handle = display({"text/plain": self.line()}, raw=True, display_id=True)
        return self

    def __exit__(self, *exc_info):
        self._show(force=True)
        return False

    def update(self, n=1, **metrics):
        """Advance by ``n`` steps and record the latest values of ``metrics``."""
        self.done += n
        self.metrics.update(metrics)
        self._show()

    @property
    def elapsed(self):
        return time.perf_counter() - self._start

    def line(self):
        """The text shown: description, count, bar, metrics, elapsed time."""
        filled = _WIDTH * self.done // self.total if self.total else _WIDTH
        bar = "#" * filled + "." * (_WIDTH - filled)
        metrics = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in self.metrics.items())
        elapsed = self.elapsed if self._start is not None else 0.0
        return f"{self.description}  {self.done}/{self.total} [{bar}] {metrics}  {elapsed:.1f} s".strip()

    def _show(self, force=False):
        if not self.enabled:
            return
        now = time.perf_counter()
        if self._handle is not None:
            if force or now - self._last_shown >= self.min_interval:
                self._handle.update({"text/plain": self.line()}, raw=True)
                self._last_shown = now
        elif force or now - self._last_shown >= 10.0:
            print(self.line(), flush=True)
            self._last_shown = now
