"""Build the course website: every student notebook executed into static HTML (Sphinx + myst-nb).

    python site/build.py                     # all of notebooks/ -> site/_build/html (make site)
    python site/build.py 01_sequences --fast --out /tmp/site

The pages show the students' versions (notebooks/): exercises appear as exercises (their
answer cell with the stub, the visible test cells without output), and no solution, hidden
test or mark scheme is in them. The code executed is the instructor's version, in the
notebook's own folder, so that the experiments after an exercise show their real figures;
only the outputs of ungraded cells are carried over (see ``execute``).
A widget has no life on a static page: each one is replaced by what it showed when the cell
ran (its figures, at the widget's default values; see ``static_widgets``).
``--fast`` sets NBGRADER_EXECUTION, under which the notebooks shorten their training, as the
autograder does. The glossary comes from README.md, the notation table from site/notation.md.
The build prints its time and the size of the site.
"""
import argparse
import base64
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import nbformat
from rnn_helpers.instructor.execution import SteadyNotebookClient

SITE = pathlib.Path(__file__).resolve().parent
ROOT = SITE.parent
NOTEBOOKS = ROOT / "notebooks"
SOLUTIONS = ROOT / "solutions"


def graded(cell):
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("solution") or meta.get("grade") or meta.get("task"))


def aligned(student, solution):
    """True when the two versions have the same cells and the same source in every cell that
    is not graded (the instructor's and the students' versions are in sync)."""
    return len(student.cells) == len(solution.cells) and all(
        graded(a) or a.source == b.source for a, b in zip(student.cells, solution.cells))


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
STATIC_NOTE = "(Interactive in JupyterLab: here, as it first appears, at its default values.)\n"


def widget_figures(model_id, state, seen=None):
    """The outputs a widget shows, found by walking its tree in the saved widget state:
    the captured outputs of Output widgets and the PNG of Image widgets."""
    seen = set() if seen is None else seen
    if model_id in seen or model_id not in state:
        return []
    seen.add(model_id)
    model = state[model_id]
    fields = model.get("state", {})
    if model.get("model_name") == "OutputModel":
        return [nbformat.from_dict(o) for o in fields.get("outputs", [])]
    if model.get("model_name") == "ImageModel":
        for buffer in model.get("buffers", []):
            if buffer.get("path") == ["value"]:
                data = buffer["data"] if buffer.get("encoding") == "base64" else base64.b64encode(buffer["data"]).decode()
                return [nbformat.v4.new_output("display_data", data={"image/png": data})]
        return []
    figures = []
    for child in fields.get("children", []):
        figures += widget_figures(str(child).removeprefix("IPY_MODEL_"), state, seen)
    return figures


def static_widgets(nb):
    """Replace every widget in the outputs of ``nb`` by the figures it showed (the state saved
    when the notebook ran with store_widget_state) and a line that says so; keep a static
    image a widget's display already carries."""
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                outputs.append(output)
                continue
            own = {k: v for k, v in output.data.items() if k not in (WIDGET_VIEW, "text/plain")}
            figures = [nbformat.v4.new_output("display_data", data=own)] if own else widget_figures(view["model_id"], state)
            outputs.append(nbformat.v4.new_output("stream", name="stdout", text=STATIC_NOTE))
            outputs += figures
        cell.outputs = outputs
    nb.metadata.pop("widgets", None)


def execute(path, fast, timeout):
    """Execute the notebook at ``path`` in place; the graded cells keep no output.

    The code that runs is the instructor's version (solutions/), so that the experiments after
    an exercise run as in class; what is written is the students' version with the outputs of
    its ungraded cells only. If the two versions are out of sync, the students' version itself
    is executed, errors allowed (an unanswered exercise raises NotImplementedError).
    """
    page = nbformat.read(path, as_version=4)
    solution_path = SOLUTIONS / path.parent.name / path.name
    solution = nbformat.read(solution_path, as_version=4) if solution_path.is_file() else None
    runs = solution if solution is not None and aligned(page, solution) else page
    if runs is page:
        print(f"{path.name}: solutions/ and notebooks/ differ, executing the students' version", flush=True)
    env_before = os.environ.get("NBGRADER_EXECUTION")
    if fast:
        os.environ["NBGRADER_EXECUTION"] = "autograde"
    try:
        SteadyNotebookClient(runs, timeout=timeout, allow_errors=True, kernel_name="python3",
                             store_widget_state=True,
                             resources={"metadata": {"path": str(path.parent)}}).execute()
        static_widgets(runs)
    finally:
        if env_before is None:
            os.environ.pop("NBGRADER_EXECUTION", None)
        else:
            os.environ["NBGRADER_EXECUTION"] = env_before
    for cell, ran in zip(page.cells, runs.cells):
        if graded(cell):
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            # Shown as an exercise to do on the site, not as something to grade.
            cell.metadata.pop("nbgrader", None)
            cell.metadata.setdefault("tags", []).append("exercise")
        elif cell.cell_type == "code":
            cell.outputs, cell.execution_count = ran.outputs, ran.execution_count
    nbformat.write(page, path)


def readme_section(title):
    """The text of README.md's section whose heading starts with ``title``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(title)}.*?$(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    if match is None:
        raise LookupError(f"README.md has no section '## {title}'")
    return match.group(0)


def write_sources(src, names):
    """The Sphinx source folder: index, notebooks, glossary and notation pages."""
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    shutil.copy(SITE / "conf.py", src / "conf.py")
    shutil.copy(SITE / "notation.md", src / "notation.md")
    glossary = readme_section("Glossary").replace("## Glossary", "# Glossary", 1)
    (src / "glossary.md").write_text(glossary, encoding="utf-8")
    for name in names:
        shutil.copytree(NOTEBOOKS / name, src / name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    intro = readme_section("The notebooks")
    for name in names:      # every chapter's name in the table links to its page
        intro = intro.replace(f"| `{name}`", f"| [`{name}`]({name}/{name}.ipynb)", 1)
    pages = "\n".join(f"{name}/{name}" for name in names)
    (src / "index.md").write_text(
        "# Recurrent neural networks, from the unrolled graph to the recurrences of today\n\n"
        "An open, hands-on course on recurrent neural networks. Each chapter is a Jupyter notebook "
        "that explains an idea with the maths, asks you to implement it in numpy (the exercises, "
        "checked by test cells), and runs an experiment that shows the idea at work. These pages "
        "show the notebooks as a student receives them, executed: the exercises are left for you, "
        "so cells that need your answer show an error here. To work through them, clone the "
        "repository and run `make lab`.\n\n"
        f"{intro.replace('## The notebooks', '## The chapters', 1)}\n\n"
        f"```{{toctree}}\n:caption: Chapters\n:maxdepth: 1\n\n{pages}\n```\n\n"
        "```{toctree}\n:caption: Reference\n:maxdepth: 1\n\nnotation\nglossary\n```\n",
        encoding="utf-8")


def size_of(folder):
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebook folders to include (default: all of notebooks/)")
    parser.add_argument("--fast", action="store_true", help="shortened training (NBGRADER_EXECUTION)")
    parser.add_argument("--out", default=str(SITE / "_build"), help="build folder (html/ is written inside)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed for one cell")
    args = parser.parse_args(argv)
    names = args.notebooks or sorted(p.parent.name for p in NOTEBOOKS.glob("*/*.ipynb"))
    missing = [n for n in names if not (NOTEBOOKS / n / f"{n}.ipynb").is_file()]
    if missing:
        raise SystemExit(f"no notebook {missing} in {NOTEBOOKS}")
    out = pathlib.Path(args.out).resolve()
    src, html = out / "src", out / "html"
    start = time.perf_counter()
    write_sources(src, names)
    for name in names:
        began = time.perf_counter()
        execute(src / name / f"{name}.ipynb", args.fast, args.timeout)
        print(f"executed {name} in {time.perf_counter() - began:.0f} s", flush=True)
    subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", str(src), str(html)], check=True)
    # The pages load MathJax's tex-chtml.js (which loads what it needs from the folders beside
    # it); the other combined builds that sphinx-mathjax-offline copies are never used.
    for unused in (html / "_static" / "mathjax").glob("*.js"):
        if unused.name != "tex-chtml.js":
            unused.unlink()
    print(f"site built in {time.perf_counter() - start:.0f} s: {html / 'index.html'} "
          f"({size_of(html) / 2**20:.1f} MiB, of which MathJax {size_of(html / '_static' / 'mathjax') / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main()
