"""rnn_helpers.instructor.sandbox: the bubblewrap command line (the hostile-submission tests run it)."""
import sys

from rnn_helpers.instructor import sandbox


def test_nothing_is_bound_before_the_private_tmp():
    # bwrap applies its arguments in order: a bind made before `--tmpfs /tmp` would be hidden
    # by it, and a course or environment living under /tmp would vanish from the kernel's view.
    command = sandbox.bwrap_command("/tmp/course/autograded/s/a", "/tmp/kernel-1.json")
    tmpfs = command.index("--tmpfs")
    assert command[tmpfs + 1] == "/tmp"
    binds = [command[i + 1] for i, arg in enumerate(command) if arg in ("--bind", "--ro-bind") and i > tmpfs]
    assert sys.prefix in binds and "/tmp/course/autograded/s/a" in binds and "/tmp/kernel-1.json" in binds
    early = [command[i + 1] for i, arg in enumerate(command[:tmpfs]) if arg in ("--bind", "--ro-bind")]
    assert not [path for path in early if path == "/tmp" or path.startswith("/tmp/")]
