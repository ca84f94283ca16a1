"""Run a submission's kernel in a bubblewrap sandbox while autograding (Linux).

nbgrader runs every student's code with the instructor's rights. In the sandbox the
kernel sees a read-only copy of the system, of Python and of the course's packages, a
private /tmp, and one writable folder: the submission's own folder in ``autograded/``.
It cannot see ``solutions/``, the gradebook, other students' work or the instructor's home.

Every grading path uses it through ``autograding.ResilientExecute`` (nbgrader_config.py),
whose kernel manager starts ``python -m rnn_helpers.instructor.sandbox {connection_file}``;
that command execs bubblewrap (``bwrap``, Debian package ``bubblewrap``) around
``python -m ipykernel_launcher``, with the kernel's working directory (the submission
folder) as the writable bind. The kernel imports from the same path as the grading process
(PYTHONPATH, editable installs, ``.pth`` files), read-only.
"""
import functools
import os
import shutil
import subprocess
import sys

#: Environment variables passed into the sandbox (everything else is cleared).
_PASSED_ENV = ("NBGRADER_EXECUTION", "LANG", "LC_ALL", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "MKL_NUM_THREADS", "PYTHONPATH")


@functools.lru_cache(maxsize=None)
def availability():
    """(True, how) if kernels can be sandboxed here, else (False, why not)."""
    if not sys.platform.startswith("linux"):
        return False, f"bubblewrap needs Linux, this is {sys.platform}"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return False, "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    probe = subprocess.run([bwrap, "--ro-bind", "/", "/", "--unshare-pid", "--dev", "/dev", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return False, f"bwrap cannot create a sandbox here: {probe.stderr.strip() or probe.returncode}"
    return True, f"bubblewrap ({bwrap})"


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
    """Read-only binds of everything on the import path that the system binds do not cover."""
    args = []
    for path in _import_path():
        if path.startswith(("/usr/", "/bin", "/lib", "/etc")) or path == "/":
            continue
        args += ["--ro-bind", path, path]
    return args


def bwrap_command(workdir, connection_file, extra_arguments=()):
    """The bubblewrap command line that starts an ipykernel confined to ``workdir``."""
    workdir = os.path.abspath(workdir)
    env = {"HOME": "/tmp/home", "MPLCONFIGDIR": "/tmp/matplotlib", "PYTHONNOUSERSITE": "1",
           "PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin"}
    env.update({k: os.environ[k] for k in _PASSED_ENV if k in os.environ})
    command = [shutil.which("bwrap"), "--die-with-parent", "--new-session",
               "--unshare-all", "--share-net", "--clearenv"]
    for key, value in env.items():
        command += ["--setenv", key, value]
    command += _system_binds()
    command += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", "/tmp/home"]
    # After the private /tmp, so that a course or an environment that lives under /tmp
    # is not hidden by it.
    command += _python_binds()
    command += ["--ro-bind", connection_file, connection_file,
                "--bind", workdir, workdir, "--chdir", workdir,
                sys.executable, "-m", "ipykernel_launcher", "-f", connection_file, *extra_arguments]
    return command


def kernel_spec():
    """The spec of a Python kernel started through this module, that is inside the sandbox."""
    from jupyter_client.kernelspec import KernelSpec

    return KernelSpec(argv=[sys.executable, "-m", "rnn_helpers.instructor.sandbox", "{connection_file}"],
                      display_name="Python 3 (sandboxed for grading)", language="python",
                      interrupt_mode="message", metadata={"debugger": False})


def kernel_manager_class():
    """An AsyncKernelManager whose kernels, whatever their name, start in the sandbox.

    nbgrader's ``Execute`` (and so ``ResilientExecute``) takes it as ``kernel_manager_class``;
    the kernel's working directory, the submission's folder in ``autograded/``, becomes the
    only writable folder.
    """
    from jupyter_client.manager import AsyncKernelManager

    class SandboxedKernelManager(AsyncKernelManager):
        @property
        def kernel_spec(self):
            return kernel_spec()

    return SandboxedKernelManager


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        raise SystemExit("usage: python -m rnn_helpers.instructor.sandbox CONNECTION_FILE [KERNEL ARGUMENTS]")
    ok, why = availability()
    if not ok:
        raise SystemExit(f"cannot start a sandboxed kernel: {why}")
    command = bwrap_command(os.getcwd(), os.path.abspath(argv[0]), argv[1:])
    # The kernel's own stdout carries only its start-up banner (cell outputs go through
    # its channels): keep it out of the grading log.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
