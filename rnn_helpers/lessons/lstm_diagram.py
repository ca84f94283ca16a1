"""A drawing of one LSTM cell (matplotlib), for notebook 05.

The cell state runs along the top, touched only by an elementwise product (the forget
gate) and a sum (the gated candidate). Below, h_{t-1} and x_t feed the four blocks
i, f, g, o, which are the four row blocks of U, W and b in ``rnn_helpers.lstm``.
"""
import matplotlib.pyplot as plt
from matplotlib.patches import Circle, Ellipse, FancyBboxPatch

CELL_COLOUR = "#1f77b4"
GATE_COLOUR = "#ff7f0e"
CANDIDATE_COLOUR = "#2ca02c"


def _line(ax, points, colour="black", width=1.5, arrow=False):
    xs, ys = zip(*points)
    if arrow:
        ax.plot(xs[:-1], ys[:-1], color=colour, lw=width, solid_capstyle="round")
        ax.annotate("", xy=points[-1], xytext=points[-2],
                    arrowprops=dict(arrowstyle="-|>", color=colour, lw=width, shrinkA=0, shrinkB=0))
    else:
        ax.plot(xs, ys, color=colour, lw=width, solid_capstyle="round")


def _operator(ax, centre, symbol):
    ax.add_patch(Circle(centre, 0.22, facecolor="white", edgecolor="black", lw=1.5, zorder=3))
    ax.text(*centre, symbol, ha="center", va="center", fontsize=14, zorder=4)


def _block(ax, centre, label, name, colour):
    x, y = centre
    ax.add_patch(FancyBboxPatch((x - 0.4, y - 0.3), 0.8, 0.6, boxstyle="round,pad=0.03",
                                facecolor=colour, edgecolor="black", alpha=0.9, zorder=3))
    ax.text(x, y, label, ha="center", va="center", fontsize=12, color="white", zorder=4)
    ax.text(x - 0.48, y + 0.05, name, ha="right", va="center", fontsize=12, zorder=4)


def draw_lstm_cell(ax=None):
    """Draw one LSTM step on ``ax`` (a new figure if None) and return the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5.2))
    ax.add_patch(FancyBboxPatch((0.9, 0.45), 8.4, 4.95, boxstyle="round,pad=0.1",
                                facecolor="#f4f4f4", edgecolor="grey", zorder=0))
    y_cell, y_bus, y_gate = 4.8, 1.0, 1.9
    x_f, x_i, x_g, x_o, x_plus, x_out = 2.6, 4.3, 5.7, 7.1, 5.0, 8.1

    # The cell state: c_{t-1} -> (x f) -> (+ i*g) -> c_t
    _line(ax, [(0.0, y_cell), (10.2, y_cell)], CELL_COLOUR, 3.5, arrow=True)
    _operator(ax, (x_f, y_cell), "×")
    _operator(ax, (x_plus, y_cell), "+")
    ax.text(0.0, y_cell + 0.25, "$c_{t-1}$", fontsize=14, color=CELL_COLOUR)
    ax.text(9.7, y_cell + 0.25, "$c_t$", fontsize=14, color=CELL_COLOUR)

    # h_{t-1} and x_t join on a bus that feeds the four blocks
    _line(ax, [(0.0, y_bus), (x_o, y_bus)])
    _line(ax, [(1.6, -0.4), (1.6, y_bus)])
    ax.plot([1.6], [y_bus], "o", color="black", ms=5)
    ax.text(0.0, y_bus - 0.35, "$h_{t-1}$", fontsize=14)
    ax.text(1.75, -0.4, "$x_t$", fontsize=14, va="bottom")
    for x in (x_f, x_i, x_g, x_o):
        _line(ax, [(x, y_bus), (x, y_gate - 0.3)], arrow=True)
    _block(ax, (x_f, y_gate), "σ", "$f_t$", GATE_COLOUR)
    _block(ax, (x_i, y_gate), "σ", "$i_t$", GATE_COLOUR)
    _block(ax, (x_g, y_gate), "tanh", "$g_t$", CANDIDATE_COLOUR)
    _block(ax, (x_o, y_gate), "σ", "$o_t$", GATE_COLOUR)

    # forget gate scales the old cell state
    _line(ax, [(x_f, y_gate + 0.3), (x_f, y_cell - 0.22)], arrow=True)
    # input gate times candidate, added to the cell state
    y_mix = 3.5
    _operator(ax, (x_plus, y_mix), "×")
    _line(ax, [(x_i, y_gate + 0.3), (x_i, y_mix), (x_plus - 0.22, y_mix)], arrow=True)
    _line(ax, [(x_g, y_gate + 0.3), (x_g, y_mix), (x_plus + 0.22, y_mix)], arrow=True)
    _line(ax, [(x_plus, y_mix + 0.22), (x_plus, y_cell - 0.22)], arrow=True)
    # output: h_t = o_t * tanh(c_t)
    y_tanh, y_prod = 3.7, 2.6
    ax.add_patch(Ellipse((x_out, y_tanh), 0.9, 0.45, facecolor="white", edgecolor="black",
                         lw=1.5, zorder=3))
    ax.text(x_out, y_tanh, "tanh", ha="center", va="center", fontsize=11, zorder=4)
    ax.plot([x_out], [y_cell], "o", color=CELL_COLOUR, ms=5)
    _line(ax, [(x_out, y_cell), (x_out, y_tanh + 0.23)], CELL_COLOUR, 2, arrow=True)
    _operator(ax, (x_out, y_prod), "×")
    _line(ax, [(x_out, y_tanh - 0.23), (x_out, y_prod + 0.22)], arrow=True)
    _line(ax, [(x_o, y_gate + 0.3), (x_o, y_prod), (x_out - 0.22, y_prod)], arrow=True)
    x_h = 8.8
    _line(ax, [(x_out + 0.22, y_prod), (x_h, y_prod), (x_h, y_bus), (10.2, y_bus)], arrow=True)
    ax.plot([x_h], [y_prod], "o", color="black", ms=5)
    _line(ax, [(x_h, y_prod), (x_h, 5.9)], arrow=True)
    ax.text(9.7, y_bus - 0.35, "$h_t$", fontsize=14)
    ax.text(x_h + 0.12, 5.65, "$h_t$ (output)", fontsize=12)

    ax.text(3.6, -0.45, "$a = U x_t + W h_{t-1} + b$, 4 blocks: $i, f, g, o$", fontsize=10,
            color="dimgrey")
    ax.set_xlim(-0.2, 10.5)
    ax.set_ylim(-0.6, 6.2)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax
