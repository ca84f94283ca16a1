"""The decay explorer, driven in a real kernel the way JupyterLab drives it.

A kernel is started with jupyter_client; the explorer is created and displayed there.
Its controls are then moved in two ways: by setting a widget's ``value`` in the kernel,
and by sending the kernel the comm message a browser sends when a slider is released.
After each move the test reads back what is plotted (the Line2D data) and checks that
it changes as the theory says it should.
"""
import json
import uuid

import numpy as np
import pytest
from jupyter_client.manager import start_new_kernel

SETUP = """
import json, numpy as np
from IPython.display import display
from rnn_helpers.lessons.decay_explorer import DecayExplorer
explorer = DecayExplorer(T=80)
display(explorer)

def plotted():
    lines = explorer.lines
    c = explorer.current
    print(json.dumps({
        "settings": explorer.settings(),
        "k": lines["measured"].get_xdata().tolist(),
        "measured": lines["measured"].get_ydata().tolist(),
        "predicted": lines["predicted"].get_ydata().tolist(),
        "bound": lines["bound"].get_ydata().tolist(),
        "eig_re": lines["eigenvalues"].get_xdata().tolist(),
        "eig_im": lines["eigenvalues"].get_ydata().tolist(),
        "fitted_rate": c.fitted_rate,
        "curve_log10": c.log10_norms.tolist(),
        "rho": c.spectral_radius,
        "image_bytes": len(explorer.image.value),
        "image_head": explorer.image.value[:8].hex(),
        "image_hash": hash(explorer.image.value),
        "title": explorer.panels.ax_norms.get_title(),
    }))

def model_ids():
    print(json.dumps({name: w.model_id for name, w in explorer.controls.items()}))
"""


class Kernel:
    def __init__(self):
        self.manager, self.client = start_new_kernel(kernel_name="python3")
        self.stderr = []

    def run(self, code):
        """Execute ``code``; return its stdout; fail on an error."""
        stdout, errors = [], []

        def hook(msg):
            kind, content = msg["header"]["msg_type"], msg["content"]
            if kind == "stream":
                (stdout if content["name"] == "stdout" else self.stderr).append(content["text"])
            elif kind == "error":
                errors.append("\n".join(content["traceback"]))

        reply = self.client.execute_interactive(code, output_hook=hook, timeout=120)
        assert not errors and reply["content"]["status"] == "ok", "\n".join(errors)
        return "".join(stdout)

    def plotted(self):
        return json.loads(self.run("plotted()"))

    def set_value(self, name, value):
        """Move a control in the kernel (what a callback or a student's code does)."""
        self.run(f"explorer.controls[{name!r}].value = {value!r}")
        return self.plotted()

    def frontend_sets(self, name, state):
        """Send the comm message a browser sends when a control is moved: state is
        {"value": v} for a slider, {"index": i} for toggle buttons (selection widgets
        synchronise the index of the chosen option)."""
        model_id = json.loads(self.run("model_ids()"))[name]
        content = {"comm_id": model_id, "data": {"method": "update", "state": state,
                                                 "buffer_paths": []}}
        msg = self.client.session.msg("comm_msg", content)
        msg["header"]["msg_id"] = uuid.uuid4().hex
        self.client.shell_channel.send(msg)
        return self.plotted()   # the shell handles messages in order: the update came first

    def close(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def kernel():
    k = Kernel()
    try:
        k.run(SETUP)
        yield k
        assert not k.stderr, "the explorer wrote to stderr: " + "".join(k.stderr)[:500]
    finally:
        k.close()


@pytest.fixture
def fresh(kernel):
    """Back to linear, normal W, rho = 0.9, T = 80, input scale 0.5 before each test."""
    for name, value in (("nonlinearity", "linear"), ("normal", True), ("spectral_radius", 0.9),
                        ("T", 80), ("input_scale", 0.5)):
        kernel.run(f"explorer.controls[{name!r}].value = {value!r}")
    return kernel


def slope(values):
    """Per-step factor of a plotted curve (exp of the fitted slope of log values)."""
    values = np.asarray(values)
    k = np.arange(values.size)
    return float(np.exp(np.polyfit(k[values.size // 2:], np.log(values[values.size // 2:]), 1)[0]))


def test_the_plot_shows_the_current_curve(fresh):
    p = fresh.plotted()
    k = np.array(p["k"])
    np.testing.assert_array_equal(k, np.arange(81))
    np.testing.assert_allclose(p["measured"], 0.9 ** k, rtol=1e-8)          # normal, linear: rho^k
    np.testing.assert_allclose(p["predicted"], 0.9 ** k, rtol=1e-8)
    np.testing.assert_allclose(np.log10(p["measured"]), p["curve_log10"], atol=1e-9)
    assert max(np.hypot(p["eig_re"], p["eig_im"])) == pytest.approx(0.9)
    assert p["image_head"] == "89504e470d0a1a0a" and p["image_bytes"] > 10_000   # a PNG
    assert "ρ = 0.90" in p["title"] and "vanishing guaranteed" in p["title"]


def test_larger_spectral_radius_decays_slower_then_explodes(fresh):
    seen = []
    for rho in (0.5, 0.8, 0.95, 1.1, 1.3):
        p = fresh.set_value("spectral_radius", rho)
        assert p["rho"] == pytest.approx(rho)
        seen.append(p)
    rates = [slope(p["measured"]) for p in seen]
    assert rates == sorted(rates) and rates[0] == pytest.approx(0.5, rel=1e-6)
    finals = [p["measured"][-1] for p in seen]
    assert finals[2] < 1 < finals[3] < finals[4]                  # vanishing -> exploding
    assert len({p["image_hash"] for p in seen}) == len(seen)     # the picture was redrawn
    radii = [max(np.hypot(p["eig_re"], p["eig_im"])) for p in seen]
    np.testing.assert_allclose(radii, [0.5, 0.8, 0.95, 1.1, 1.3], rtol=1e-9)


def test_a_slider_moved_in_the_browser_updates_the_plot(fresh):
    p = fresh.frontend_sets("spectral_radius", {"value": 1.1})
    assert p["settings"]["spectral_radius"] == pytest.approx(1.1)
    k = np.array(p["k"])
    np.testing.assert_allclose(p["measured"], 1.1 ** k, rtol=1e-8)
    p = fresh.frontend_sets("T", {"value": 30})
    assert len(p["measured"]) == 31
    p = fresh.frontend_sets("nonlinearity", {"index": 2})
    assert p["settings"]["nonlinearity"] == "sigmoid"
    assert slope(p["measured"]) < 0.3 * 1.1                      # sigmoid' <= 1/4


def test_saturating_tanh_vanishes_faster(fresh):
    fresh.set_value("spectral_radius", 1.2)
    fresh.set_value("nonlinearity", "tanh")
    rates, finals = [], []
    for scale in (0.0, 1.0, 4.0):
        p = fresh.set_value("input_scale", scale)
        rates.append(slope(p["measured"]))
        finals.append(p["measured"][-1])
        np.testing.assert_allclose(p["predicted"], 1.2 ** np.arange(81), rtol=1e-8)
        assert np.all(np.array(p["measured"]) <= np.array(p["bound"]) * (1 + 1e-9))
    assert rates[0] == pytest.approx(1.2, rel=1e-6)              # h stays at 0: tanh is linear there
    assert rates[0] > rates[1] > rates[2] and rates[2] < 0.6
    assert finals[0] > 1e5 and finals[2] < 1e-15


def test_non_normal_matrix_shows_a_transient_bump(fresh):
    normal = fresh.plotted()
    assert np.all(np.diff(normal["measured"]) < 0)                # monotone decay
    p = fresh.set_value("normal", False)
    measured = np.array(p["measured"])
    assert measured[1:20].max() > 3.0                             # grows first ...
    assert measured[-1] < 1.0                                     # ... then decays
    assert slope(measured) == pytest.approx(0.9, rel=0.05)        # at the eigenvalue rate
    np.testing.assert_allclose(sorted(np.hypot(p["eig_re"], p["eig_im"])),
                               sorted(np.hypot(normal["eig_re"], normal["eig_im"])), rtol=1e-6)
    assert "no guarantee" in p["title"] and "non-normal W" in p["title"]


def test_static_gallery_draws_the_same_curves():
    """The static figure (shown where widgets cannot run) plots decay_curve's data."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from rnn_helpers.lessons.decay_explorer import DecayExplorer, plot_gallery
    from rnn_helpers.lessons.gradient_decay import decay_curve

    settings = [dict(spectral_radius=0.7), dict(spectral_radius=1.2, nonlinearity="tanh", input_scale=2.0)]
    fig, curves = plot_gallery(settings)
    try:
        assert len(fig.axes) == 4 and len(curves) == 2
        expected = decay_curve(1.2, 60, "tanh", 2.0)
        np.testing.assert_allclose(curves[1].norms, expected.norms)
        measured = fig.axes[2].get_lines()[1]                  # after the horizontal line at 1
        np.testing.assert_allclose(measured.get_ydata(), expected.norms, rtol=1e-12)
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="rho"):
        plot_gallery([dict(rho=0.5)])
    with pytest.raises(ValueError, match="rho"):
        DecayExplorer(rho=0.5)


def test_the_explorer_renders_at_the_inline_plots_dpi():
    """As sharp as an inline plot: the PNG has the pixels of the figure at matplotlib's figure.dpi."""
    import io

    import matplotlib
    from matplotlib import image as mpimg
    from rnn_helpers.lessons.decay_explorer import DecayExplorer

    explorer = DecayExplorer(T=10)
    assert explorer.dpi == matplotlib.rcParams["figure.dpi"]
    height, width = mpimg.imread(io.BytesIO(explorer.image.value)).shape[:2]
    fig_width, fig_height = explorer.figure.get_size_inches()
    assert (width, height) == (round(fig_width * explorer.dpi), round(fig_height * explorer.dpi))
