"""Generate the student versions in ``notebooks/`` from the sources in ``solutions/``.

    python -m rnn_helpers.instructor.release              # every assignment
    python -m rnn_helpers.instructor.release 01_sequences # one assignment

This is ``nbgrader generate_assignment --force`` run for each assignment, with a
throw-away gradebook, so that releasing never touches the class's real gradebook.

``register_missing`` is the other half: ``nbgrader_config.py`` calls it when nbgrader is
about to grade (``nbgrader autograde`` or a Jupyter server with the formgrader), and it
records in the class's gradebook every assignment of ``solutions/`` that is not there yet,
so that grading works on a fresh clone without running anything first.
"""
import argparse
import os
import pathlib
import subprocess
import sys
import tempfile

COURSE_ROOT = pathlib.Path(__file__).resolve().parents[2]


def assignments(root=COURSE_ROOT):
    """Names of the assignments: the folders of ``solutions/``, in course order."""
    return sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir() and not p.name.startswith("."))


def nbgrader_env():
    """The environment for running nbgrader: its helper commands (alembic) on PATH."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    return env


def _generate_assignment(name, root, release_directory, db_url, **run_options):
    """``nbgrader generate_assignment name --force`` with this release folder and gradebook."""
    subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force",
         f"--CourseDirectory.root={root}", f"--CourseDirectory.release_directory={release_directory}",
         f"--CourseDirectory.db_url={db_url}", "--log-level=WARN"],
        cwd=root, check=True, env=dict(nbgrader_env(), **{_REGISTERING: "1"}), **run_options)


def generate(names, root=COURSE_ROOT, release_directory="notebooks"):
    """Run nbgrader generate_assignment for ``names`` into ``root/release_directory``."""
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            _generate_assignment(name, root, release_directory, f"sqlite:///{tmp}/gradebook.db")


#: Set while register_missing runs nbgrader, so that its configuration does not recurse.
_REGISTERING = "RNN_COURSE_REGISTERING"
_GRADING_PROGRAMS = ("jupyter-lab", "jupyter-server", "jupyter-notebook", "jupyterlab/", "jupyter_server/",
                     "notebook/__main__")


def grading_is_starting(argv=None):
    """Does this process grade: ``nbgrader autograde`` or a Jupyter server (the formgrader)?"""
    argv = sys.argv if argv is None else argv
    program = argv[0].replace(os.sep, "/") if argv else ""
    if os.environ.get(_REGISTERING):
        return False
    if os.path.basename(program).startswith("nbgrader") or program.endswith("nbgrader/__main__.py"):
        return argv[1:2] == ["autograde"]
    return any(name in program for name in _GRADING_PROGRAMS)


def register_missing(root, db_url=None):
    """Record in the gradebook (default ``root/gradebook.db``) the assignments it lacks; returns them."""
    from nbgrader.api import Gradebook

    root = pathlib.Path(root)
    db_url = db_url or f"sqlite:///{root / 'gradebook.db'}"
    with Gradebook(db_url) as gb:
        known = {a.name for a in gb.assignments}
    missing = [name for name in assignments(root) if name not in known]
    with tempfile.TemporaryDirectory() as tmp:
        for name in missing:
            _generate_assignment(name, root, tmp, db_url, capture_output=True)
    return missing


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="assignments to release (default: all)")
    args = parser.parse_args(argv)
    names = args.names or assignments()
    unknown = sorted(set(names) - set(assignments()))
    if unknown:
        parser.error(f"no such assignment in solutions/: {', '.join(unknown)}")
    generate(names)
    print(f"released {len(names)} assignment(s) into notebooks/: {', '.join(names)}")


if __name__ == "__main__":
    main()
