"""Generate the student versions in ``notebooks/`` from the sources in ``solutions/``.

    python -m rnn_helpers.instructor.release              # every assignment
    python -m rnn_helpers.instructor.release 01_sequences # one assignment

This is ``nbgrader generate_assignment --force`` run for each assignment, with a
throw-away gradebook, so that releasing never touches the class's real gradebook.
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


def generate(names, root=COURSE_ROOT, release_directory="notebooks"):
    """Run nbgrader generate_assignment for ``names`` into ``root/release_directory``."""
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            subprocess.run(
                [sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force",
                 f"--CourseDirectory.root={root}",
                 f"--CourseDirectory.release_directory={release_directory}",
                 f"--CourseDirectory.db_url=sqlite:///{tmp}/gradebook.db",
                 "--log-level=WARN"],
                cwd=root, check=True, env=nbgrader_env(),
            )


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
