"""LRU eigenvalues as a design tool: the parameterisation, the ring initialisation, an explorer.

The linear recurrent unit (Orvieto et al. 2023) runs a diagonal complex recurrence
h_t = lambda * h_{t-1} + gamma * (B x_t), one eigenvalue lambda per unit, with

* lambda = exp(-exp(nu) + i theta): |lambda| = exp(-exp(nu)) < 1 for every real nu, so no
  gradient step can push an eigenvalue out of the unit disk;
* the ring initialisation: |lambda|^2 uniform on [r_min^2, r_max^2] (uniform over the area of
  the ring r_min <= |lambda| <= r_max) and theta uniform on [0, max_phase];
* the normalisation gamma = sqrt(1 - |lambda|^2): for white-noise input of unit variance the
  state sum_k lambda^k gamma u_{t-k} has variance gamma^2 / (1 - |lambda|^2) = 1, so units
  with eigenvalues close to the circle do not blow the state up.

A unit's impulse response is gamma lambda^t: it rotates by theta per step and shrinks by
|lambda|. Its memory horizon (e-folding time) tau = -1 / ln|lambda| is the number of steps
after which the response has fallen by a factor e (about 1 / (1 - |lambda|) near the circle,
the time constant of notebook 04's leaky unit). The figure draws three units in colour (the
shortest, the median and the longest horizon) with a dotted vertical line at each one's
horizon, where its curve has fallen to 1/e of its start.

The paper stores the phase in log form too, lambda = exp(-exp(nu_log) + i exp(theta_log)),
so that theta = exp(theta_log) > 0; here ``lru_eigenvalues`` takes nu and theta themselves
(nothing is trained here, so the phase needs no reparameterisation).

    explorer = LRUExplorer(seed=course_seed(11))    # sliders r_min, r_max, T; shows the widget
    fig, summary = plot_lru(0.9, 0.999, 200)         # the same panels as a static figure

The explorer draws into an ``ipywidgets.Image``; displayed where no widget can run (a static
page, the autograder's output) it shows the PNG of its current figure instead.
"""
import base64
import io
from dataclasses import dataclass

import numpy as np

#: The explorer's settings at start-up.
DEFAULTS = {"r_min": 0.9, "r_max": 0.999, "T": 200}
#: Largest rotation per step of the ring initialisation (the LRU paper's default is 2 pi).
MAX_PHASE = 2 * np.pi


def lru_eigenvalues(nu, theta):
    """lambda = exp(-exp(nu) + i theta), elementwise: |lambda| < 1 for any real nu."""
    return np.exp(-np.exp(np.asarray(nu, dtype=float)) + 1j * np.asarray(theta, dtype=float))


def ring_parameters(u_radius, u_phase, r_min, r_max, max_phase=MAX_PHASE):
    """nu and theta for uniform draws u_radius, u_phase in [0, 1): |lambda| in [r_min, r_max].

    |lambda|^2 = r_min^2 + u_radius (r_max^2 - r_min^2) (uniform over the ring's area) and
    theta = u_phase * max_phase; nu = log(-log|lambda|), so that lru_eigenvalues(nu, theta)
    has these radii and phases.
    """
    if not 0.0 <= r_min <= r_max < 1.0:
        raise ValueError(f"the ring needs 0 <= r_min <= r_max < 1, but got r_min={r_min!r}, r_max={r_max!r}")
    radius = np.sqrt(r_min ** 2 + np.asarray(u_radius) * (r_max ** 2 - r_min ** 2))
    with np.errstate(divide="ignore"):             # radius 0 gives nu = log(inf) = inf, lambda = 0
        nu = np.log(-np.log(radius))
    return nu, np.asarray(u_phase) * max_phase


def ring_init(H, r_min, r_max, rng, max_phase=MAX_PHASE):
    """nu, theta (H,) of the LRU's ring initialisation, drawn with ``rng``."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng should be a numpy Generator (course_rng(seed)), but got {type(rng).__name__}")
    return ring_parameters(rng.random(H), rng.random(H), r_min, r_max, max_phase)


def normalisation(eigenvalues):
    """gamma = sqrt(1 - |lambda|^2), the input scale that keeps the state's variance at 1."""
    return np.sqrt(1.0 - np.abs(eigenvalues) ** 2)


def memory_horizon(eigenvalues):
    """tau = -1 / ln|lambda|: the steps after which the impulse response has fallen by e."""
    with np.errstate(divide="ignore"):
        return -1.0 / np.log(np.abs(eigenvalues))


def impulse_response(eigenvalues, T):
    """gamma * lambda^t for t = 0..T: (T + 1, H) complex, one column per unit."""
    eigenvalues = np.asarray(eigenvalues)
    return normalisation(eigenvalues) * eigenvalues ** np.arange(T + 1)[:, None]


@dataclass
class RingSummary:
    """What the explorer shows, in numbers."""
    eigenvalues: np.ndarray       # (H,) complex
    horizons: np.ndarray          # (H,) memory horizon of each unit, in steps
    response: np.ndarray          # (T + 1, H) complex impulse responses
    alive_at_T: float             # share of units whose response at T is above 1% of its start
    highlighted: np.ndarray       # (3,) the units drawn in colour: shortest, median and longest horizon


def ring_summary(u_radius, u_phase, r_min, r_max, T, shown_units=3):
    """Eigenvalues, horizons and impulse responses of the ring [r_min, r_max] for fixed draws."""
    eigenvalues = lru_eigenvalues(*ring_parameters(u_radius, u_phase, r_min, r_max))
    response = impulse_response(eigenvalues, T)
    alive = np.abs(response[-1]) > 0.01 * np.abs(response[0])
    horizons = memory_horizon(eigenvalues)
    order = np.argsort(horizons)
    highlighted = order[np.linspace(0, order.size - 1, shown_units).round().astype(int)]
    return RingSummary(eigenvalues, horizons, response, float(np.mean(alive)), highlighted)


def describe(summary, r_min, r_max, T):
    """One line of numbers for the figure's title."""
    return (f"ring {r_min:.3f} ≤ |λ| ≤ {r_max:.3f}: horizons {np.min(summary.horizons):.0f} to "
            f"{np.max(summary.horizons):.0f} steps; {summary.alive_at_T:.0%} of the units keep > 1% at T = {T}")


class RingPanels:
    """The two panels: impulse responses against t, eigenvalues in the unit disk."""

    def __init__(self, ax_response, ax_disk):
        self.ax_response, self.ax_disk = ax_response, ax_disk

    def show(self, summary, r_min, r_max, T):
        ax, disk = self.ax_response, self.ax_disk
        ax.clear()
        disk.clear()
        t = np.arange(T + 1)
        magnitude = np.abs(summary.response)
        ax.semilogy(t, np.maximum(magnitude, 1e-12), color="0.75", lw=0.6)
        picks = summary.highlighted
        for unit, colour in zip(picks, ("C0", "C1", "C3")):
            ax.semilogy(t, np.maximum(magnitude[:, unit], 1e-12), color=colour, lw=2,
                        label=f"|γλ^t|, horizon {summary.horizons[unit]:.0f} steps")
            # dotted: the unit's horizon, where its response has fallen to 1/e of its start
            ax.axvline(summary.horizons[unit], color=colour, ls=":", lw=1)
        ax.set_ylim(max(1e-6, magnitude.min() * 0.5), 1.2)
        ax.set_xlim(0, T)
        ax.set_xlabel("steps t after an impulse")
        ax.set_ylabel("|impulse response| (log)")
        ax.legend(loc="lower left", fontsize=8)
        ax.set_title(describe(summary, r_min, r_max, T), fontsize=9)
        theta = np.linspace(0, 2 * np.pi, 200)
        disk.plot(np.cos(theta), np.sin(theta), color="k", lw=1)
        for radius in (r_min, r_max):
            disk.plot(radius * np.cos(theta), radius * np.sin(theta), color="C2", ls="--", lw=0.8)
        disk.plot(summary.eigenvalues.real, summary.eigenvalues.imag, "o", ms=3, color="C0")
        disk.plot(summary.eigenvalues[picks].real, summary.eigenvalues[picks].imag, "o", ms=7,
                  mfc="none", color="k")
        disk.set_aspect("equal")
        disk.set_xlim(-1.1, 1.1)
        disk.set_ylim(-1.1, 1.1)
        disk.set_xlabel("Re λ")
        disk.set_ylabel("Im λ")
        disk.set_title("eigenvalues (dashed: the ring)", fontsize=9)


def _draws(H, seed):
    rng = np.random.default_rng(seed)
    return rng.random(H), rng.random(H)


def plot_lru(r_min=DEFAULTS["r_min"], r_max=DEFAULTS["r_max"], T=DEFAULTS["T"], H=64, seed=0):
    """The explorer's figure for one setting, as a pyplot figure; returns (fig, RingSummary)."""
    import matplotlib.pyplot as plt

    fig, (ax_response, ax_disk) = plt.subplots(1, 2, figsize=(11, 4.2), width_ratios=[1.7, 1],
                                               layout="constrained")
    summary = ring_summary(*_draws(H, seed), r_min, r_max, T)
    RingPanels(ax_response, ax_disk).show(summary, r_min, r_max, T)
    return fig, summary


class LRUExplorer:
    """Sliders r_min, r_max and T; the panels of ``plot_lru`` redrawn for every change.

    The H eigenvalues come from fixed uniform draws (``seed``), so moving a slider moves each
    eigenvalue smoothly. If r_min is moved above r_max, the ring is taken between the two.
    ``current`` is the last RingSummary; ``controls`` maps each setting to its slider.
    """

    def __init__(self, H=64, seed=0, dpi=None, **settings):
        import ipywidgets as widgets
        import matplotlib
        from matplotlib.figure import Figure

        unknown = set(settings) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; the explorer has {sorted(DEFAULTS)}")
        values = {**DEFAULTS, **settings}
        self.draws = _draws(H, seed)
        self.dpi = matplotlib.rcParams["figure.dpi"] if dpi is None else dpi
        style, layout = {"description_width": "110px"}, widgets.Layout(width="420px")
        self.controls = {
            "r_min": widgets.FloatSlider(value=values["r_min"], min=0.0, max=0.999, step=0.001,
                                         description="r_min", readout_format=".3f", style=style,
                                         layout=layout, continuous_update=False),
            "r_max": widgets.FloatSlider(value=values["r_max"], min=0.0, max=0.9999, step=0.0001,
                                         description="r_max", readout_format=".4f", style=style,
                                         layout=layout, continuous_update=False),
            "T": widgets.IntSlider(value=values["T"], min=10, max=2000, step=10, description="T (steps)",
                                   style=style, layout=layout, continuous_update=False),
        }
        self.figure = Figure(figsize=(11, 4.2))
        self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.88, wspace=0.22)
        ax_response, ax_disk = self.figure.subplots(1, 2, width_ratios=[1.7, 1])
        self.panels = RingPanels(ax_response, ax_disk)
        self.image = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start", max_width="100%"))
        self.widget = widgets.VBox([widgets.HBox([self.controls["r_min"], self.controls["r_max"]]),
                                    self.controls["T"], self.image])
        self.current = None
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    def settings(self):
        """r_min <= r_max (the sliders' values in order) and T."""
        low, high = sorted((self.controls["r_min"].value, self.controls["r_max"].value))
        return {"r_min": low, "r_max": high, "T": self.controls["T"].value}

    def _on_change(self, change):
        self.update()

    def update(self):
        """Recompute the summary for the current settings and redraw the image."""
        s = self.settings()
        self.current = ring_summary(*self.draws, s["r_min"], s["r_max"], s["T"])
        self.panels.show(self.current, s["r_min"], s["r_max"], s["T"])
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.dpi)
        self.image.value = buffer.getvalue()

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        # Where widgets cannot run (a static page, nbconvert), the current figure is shown.
        bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        return bundle
