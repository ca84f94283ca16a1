"""Run a submission's kernel in a bubblewrap sandbox while autograding (Linux).

nbgrader runs every student's code with the instructor's rights. In the sandbox the kernel
sees a read-only copy of the system, of Python and of the course's packages, and nothing of
the instructor's home, ``solutions/``, the gradebook or other students' work:

* **no network**: the sandbox has its own network namespace (``--unshare-all``), whose
  loopback is its own. The kernel talks to the grader over ZeroMQ's ``ipc`` transport: its
  sockets live in the sandbox's /tmp, and the grader reaches them through
  ``/proc/<pid>/root`` of the sandbox's first process (bubblewrap's ``--info-fd`` gives that
  pid), so no folder of the instructor's is writable from inside;
* **writes stay inside**: the submission's folder is mounted read-only at ``/submission``
  and copied into a size-limited tmpfs (``/tmp/work``, the kernel's working folder), which
  it shares with /tmp; /dev is read-only and /dev/shm small (``limits``). Nothing the kernel
  writes reaches the instructor's disk, so it cannot plant a link or a file that the
  grader would later write through or copy into feedback;
* **limits** (``limits``): rlimits set inside the sandbox, and a cgroup v2 scope where
  ``systemd-run`` can make one;
* **no capabilities and an account of its own when grading runs as root**: bubblewrap run
  by root keeps every capability by default (a kernel could then remount its read-only
  binds writable). As root the sandbox gets only the capabilities its start-up code needs
  to copy the submission and switch to an unused user id, then drops them with the id;
  otherwise ``--cap-drop ALL`` in a user namespace;
* **no start-up code from the submission**: the grader starts the sandbox from a private
  empty folder and the kernel with ``PYTHONSAFEPATH`` and without its working folder on
  ``sys.path``, so a ``rnn_helpers/`` package, ``ipykernel_launcher.py``, ``numpy.py``,
  ``sitecustomize.py`` or ``.pth`` file beside the notebook is never imported, neither by
  the grader (outside the sandbox) nor by the kernel.

``GradingKernelManager`` (``kernel_manager_class()``) starts every kernel of
``autograding.ResilientExecute`` this way; with ``isolation="none"`` it starts the same
kernel without bubblewrap (no confinement, no limits). Either way the kernel starts with the
grading guard of ``integrity`` installed, and the two pipes it needs: the guard's key in, its
signed verdicts out.

Processes: the grader runs ``python -m rnn_helpers.instructor.sandbox PLAN`` (``main``,
outside), which execs ``[systemd-run ...] bwrap ... python -m rnn_helpers.instructor.sandbox
--inside SETTINGS`` (``inside``): limits, the copy of the submission, the switch of account,
the guard, then ipykernel in the same process.
"""
import functools
import json
import os
import random
import select
import shutil
import stat
import subprocess
import sys
import tempfile
import time

from . import limits as limits_module

#: Environment variables passed into the sandbox (everything else is cleared).
_PASSED_ENV = ("NBGRADER_EXECUTION", "LANG", "LC_ALL", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "MKL_NUM_THREADS", "PYTHONPATH", "RNN_COURSE_SEED")
#: Inside the sandbox: the submission (read-only), the kernel's working folder, its sockets.
SUBMISSION = "/submission"
WORK = "/tmp/work"
KERNEL_DIR = "/tmp/.kernel"
CONNECTION = "/tmp/.kernel-connection.json"
#: When grading runs as root, each kernel runs as a user id drawn from this range: ids that no
#: account uses (systemd leaves 1879048192-2147352575 unassigned), one per kernel, so that
#: RLIMIT_NPROC counts that kernel's processes only.
SANDBOX_UIDS = (1_900_000_000, 1_900_000_000 + 2 ** 24)
#: Capabilities the start-up code keeps when bubblewrap runs as root (dropped with the switch
#: of account, before any student code runs).
_ROOT_CAPABILITIES = ("CAP_SETUID", "CAP_SETGID", "CAP_CHOWN", "CAP_DAC_READ_SEARCH")
_SECRET_BYTES = 32
#: Largest message the grader accepts from a kernel (a larger one is dropped by ZeroMQ).
MAX_MESSAGE_BYTES = 64 * 1024 * 1024


@functools.lru_cache(maxsize=None)
def availability():
    """(True, how) if kernels can be sandboxed here (bubblewrap with its own network), else (False, why not)."""
    if not sys.platform.startswith("linux"):
        return False, f"bubblewrap needs Linux, this is {sys.platform}"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False, "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    version = subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout.strip() or bwrap
    # Every kind of option the kernel's command uses, --size (bubblewrap 0.8) included.
    probe = subprocess.run([bwrap, "--die-with-parent", "--new-session", *_namespaces(), "--clearenv",
                            "--ro-bind", "/", "/", "--dev", "/dev", "--perms", "1777", "--size", str(2 ** 20),
                            "--tmpfs", "/tmp", "--remount-ro", "/dev", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        why = probe.stderr.strip() or f"exit status {probe.returncode}"
        if "Unknown option" in why:
            return False, (f"{version} is too old for the grading sandbox ({why}): it needs bubblewrap 0.8 or "
                           "newer (--size limits its scratch space)")
        return False, f"{version} cannot create a sandbox with its own network here: {why}"
    return True, f"{version} ({bwrap}), no network"


def _namespaces():
    """bwrap's namespace and capability options for this account (see the module's docstring)."""
    if os.geteuid() == 0:
        capabilities = []
        for name in _ROOT_CAPABILITIES:
            capabilities += ["--cap-add", name]
        return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                "--cap-drop", "ALL", *capabilities]
    return ["--unshare-all", "--cap-drop", "ALL"]


def _system_binds():
    """Read-only binds of the system folders (merged-/usr symlinks are recreated)."""
    args = []
    for path in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc"):
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def _course_folder(path):
    """Is ``path`` a course folder (it holds an nbgrader_config.py, so solutions/ or a gradebook)?"""
    return os.path.isfile(os.path.join(path, "nbgrader_config.py"))


def _import_path():
    """The folders and files Python imports from here: the interpreter, its environment,
    the course's package and every entry of ``sys.path`` (PYTHONPATH, editable installs,
    ``.pth`` files such as conda develop's). A course folder on the path is replaced by the
    Python packages and modules inside it, so its solutions/ and gradebook stay hidden."""
    import rnn_helpers

    paths = {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable)),
             os.path.dirname(os.path.abspath(rnn_helpers.__file__))}
    for entry in sys.path:
        entry = os.path.abspath(entry or os.curdir)
        if not os.path.exists(entry) or entry == os.getcwd():
            continue
        if os.path.isdir(entry) and _course_folder(entry):
            paths.update(os.path.join(entry, name) for name in os.listdir(entry)
                         if os.path.isfile(os.path.join(entry, name, "__init__.py"))
                         or (name.endswith(".py") and name != "nbgrader_config.py"))
        else:
            paths.add(entry)
    return sorted(paths)


def _python_binds():
    """Read-only binds of everything on the import path that the system binds do not cover.

    Their parent folders are made first, with mode 0755: bubblewrap would make them 0700,
    which the unprivileged account of a kernel graded by root could not cross."""
    args, made = [], {"/", "/tmp"}
    for path in _import_path():
        if path.startswith(("/usr/", "/bin", "/lib", "/etc")) or path == "/":
            continue
        parents = []
        parent = os.path.dirname(path)
        while parent not in made:
            parents.append(parent)
            made.add(parent)
            parent = os.path.dirname(parent)
        for parent in reversed(parents):
            args += ["--perms", "0755", "--dir", parent]
        args += ["--ro-bind", path, path]
        made.add(path)
    return args


def _environment():
    env = {"HOME": "/tmp/home", "MPLCONFIGDIR": "/tmp/matplotlib", "PYTHONNOUSERSITE": "1", "PYTHONSAFEPATH": "1",
           "PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin"}
    env.update({k: os.environ[k] for k in _PASSED_ENV if k in os.environ})
    return env


def bwrap_command(workdir, connection_file, settings, info_fd=None, limits=None, prefix=()):
    """The command line that starts the kernel's start-up code (``inside``) in the sandbox.

    ``workdir``: the submission's folder (bound read-only); ``connection_file``: the kernel's
    connection file (bound read-only); ``settings``: what ``inside`` needs (a dict);
    ``info_fd``: the descriptor on which bubblewrap writes the sandbox's pid; ``limits``: a
    dict of ``limits.GradingLimits`` values (default: the defaults); ``prefix``: the command
    that starts bubblewrap in a cgroup scope (``limits.cgroup_prefix``), if any.
    """
    limits = limits or limits_module.GradingLimits().as_dict()
    disk = limits["disk_mb"] * 1024 * 1024
    shm = min(limits_module.SHM_MB, limits["disk_mb"]) * 1024 * 1024
    command = [*prefix, shutil.which("bwrap"), "--die-with-parent", "--new-session", *_namespaces(), "--clearenv"]
    for key, value in _environment().items():
        command += ["--setenv", key, value]
    if info_fd is not None:
        command += ["--info-fd", str(info_fd)]
    command += _system_binds()
    if os.path.isfile("/proc/cpuinfo"):   # what libraries read to size their thread pools (no /proc else)
        command += ["--ro-bind", "/proc/cpuinfo", "/proc/cpuinfo"]
    command += ["--dev", "/dev", "--perms", "1777", "--size", str(shm), "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
                "--perms", "1777", "--size", str(disk), "--tmpfs", "/tmp"]
    # After the private /tmp, so that a course or an environment that lives under /tmp is not hidden by it.
    command += _python_binds()
    command += ["--ro-bind", os.path.abspath(connection_file), CONNECTION,
                "--ro-bind", os.path.abspath(workdir), SUBMISSION, "--chdir", "/",
                sys.executable, "-m", "rnn_helpers.instructor.sandbox", "--inside", json.dumps(settings)]
    return command


# -- the grader's side ------------------------------------------------------------------------------

def kernel_manager_class():
    """The kernel manager of graded kernels (``GradingKernelManager``), defined on first use."""
    return _kernel_manager_class()


@functools.lru_cache(maxsize=None)
def _kernel_manager_class():
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import Bool, Dict

    class GradingKernelManager(AsyncKernelManager):
        """Starts the kernel through ``main`` (in the sandbox unless ``sandboxed`` is False),
        with the grading guard's key and verdict pipes."""

        sandboxed = Bool(True, help="Start the kernel in the bubblewrap sandbox.")
        limits = Dict(help="limits.GradingLimits values for this kernel.")
        cache_ports = False

        @property
        def kernel_spec(self):
            return KernelSpec(argv=[sys.executable, "-m", "rnn_helpers.instructor.sandbox", "{plan}"],
                              display_name="Python 3 (graded)", language="python", interrupt_mode="message",
                              metadata={"debugger": False})

        async def _async_pre_start_kernel(self, **kw):
            workdir = os.path.abspath(kw.get("cwd") or os.getcwd())
            self._private = tempfile.mkdtemp(prefix="rnn-kernel-")   # mode 0700, never seen by the kernel
            self.connection_file = os.path.join(self._private, "connection.json")
            self.transport = "ipc"
            self.ip = os.path.join(KERNEL_DIR, "k") if self.sandboxed else os.path.join(self._private, "k")
            self.key = os.urandom(_SECRET_BYTES)
            key_read, key_write = os.pipe()
            os.write(key_write, self.key)
            os.close(key_write)
            self._verdicts, verdict_write = os.pipe()
            os.set_blocking(self._verdicts, False)
            self._verdict_buffer = b""
            child_fds = [key_read, verdict_write]
            self._info = None
            if self.sandboxed:
                self._info, info_write = os.pipe()
                child_fds.append(info_write)
            kernel_limits = self.limits or limits_module.GradingLimits().as_dict()
            plan = {"sandboxed": self.sandboxed, "workdir": workdir, "connection_file": self.connection_file,
                    "limits": kernel_limits,
                    "prefix": limits_module.cgroup_prefix(kernel_limits) if self.sandboxed else [],
                    "key_fd": key_read, "verdict_fd": verdict_write,
                    "info_fd": child_fds[2] if self.sandboxed else None,
                    "extra_arguments": list(kw.get("extra_arguments", []))}
            plan_file = os.path.join(self._private, "plan.json")
            with open(plan_file, "w", encoding="utf-8") as f:
                json.dump(plan, f)
            kw["extra_arguments"] = []
            self._child_fds = child_fds
            kernel_cmd, kw = await super()._async_pre_start_kernel(plan=plan_file, **kw)
            kw.pop("plan", None)
            # Started from the private folder: nothing of the submission can shadow the
            # modules of this command (python -m puts its working folder on sys.path).
            kw["cwd"] = self._private
            kw["pass_fds"] = tuple(child_fds)
            return kernel_cmd, kw

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            try:
                await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                for fd in self._child_fds:
                    os.close(fd)
                self._child_fds = []
            if self.sandboxed:
                pid = _read_child_pid(self._info, timeout=60)
                os.close(self._info)
                self._info = None
                # The kernel binds its sockets in the sandbox's /tmp: reach them through its root.
                self.ip = f"/proc/{pid}/root{KERNEL_DIR}/k"

        def client(self, **kwargs):
            """A client whose sockets refuse a message over MAX_MESSAGE_BYTES (the kernel's
            memory limit would still allow one of gigabytes, held in the grader's memory)."""
            import zmq.asyncio

            context = zmq.asyncio.Context()
            context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
            kc = super().client(context=context, **kwargs)
            kc._created_context = True   # the client destroys it when it is done, as with its own
            return kc

        def read_verdicts(self):
            """Lines the grading guard wrote since the last call (its signed verdicts)."""
            while True:
                try:
                    chunk = os.read(self._verdicts, 65536)
                except BlockingIOError:
                    break
                if not chunk:
                    break
                self._verdict_buffer = (self._verdict_buffer + chunk)[-1_000_000:]
            *lines, self._verdict_buffer = self._verdict_buffer.split(b"\n")
            return [line.decode("ascii", "replace") for line in lines]

        async def _async_cleanup_resources(self, restart=False):
            await super()._async_cleanup_resources(restart=restart)
            for fd in (getattr(self, "_verdicts", None), getattr(self, "_info", None)):
                if fd is not None:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            self._verdicts = self._info = None
            if getattr(self, "_private", None):
                shutil.rmtree(self._private, ignore_errors=True)

        cleanup_resources = _async_cleanup_resources

    return GradingKernelManager


def _read_child_pid(fd, timeout):
    """The sandbox's pid (as this process sees it) from bubblewrap's --info-fd output."""
    data, deadline = b"", time.monotonic() + timeout
    while b"}" not in data:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 4096) if ready else b""
        if not chunk:
            raise RuntimeError("the grading sandbox did not start (bubblewrap gave no pid; its error, if any, "
                               "is in the grading log above)")
        data += chunk
    return int(json.loads(data[:data.index(b"}") + 1])["child-pid"])


def main(argv=None):
    """The grader's side of the start: build the sandbox's command from the plan and exec it."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--inside":
        return inside(json.loads(argv[1]))
    if len(argv) != 1:
        raise SystemExit("usage: python -m rnn_helpers.instructor.sandbox PLAN.json")
    with open(argv[0], encoding="utf-8") as f:
        plan = json.load(f)
    settings = {"limits": plan["limits"], "key_fd": plan["key_fd"], "verdict_fd": plan["verdict_fd"],
                "extra_arguments": plan["extra_arguments"]}
    # The kernel's own stdout carries only its start-up banner (cell outputs go through its
    # channels): keep it out of the grading log.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    if not plan["sandboxed"]:
        settings.update(sandboxed=False, workdir=plan["workdir"], connection_file=plan["connection_file"])
        os.execv(sys.executable, [sys.executable, "-m", "rnn_helpers.instructor.sandbox", "--inside",
                                  json.dumps(settings)])
    ok, why = availability()
    if not ok:
        raise SystemExit(f"cannot start a sandboxed kernel: {why}")
    settings.update(sandboxed=True, workdir=WORK, connection_file=CONNECTION,
                    uid=random.SystemRandom().randrange(*SANDBOX_UIDS) if os.geteuid() == 0 else None)
    command = bwrap_command(plan["workdir"], plan["connection_file"], settings, plan["info_fd"], plan["limits"],
                            plan["prefix"])
    os.execv(command[0], command)


# -- inside the sandbox ------------------------------------------------------------------------------

def inside(settings):
    """Start-up code of the kernel: limits, working folder, account, guard, then ipykernel."""
    cwd = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", cwd)]
    key = _read_all(settings["key_fd"])
    if settings["sandboxed"]:
        limits_module.apply_rlimits(settings["limits"])
        uid = settings.get("uid")
        for folder in ("/tmp/home", KERNEL_DIR):
            os.makedirs(folder, mode=0o700, exist_ok=True)
        shutil.copyfile(CONNECTION, os.path.join(KERNEL_DIR, "connection.json"))
        skipped = copy_submission(SUBMISSION, WORK)
        if uid is not None:
            _become(uid, ["/tmp/home", KERNEL_DIR, WORK])
        if skipped:
            print(f"grading sandbox: not copied into the working folder: {', '.join(map(repr, skipped[:20]))}"
                  + (f" and {len(skipped) - 20} more" if len(skipped) > 20 else ""), file=sys.stderr)
        connection = os.path.join(KERNEL_DIR, "connection.json")
    else:
        connection = settings["connection_file"]
    os.chdir(settings["workdir"])
    from . import integrity

    integrity.install(key, settings["verdict_fd"])
    del key
    import runpy

    if settings["sandboxed"]:
        from ipykernel.kernelbase import Kernel

        # There is no /proc in the sandbox (so no /proc/self/mem): ipykernel cannot list its
        # children at shutdown, and need not, since the sandbox's pid namespace ends them all.
        Kernel._process_children = lambda kernel: []
    sys.argv = ["ipykernel_launcher", "-f", connection, "--IPKernelApp.ignore_cwd=True",
                *settings["extra_arguments"]]
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)


def _read_all(fd):
    data = b""
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    os.close(fd)
    return data


def copy_submission(source, target):
    """Copy the regular files and folders under ``source`` into ``target`` (links, FIFOs, devices
    and sockets are skipped, never followed); returns the relative paths skipped. A copy that
    runs out of scratch space stops there: the kernel starts with what fitted."""
    skipped = []
    os.makedirs(target, exist_ok=True)
    for folder, dirs, files in os.walk(source, followlinks=False):
        relative = os.path.relpath(folder, source)
        for name in list(dirs):
            if os.path.islink(os.path.join(folder, name)):
                dirs.remove(name)
                skipped.append(os.path.normpath(os.path.join(relative, name)))
            else:
                os.makedirs(os.path.join(target, relative, name), exist_ok=True)
        for name in files:
            path = os.path.join(folder, name)
            if not stat.S_ISREG(os.lstat(path).st_mode):
                skipped.append(os.path.normpath(os.path.join(relative, name)))
                continue
            try:
                with open(path, "rb", opener=lambda p, flags: os.open(p, flags | os.O_NOFOLLOW)) as src, \
                        open(os.path.join(target, relative, name), "wb") as dst:
                    shutil.copyfileobj(src, dst)
            except OSError as error:
                skipped.append(f"{os.path.normpath(os.path.join(relative, name))} ({error.strerror})")
                if error.errno in (28, 27):  # ENOSPC, EFBIG: the scratch space is full
                    return skipped
    return skipped


def _become(uid, folders):
    """Give ``folders`` to ``uid`` and switch to it for good (grading as root); checks that the
    switch cannot be undone."""
    for top in folders:
        for folder, dirs, files in os.walk(top):
            os.chown(folder, uid, uid)
            for name in files:
                os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    try:
        os.setuid(0)
    except PermissionError:
        return
    raise SystemExit("grading sandbox: the kernel could switch back to root; refusing to run it")


if __name__ == "__main__":
    main()
