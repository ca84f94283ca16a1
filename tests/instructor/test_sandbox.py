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


def test_the_kernel_imports_from_the_same_path_but_never_sees_a_course_folder(tmp_path, monkeypatch):
    # A folder on PYTHONPATH is bound read-only; a course folder on it (a clone put on
    # PYTHONPATH) is replaced by its Python packages, so solutions/ and the gradebook stay out.
    extra = tmp_path / "site"
    (extra / "mypkg").mkdir(parents=True)
    clone = tmp_path / "clone"
    (clone / "coursepkg").mkdir(parents=True)
    (clone / "coursepkg" / "__init__.py").write_text("")
    (clone / "solutions").mkdir()
    (clone / "nbgrader_config.py").write_text("")
    monkeypatch.setattr(sys, "path", sys.path + [str(extra), str(clone)])
    command = sandbox.bwrap_command(str(tmp_path / "work"), str(tmp_path / "kernel.json"))
    binds = [command[i + 1] for i, arg in enumerate(command) if arg == "--ro-bind"]
    assert str(extra) in binds and str(clone / "coursepkg") in binds
    assert str(clone) not in binds and str(clone / "solutions") not in binds
    assert "PYTHONPATH" in sandbox._PASSED_ENV
