"""Run a submission's kernel in a bubblewrap sandbox while autograding (Linux).

nbgrader runs every student's code with the instructor's rights. In the sandbox the
kernel sees a read-only copy of the system, of Python and of the course's packages, a
private /tmp, and one writable folder: the submission's own folder in ``autograded/``.
It cannot see ``solutions/``, the gradebook, other students' work or the instructor's home.

The kernel is registered as the Jupyter kernel ``rnn-course-sandbox`` whose command is
``python -m rnn_helpers.instructor.sandbox {connection_file}``; that command execs bubblewrap
(``bwrap``, Debian package ``bubblewrap``) around ``python -m ipykernel_launcher``, with
the kernel's working directory (the submission folder) as the writable bind.
"""
import json
import os
import pathlib
import shutil
import subprocess
import sys

KERNEL_NAME = "rnn-course-sandbox"

#: Environment variables passed into the sandbox (everything else is cleared).
_PASSED_ENV = ("NBGRADER_EXECUTION", "LANG", "LC_ALL", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
               "MKL_NUM_THREADS")


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


def _python_binds():
    """Read-only binds of the interpreter, the environment and the course's package."""
    import rnn_helpers

    paths = {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable)),
             os.path.dirname(os.path.abspath(rnn_helpers.__file__))}
    args = []
    for path in sorted(paths):
        if not path.startswith(("/usr/", "/bin", "/lib")):
            args += ["--ro-bind", path, path]
    return args


def bwrap_command(workdir, connection_file):
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
                sys.executable, "-m", "ipykernel_launcher", "-f", connection_file]
    return command


def install_kernelspec(jupyter_data_dir):
    """Write the sandboxed kernel's spec under ``jupyter_data_dir/kernels`` and return its folder.

    Put ``jupyter_data_dir`` on JUPYTER_PATH and pass ``--Execute.kernel_name=rnn-course-sandbox``
    to nbgrader to grade with it.
    """
    folder = pathlib.Path(jupyter_data_dir) / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [sys.executable, "-m", "rnn_helpers.instructor.sandbox", "{connection_file}"],
            "display_name": "Python 3 (sandboxed for grading)", "language": "python",
            "interrupt_mode": "message", "metadata": {"debugger": False}}
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1))
    return folder


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m rnn_helpers.instructor.sandbox CONNECTION_FILE")
    ok, why = availability()
    if not ok:
        raise SystemExit(f"cannot start a sandboxed kernel: {why}")
    command = bwrap_command(os.getcwd(), os.path.abspath(argv[0]))
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
