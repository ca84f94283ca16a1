"""site/build.py's static widgets: a widget on a static page becomes the figures it showed."""
import importlib.util
import pathlib

import nbformat
import pytest

from rnn_helpers.instructor.execution import SteadyNotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("site_build", ROOT / "site" / "build.py")
site_build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(site_build)

CELLS = {
    "interact": """
import matplotlib
matplotlib.use("module://matplotlib_inline.backend_inline")
import matplotlib.pyplot as plt
from ipywidgets import interact, FloatSlider
def show(alpha):
    plt.plot([0, 1], [0, alpha]); plt.show()
interact(show, alpha=FloatSlider(value=0.5, min=0, max=1));
""",
    "image": """
import io, ipywidgets as widgets
buffer = io.BytesIO(); plt.figure(); plt.plot([1, 2]); plt.savefig(buffer, format="png"); plt.close()
widgets.VBox([widgets.IntSlider(), widgets.Image(value=buffer.getvalue(), format="png")])
""",
    "plain": "print('no widget here')",
}


@pytest.fixture(scope="module")
def executed():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in CELLS.values()])
    SteadyNotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True).execute()
    return nb


def test_widgets_become_their_figures_with_a_note(executed):
    nb = nbformat.from_dict(executed)
    assert any(site_build.WIDGET_VIEW in o.get("data", {}) for o in nb.cells[0].outputs)
    site_build.static_widgets(nb)
    for cell in nb.cells[:2]:
        kinds = [k for o in cell.outputs for k in o.get("data", {})]
        assert site_build.WIDGET_VIEW not in kinds
        assert "image/png" in kinds, cell.outputs
        assert any(site_build.STATIC_NOTE in o.get("text", "") for o in cell.outputs)
    assert [o.text for o in nb.cells[2].outputs] == ["no widget here\n"]
    assert "widgets" not in nb.metadata


def test_a_widget_that_carries_its_own_image_keeps_it(executed):
    nb = nbformat.from_dict(executed)
    view = next(o for o in nb.cells[1].outputs if site_build.WIDGET_VIEW in o.get("data", {}))
    view.data["image/png"] = "iVBORw0KGgo="          # as the attention explorer's display does
    site_build.static_widgets(nb)
    images = [o.data["image/png"] for o in nb.cells[1].outputs if "image/png" in o.get("data", {})]
    assert images == ["iVBORw0KGgo="]
