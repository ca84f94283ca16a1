"""Resource limits of a graded kernel: what a submission may use, and how it is enforced.

Set in ``nbgrader_config.py`` (defaults shown)::

    c.GradingLimits.memory_mb = 2048        # memory of the kernel (each process, and in total with a cgroup)
    c.GradingLimits.processes = 256         # processes and threads inside the sandbox
    c.GradingLimits.disk_mb = 200           # scratch space: the working folder and /tmp (plus /dev/shm, 64 MB)
    c.GradingLimits.output_cell_kb = 1024   # outputs kept per cell
    c.GradingLimits.output_line_chars = 10000  # characters kept per output line

How they apply (``enforcement()`` says which, and the grading log repeats it):

* **cgroup v2**, where the machine has a cgroup v2 hierarchy and ``systemd-run`` can make a
  scope (``--user`` for an ordinary account, the system manager for root): the kernel's
  bubblewrap starts inside ``systemd-run --scope -p MemoryMax=... -p MemorySwapMax=0
  -p TasksMax=...``, so memory and tasks are limited for the whole sandbox together;
* **rlimits** always, set by the sandbox's start-up code inside the sandbox before the kernel
  starts: RLIMIT_DATA (memory of each process: heap and private mappings), RLIMIT_NPROC (set
  inside the sandbox's own user namespace, or for a user id of its own when grading runs as
  root, so it counts the sandbox's processes only, not the instructor's), RLIMIT_FSIZE (one
  file) and RLIMIT_CORE = 0. Without a cgroup each process may use ``memory_mb``, so a
  submission that starts many processes may use up to ``processes`` times that;
* **size-limited tmpfs** for everything the kernel can write (``sandbox``): its working
  folder and /tmp share ``disk_mb``, /dev/shm has 64 MB (or ``disk_mb`` if smaller); nothing
  the kernel writes reaches the instructor's disk.

The output caps are applied by the grader (``autograding.ResilientExecute``) while it
receives the outputs, in the graded notebook and so in the feedback.
"""
import functools
import os
import resource
import shutil
import subprocess

from traitlets import Integer
from traitlets.config import Configurable

#: /dev/shm inside the sandbox (POSIX semaphores and shared memory), at most this many MB.
SHM_MB = 64


class GradingLimits(Configurable):
    """What one graded kernel may use (configure as ``c.GradingLimits.<name>``)."""

    memory_mb = Integer(2048, help="Memory of the kernel in MB: each process (RLIMIT_DATA), and the whole "
                                   "sandbox where a cgroup applies.").tag(config=True)
    processes = Integer(256, help="Processes and threads the kernel may run at once.").tag(config=True)
    disk_mb = Integer(200, help="MB the kernel may write: its working folder and /tmp together.").tag(config=True)
    output_cell_kb = Integer(1024, help="KB of outputs kept per cell; the rest is dropped with a note."
                             ).tag(config=True)
    output_line_chars = Integer(10000, help="Characters kept per output line; longer lines are cut with a note."
                                ).tag(config=True)

    def as_dict(self):
        return {name: getattr(self, name) for name in
                ("memory_mb", "processes", "disk_mb", "output_cell_kb", "output_line_chars")}


def check(limits):
    """Raise ValueError naming the setting if ``limits`` (a dict of GradingLimits values) is unusable."""
    for name, value in limits.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"GradingLimits.{name} should be a whole number of at least 1, but got {value!r}")
    if limits["processes"] < 16:
        raise ValueError(f"GradingLimits.processes should be at least 16 (the kernel itself runs about 10 "
                         f"threads), but got {limits['processes']}")
    if limits["memory_mb"] < 256:
        raise ValueError(f"GradingLimits.memory_mb should be at least 256 (Python, numpy and the kernel need "
                         f"about 150 MB), but got {limits['memory_mb']}")


def _systemd_run(root):
    command = [shutil.which("systemd-run"), "--scope", "--quiet", "--collect"]
    return command if root else command[:1] + ["--user"] + command[1:]


@functools.lru_cache(maxsize=None)
def cgroup_support():
    """(True, how) if kernels can be put in a cgroup v2 scope here, else (False, why not)."""
    if not os.path.isfile("/sys/fs/cgroup/cgroup.controllers"):
        return False, "no cgroup v2 hierarchy (/sys/fs/cgroup/cgroup.controllers is missing)"
    if shutil.which("systemd-run") is None:
        return False, "systemd-run is not installed"
    command = _systemd_run(os.geteuid() == 0) + ["-p", "MemoryMax=256M", "-p", "TasksMax=16", "true"]
    try:
        probe = subprocess.run(command, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, f"systemd-run could not make a scope: {error}"
    if probe.returncode != 0:
        why = (probe.stderr.strip().splitlines() or [f"exit status {probe.returncode}"])[-1]
        return False, f"systemd-run could not make a scope ({why})"
    return True, f"cgroup v2 scope ({' '.join(command[:2 if os.geteuid() == 0 else 3])})"


def cgroup_prefix(limits):
    """The command that starts the sandbox in a cgroup scope with ``limits``, or [] where none can be made."""
    if not cgroup_support()[0]:
        return []
    return _systemd_run(os.geteuid() == 0) + [
        "-p", f"MemoryMax={limits['memory_mb']}M", "-p", "MemorySwapMax=0",
        "-p", f"TasksMax={limits['processes']}", "--"]


def enforcement(limits, sandboxed=True):
    """One line for the grading log: the limits and what enforces them."""
    if not sandboxed:
        return "limits: none (the kernel is not sandboxed, so no memory, process or disk limit applies)"
    cgroup, how = cgroup_support()
    memory = (f"{limits['memory_mb']} MB for the whole sandbox ({how}) and for each process (rlimit)" if cgroup
              else f"{limits['memory_mb']} MB for each process (rlimit; no cgroup here: {how})")
    return (f"limits: memory {memory}; {limits['processes']} processes; {limits['disk_mb']} MB of scratch space "
            f"(tmpfs); output {limits['output_cell_kb']} KB per cell, {limits['output_line_chars']} "
            "characters per line")


def apply_rlimits(limits):
    """Set the rlimits of this process (and so of everything it starts); called inside the sandbox."""
    memory = limits["memory_mb"] * 1024 * 1024
    for which, value in ((resource.RLIMIT_DATA, memory), (resource.RLIMIT_NPROC, limits["processes"]),
                         (resource.RLIMIT_FSIZE, limits["disk_mb"] * 1024 * 1024), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))
