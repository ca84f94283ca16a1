"""An interactive explorer of gradient decay: sliders -> norm of dh_T/dh_{T-k} against k.

    from rnn_helpers.lessons.decay_explorer import DecayExplorer, plot_gallery
    explorer = DecayExplorer()      # the last expression of a cell shows the widget
    plot_gallery([dict(spectral_radius=0.9), dict(spectral_radius=1.1)])   # static figure

The controls set the spectral radius of W, the sequence length T, the nonlinearity, the
scale of the inputs (large inputs saturate tanh and the sigmoid) and whether W is normal
or not. Every change recomputes ``gradient_decay.decay_curve`` and redraws two panels:
the measured norms on a log axis with the eigenvalue prediction rho^k and the bound
(gamma sigma_max)^k, and the eigenvalues of W against the unit circle.

The figure is a plain matplotlib ``Figure`` rendered to PNG into an ``ipywidgets.Image``,
so it works in JupyterLab 4 with ipywidgets 8 and needs no interactive matplotlib backend.
It is rendered at matplotlib's ``figure.dpi`` (the dpi of the inline plots) unless told
otherwise, and the labels of the controls are wide enough to be read whole.
For tests and curious students the explorer keeps ``current`` (the last ``DecayCurve``),
``lines`` (the Line2D objects, whose data are what is on screen) and ``controls``.
"""
import io

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from .gradient_decay import NONLINEARITIES, decay_curve

#: log10 range kept on the plot: norms beyond it (0 or inf) are drawn at its edge.
_LOG10_CLIP = 300.0

DEFAULTS = {"spectral_radius": 0.9, "T": 60, "nonlinearity": "linear", "input_scale": 0.5,
            "normal": True}


def _for_log_axis(log10_values):
    """Values safe for a log axis: 10**log10 clipped to [1e-300, 1e300] (no 0, no inf)."""
    return 10.0 ** np.clip(log10_values, -_LOG10_CLIP, _LOG10_CLIP)


def _log10(values):
    with np.errstate(divide="ignore", over="ignore"):
        return np.log10(values)


def _power_of_ten(value, _position):
    return f"1e{np.log10(value):.0f}" if value > 0 else ""


def describe(curve):
    """Two lines that sum up a DecayCurve: rho and sigma_max with the guarantee; the fit."""
    guarantee = curve.gamma * curve.max_singular_value
    verdict = "vanishing guaranteed" if guarantee < 1 else "no guarantee"
    return (f"ρ = {curve.spectral_radius:.2f}, σ_max = {curve.max_singular_value:.2f}, "
            f"γ·σ_max = {guarantee:.2f} ({verdict})\n"
            f"fitted rate {curve.fitted_rate:.3f} per step, mean f' = {curve.mean_derivative:.2f}")


class DecayPanels:
    """The two panels for one DecayCurve: norms against distance, eigenvalues of W."""

    def __init__(self, ax_norms, ax_eigen):
        self.ax_norms, self.ax_eigen = ax_norms, ax_eigen
        ax_norms.set_yscale("log")
        # Plain-text tick labels: mathtext labels such as 10^{-4} are slow to lay out.
        ax_norms.yaxis.set_major_formatter(FuncFormatter(_power_of_ten))
        ax_norms.yaxis.set_minor_formatter(NullFormatter())
        ax_norms.set_xlabel("distance k (steps back in time)")
        ax_norms.set_ylabel(r"$\|\partial h_T / \partial h_{T-k}\|_2$")
        ax_norms.grid(True, which="major", alpha=0.3)
        ax_norms.axhline(1.0, color="0.6", lw=0.8)
        theta = np.linspace(0, 2 * np.pi, 200)
        ax_eigen.set_aspect("equal")
        ax_eigen.set_xlabel("Re λ")
        ax_eigen.set_ylabel("Im λ")
        ax_eigen.plot(np.cos(theta), np.sin(theta), color="black", lw=1, label="unit circle")
        ones = np.ones(1)
        self.lines = {
            "measured": ax_norms.plot(ones, ones, color="C0", lw=2, label="measured")[0],
            "predicted": ax_norms.plot(ones, ones, color="C1", ls="--",
                                       label=r"prediction $\rho^k$")[0],
            "bound": ax_norms.plot(ones, ones, color="C3", ls=":",
                                   label=r"bound $(\gamma\sigma_{max})^k$")[0],
            "eigenvalues": ax_eigen.plot(ones, ones, "o", color="C0", ms=4, label="eigenvalues")[0],
            "bound_circle": ax_eigen.plot(ones, ones, color="C3", ls=":",
                                          label=r"radius $\gamma\sigma_{max}$")[0],
        }
        self._theta = theta
        ax_norms.legend(loc="best", fontsize=8)
        ax_eigen.legend(loc="upper right", fontsize=7)

    def show(self, curve, title=None):
        """Put the data of ``curve`` into the lines and rescale the axes."""
        k = curve.distances
        measured = _for_log_axis(curve.log10_norms)
        predicted = _for_log_axis(_log10(curve.predicted))
        self.lines["measured"].set_data(k, measured)
        self.lines["predicted"].set_data(k, predicted)
        self.lines["bound"].set_data(k, _for_log_axis(_log10(curve.bound)))
        # The y range follows the measured curve and the prediction (the bound may leave it).
        both = np.log10(np.concatenate([measured, predicted]))
        low, high = min(both.min(), 0.0), max(both.max(), 0.0)
        margin = max(0.5, 0.05 * (high - low))
        self.ax_norms.set_xlim(0, max(1, k[-1]))
        self.ax_norms.set_ylim(10.0 ** (low - margin), 10.0 ** (high + margin))
        self.ax_norms.set_title(title or f"{curve.hs.shape[0]} steps", fontsize=9)
        radius = curve.gamma * curve.max_singular_value
        self.lines["eigenvalues"].set_data(curve.eigenvalues.real, curve.eigenvalues.imag)
        self.lines["bound_circle"].set_data(radius * np.cos(self._theta), radius * np.sin(self._theta))
        limit = 1.15 * max(1.0, curve.spectral_radius, radius)
        self.ax_eigen.set_xlim(-limit, limit)
        self.ax_eigen.set_ylim(-limit, limit)


def _title(settings):
    matrix = "normal" if settings["normal"] else "non-normal"
    return f"{settings['nonlinearity']}, input scale {settings['input_scale']:.1f}, {matrix} W"


class DecayExplorer:
    """Sliders for the gradient-decay experiment and a figure that follows them.

    Display the object (or ``explorer.widget``) in a notebook. ``controls`` maps each
    setting name to its widget; changing a widget's ``value`` (by hand or in code)
    recomputes ``current`` and redraws the figure into ``image``.
    """

    def __init__(self, hidden_size=32, seed=0, dpi=None, **settings):
        unknown = set(settings) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; the explorer has {sorted(DEFAULTS)}")
        values = {**DEFAULTS, **settings}
        self.hidden_size, self.seed = hidden_size, seed
        self.dpi = matplotlib.rcParams["figure.dpi"] if dpi is None else dpi
        # Sliders report a value when released: one redraw takes a few tenths of a second.
        slider_style = {"description_width": "150px"}
        layout = widgets.Layout(width="460px")
        self.controls = {
            "spectral_radius": widgets.FloatSlider(
                value=values["spectral_radius"], min=0.1, max=1.5, step=0.01,
                description="spectral radius ρ", style=slider_style, layout=layout,
                readout_format=".2f", continuous_update=False),
            "T": widgets.IntSlider(value=values["T"], min=5, max=200, step=1,
                                   description="sequence length T", style=slider_style, layout=layout,
                                   continuous_update=False),
            "nonlinearity": widgets.ToggleButtons(options=list(NONLINEARITIES),
                                                  value=values["nonlinearity"], description="f",
                                                  style={"button_width": "80px"}),
            "input_scale": widgets.FloatSlider(value=values["input_scale"], min=0.0, max=5.0, step=0.1,
                                               description="input scale", style=slider_style,
                                               layout=layout, readout_format=".1f",
                                               continuous_update=False),
            "normal": widgets.ToggleButtons(options=[("normal W", True), ("non-normal W", False)],
                                            value=values["normal"], description="matrix",
                                            style={"button_width": "130px"}),
        }
        # Fixed margins (no layout engine): redrawing stays fast while a slider moves.
        self.figure = Figure(figsize=(10, 4.2))
        self.figure.subplots_adjust(left=0.08, right=0.98, bottom=0.12, top=0.85, wspace=0.25)
        ax_norms, ax_eigen = self.figure.subplots(1, 2, width_ratios=[1.7, 1])
        self.panels = DecayPanels(ax_norms, ax_eigen)
        self.lines = self.panels.lines
        # Shown at its own pixel size (never stretched to the cell's width, which would blur it).
        self.image = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start", max_width="100%"))
        self.widget = widgets.VBox([
            widgets.HBox([widgets.VBox([self.controls["spectral_radius"], self.controls["T"],
                                        self.controls["input_scale"]]),
                          widgets.VBox([self.controls["nonlinearity"], self.controls["normal"]])]),
            self.image])
        self.current = None
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    def settings(self):
        """The current values of the controls, as keyword arguments of decay_curve."""
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, change):
        self.update()

    def update(self):
        """Recompute the curve for the current settings and redraw."""
        settings = self.settings()
        self.current = decay_curve(hidden_size=self.hidden_size, seed=self.seed, **settings)
        self.panels.show(self.current, _title(settings) + "\n" + describe(self.current))
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.dpi)
        self.image.value = buffer.getvalue()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def plot_gallery(settings_list, hidden_size=32, seed=0):
    """A static figure: one row of the explorer's two panels for each dict of settings.

    settings_list: list of dicts with keys among spectral_radius, T, nonlinearity,
    input_scale, normal (missing keys take the explorer's defaults). Returns the Figure
    (a pyplot figure, so a notebook shows it inline) and the list of DecayCurves.
    """
    import matplotlib.pyplot as plt

    rows = len(settings_list)
    fig, axes = plt.subplots(rows, 2, figsize=(10, 3.2 * rows), width_ratios=[1.7, 1],
                             squeeze=False, layout="constrained")
    curves = []
    for (ax_norms, ax_eigen), settings in zip(axes, settings_list):
        unknown = set(settings) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; the explorer has {sorted(DEFAULTS)}")
        values = {**DEFAULTS, **settings}
        curve = decay_curve(hidden_size=hidden_size, seed=seed, **values)
        DecayPanels(ax_norms, ax_eigen).show(curve, _title(values) + "\n" + describe(curve))
        curves.append(curve)
    return fig, curves
