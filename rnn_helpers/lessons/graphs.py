"""Drawings of recurrent networks as computational graphs, made with matplotlib.

    draw_folded()                         the cell with its self-loop (x_t, h_t, o_t; U, W, V)
    draw_unrolled(T, pattern=...)         the graph unrolled over T steps, for the three
                                          design patterns in PATTERNS
    draw_mapping(kind, T_in=, T_out=)     the input/output shapes in MAPPINGS

Every function draws into ``ax`` (a new figure when ``ax`` is None) and returns the Axes
(its figure is ``ax.figure``). Nodes are circles coloured by kind (input, state, output,
...); arrows carrying a parameter matrix are labelled with its name, and the same name on
every step is what parameter sharing looks like.

The artists carry a gid, so tests and notebooks can find them:

* node circles ``"node:<kind>"`` and their text ``"label:<kind>"``, kind in ``NODE_KINDS``;
* arrows ``"edge:<param>"`` (``"edge:"`` when unlabelled) and their text ``"param:<param>"``;
* the black square marking the one-step delay on a self-loop ``"delay"``;
* the dotted line comparing an output with its target (teacher forcing) ``"compare"``.

A drawing is first described (nodes and edges in data coordinates, one column per time
step) and then rendered, so a new variant (bidirectional, stacked layers) only needs a
new description.
"""
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Circle, FancyArrowPatch, Rectangle
from matplotlib.path import Path

#: kind -> (fill colour, border colour)
NODE_KINDS = {
    "input": ("#d7ecd4", "#3b7d3b"),
    "initial": ("#ffffff", "#2f5f9e"),
    "state": ("#d5e3f6", "#2f5f9e"),
    "output": ("#fbe0c6", "#b8621b"),
    "target": ("#e8e8e8", "#555555"),
    "context": ("#e7d9f2", "#6a3d9a"),
    "decoder": ("#f6d5e3", "#a3355f"),
}

#: pattern -> description, for draw_unrolled
PATTERNS = {
    "hidden_to_hidden": "hidden-to-hidden recurrence, an output at every step",
    "output_to_hidden": "output-to-hidden recurrence, an output at every step",
    "single_output": "hidden-to-hidden recurrence, a single output at the end",
}

#: kind -> title, for draw_mapping
MAPPINGS = {
    "one_to_many": "one-to-many\n(image → caption, seed → melody)",
    "many_to_one": "many-to-one\n(review → sentiment)",
    "many_to_many_sync": "many-to-many, synchronous\n(word → part-of-speech tag)",
    "many_to_many_async": "many-to-many, asynchronous: encoder-decoder\n(sentence → translation)",
}

STEP_X, STEP_Y = 2.0, 1.7   # distance between time steps (columns) and between rows
RADIUS = 0.4                 # node radius
ROWS = {"input": 0, "state": 1, "output": 2, "target": 3}
INCH_PER_UNIT = 0.6


@dataclass
class _Node:
    x: float
    y: float
    label: str
    kind: str


@dataclass
class _Edge:
    src: str
    dst: str
    param: str = ""
    dashed: bool = False


@dataclass
class _Diagram:
    """Nodes (keyed by name) and edges, in data coordinates, then rendered at once."""
    nodes: dict = field(default_factory=dict)
    edges: list = field(default_factory=list)
    loops: list = field(default_factory=list)       # (node key, param) self-loops
    comparisons: list = field(default_factory=list)  # (key, key) dotted lines

    def node(self, key, column, row, label, kind):
        self.nodes[key] = _Node(column * STEP_X, ROWS[row] * STEP_Y, label, kind)

    def edge(self, src, dst, param="", dashed=False):
        self.edges.append(_Edge(src, dst, param, dashed))

    def render(self, ax, title):
        xs = [n.x for n in self.nodes.values()]
        ys = [n.y for n in self.nodes.values()]
        margin = RADIUS + 0.35
        x_min = min(xs) - margin - (1.3 if self.loops else 0.0)
        x_max, y_min, y_max = max(xs) + margin, min(ys) - margin, max(ys) + margin
        if ax is None:
            longest_title_line = max((len(line) for line in title.splitlines()), default=0)
            width = max(2.6, (x_max - x_min) * INCH_PER_UNIT, 0.085 * longest_title_line)
            height = (y_max - y_min) * INCH_PER_UNIT + 0.22 * (title.count("\n") + 1 if title else 0)
            _, ax = plt.subplots(figsize=(width, height))
        for edge in self.edges:
            _draw_edge(ax, self.nodes[edge.src], self.nodes[edge.dst], edge.param, edge.dashed)
        for key, param in self.loops:
            _draw_self_loop(ax, self.nodes[key], param)
        for a, b in self.comparisons:
            _draw_comparison(ax, self.nodes[a], self.nodes[b])
        for node in self.nodes.values():
            _draw_node(ax, node)
        ax.set_xlim(x_min, x_max)
        ax.set_ylim(y_min, y_max)
        ax.set_aspect("equal")
        ax.set_axis_off()
        if title:
            ax.set_title(title, fontsize=11)
        return ax


def _draw_node(ax, node):
    fill, border = NODE_KINDS[node.kind]
    style = "--" if node.kind == "initial" else "-"
    ax.add_patch(Circle((node.x, node.y), RADIUS, facecolor=fill, edgecolor=border,
                        linewidth=1.6, linestyle=style, zorder=3, gid=f"node:{node.kind}"))
    ax.text(node.x, node.y, node.label, ha="center", va="center", fontsize=12, zorder=4,
            gid=f"label:{node.kind}")


def _param_label(ax, x, y, param):
    ax.text(x, y, f"${param}$", ha="center", va="center", fontsize=11, zorder=5,
            color="#222222", gid=f"param:{param}",
            bbox={"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none"})


def _draw_edge(ax, src, dst, param, dashed):
    start, end = np.array([src.x, src.y]), np.array([dst.x, dst.y])
    direction = (end - start) / np.linalg.norm(end - start)
    tail, head = start + RADIUS * direction, end - RADIUS * direction
    ax.add_patch(FancyArrowPatch(tail, head, arrowstyle="-|>", mutation_scale=13,
                                 linewidth=1.3, color="#333333", zorder=2,
                                 linestyle="--" if dashed else "-", gid=f"edge:{param}"))
    if param:
        # beside the middle of the arrow, on its right (below a rightward arrow)
        normal = np.array([direction[1], -direction[0]])
        x, y = (tail + head) / 2 + 0.2 * normal
        _param_label(ax, x, y, param)


def _draw_self_loop(ax, node, param):
    """A loop leaving the node on the left and coming back into it, with a black square
    marking the one-step delay: the value used at step t is the one from step t - 1."""
    angle = np.deg2rad(40)
    dx, dy = RADIUS * np.cos(angle), RADIUS * np.sin(angle)
    reach, spread = 1.6, 1.1
    path = Path([(node.x - dx, node.y + dy), (node.x - reach, node.y + spread),
                 (node.x - reach, node.y - spread), (node.x - dx, node.y - dy)],
                [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4])
    ax.add_patch(FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=13, linewidth=1.3,
                                 color="#333333", zorder=2, gid=f"edge:{param}"))
    far_x = node.x - 0.75 * reach - 0.25 * dx   # the curve's midpoint
    ax.add_patch(Rectangle((far_x - 0.09, node.y - 0.09), 0.18, 0.18, color="black", zorder=3,
                           gid="delay"))
    _param_label(ax, far_x - 0.35, node.y, param)


def _draw_comparison(ax, a, b):
    ax.plot([a.x, b.x], [a.y + RADIUS, b.y - RADIUS], linestyle=":", color="#777777",
            linewidth=1.5, zorder=1, gid="compare")


def _check_steps(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} should be a positive integer (a number of time steps), "
                         f"but got {value!r}")
    return int(value)


def _check_choice(name, value, choices):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} should be one of {', '.join(map(repr, choices))}, but got {value!r}")
    return value


def _check_ax(ax):
    if ax is not None and not isinstance(ax, Axes):
        raise ValueError(f"ax should be a matplotlib Axes or None, but got {type(ax).__name__}")


def draw_folded(ax=None):
    """The folded graph of an Elman RNN: x_t -U-> h_t -V-> o_t and the loop h -W-> h.

    Returns the Axes (3 nodes, 3 labelled arrows, 1 delay square).
    """
    _check_ax(ax)
    d = _Diagram()
    d.node("x", 0, "input", "$x_t$", "input")
    d.node("h", 0, "state", "$h_t$", "state")
    d.node("o", 0, "output", "$o_t$", "output")
    d.edge("x", "h", "U")
    d.edge("h", "o", "V")
    d.loops.append(("h", "W"))
    return d.render(ax, "folded graph")


def draw_unrolled(T=4, pattern="hidden_to_hidden", *, teacher_forcing=False, ax=None):
    """The graph unrolled over T steps for one of the three design patterns (PATTERNS).

    * ``"hidden_to_hidden"``: h_0 plus, at every step, x_t -U-> h_t -V-> o_t and
      h_{t-1} -W-> h_t (3T labelled arrows, 3T + 1 nodes).
    * ``"output_to_hidden"``: the recurrence goes from the output o_{t-1} to h_t through W
      (h_1 starts from a zero vector, not drawn). With ``teacher_forcing=True`` the
      training targets y_t are drawn above the outputs and y_{t-1} feeds h_t instead.
    * ``"single_output"``: like hidden_to_hidden with a single output o_T at the end.

    The same letters U, W, V on every step are the shared parameters. Returns the Axes.
    """
    T = _check_steps("T", T)
    _check_choice("pattern", pattern, tuple(PATTERNS))
    if teacher_forcing and pattern != "output_to_hidden":
        raise ValueError("teacher_forcing applies only to pattern='output_to_hidden', "
                         f"but pattern is {pattern!r}")
    _check_ax(ax)
    d = _Diagram()
    if pattern != "output_to_hidden":
        d.node("h0", 0, "state", "$h_0$", "initial")
    for t in range(1, T + 1):
        d.node(f"x{t}", t, "input", f"$x_{{{t}}}$", "input")
        d.node(f"h{t}", t, "state", f"$h_{{{t}}}$", "state")
        d.edge(f"x{t}", f"h{t}", "U")
        if pattern != "single_output" or t == T:
            d.node(f"o{t}", t, "output", f"$o_{{{t}}}$", "output")
            d.edge(f"h{t}", f"o{t}", "V")
        if teacher_forcing:
            d.node(f"y{t}", t, "target", f"$y_{{{t}}}$", "target")
            d.comparisons.append((f"o{t}", f"y{t}"))
        if pattern != "output_to_hidden":
            d.edge(f"h{t - 1}", f"h{t}", "W")
        elif t > 1:
            d.edge(f"y{t - 1}" if teacher_forcing else f"o{t - 1}", f"h{t}", "W")
    title = PATTERNS[pattern] + ("\ntrained with teacher forcing" if teacher_forcing else "")
    return d.render(ax, title)


def _mapping_lengths(kind, T_in, T_out):
    defaults = {"one_to_many": (1, 4), "many_to_one": (4, 1),
                "many_to_many_sync": (4, 4), "many_to_many_async": (3, 3)}[kind]
    T_in = defaults[0] if T_in is None else _check_steps("T_in", T_in)
    T_out = defaults[1] if T_out is None else _check_steps("T_out", T_out)
    if kind == "one_to_many" and T_in != 1:
        raise ValueError(f"T_in should be 1 for kind='one_to_many' (a single input), but got {T_in}")
    if kind == "many_to_one" and T_out != 1:
        raise ValueError(f"T_out should be 1 for kind='many_to_one' (a single output), but got {T_out}")
    if kind == "many_to_many_sync" and T_in != T_out:
        raise ValueError("T_in and T_out should be equal for kind='many_to_many_sync' (one output "
                         f"per input), but got T_in={T_in}, T_out={T_out}")
    return T_in, T_out


def draw_mapping(kind, *, T_in=None, T_out=None, ax=None):
    """How input and output sequences line up, for one of the kinds in MAPPINGS.

    T_in input steps and T_out output steps (defaults: 1 -> 4, 4 -> 1, 4 -> 4, 3 -> 3).
    ``"many_to_many_async"`` is the encoder-decoder: the encoder states h_1..h_{T_in}
    end in a context vector c, which starts the decoder states s_1..s_{T_out}; each
    output ŷ_{t-1} is fed back into s_t (dashed). Arrows are unlabelled. Returns the Axes.
    """
    _check_choice("kind", kind, tuple(MAPPINGS))
    T_in, T_out = _mapping_lengths(kind, T_in, T_out)
    _check_ax(ax)
    d = _Diagram()
    if kind != "many_to_many_async":
        steps = max(T_in, T_out)
        for t in range(1, steps + 1):
            d.node(f"h{t}", t, "state", f"$h_{{{t}}}$", "state")
            if t > 1:
                d.edge(f"h{t - 1}", f"h{t}")
            if kind != "one_to_many" or t == 1:
                d.node(f"x{t}", t, "input", f"$x_{{{t}}}$", "input")
                d.edge(f"x{t}", f"h{t}")
            if kind != "many_to_one" or t == steps:
                d.node(f"y{t}", t, "output", rf"$\hat y_{{{t}}}$", "output")
                d.edge(f"h{t}", f"y{t}")
        return d.render(ax, MAPPINGS[kind])
    for t in range(1, T_in + 1):
        d.node(f"x{t}", t, "input", f"$x_{{{t}}}$", "input")
        d.node(f"h{t}", t, "state", f"$h_{{{t}}}$", "state")
        d.edge(f"x{t}", f"h{t}")
        if t > 1:
            d.edge(f"h{t - 1}", f"h{t}")
    d.node("c", T_in + 1, "state", "$c$", "context")
    d.edge(f"h{T_in}", "c")
    previous = "c"
    for t in range(1, T_out + 1):
        column = T_in + 1 + t
        d.node(f"s{t}", column, "state", f"$s_{{{t}}}$", "decoder")
        d.node(f"y{t}", column, "output", rf"$\hat y_{{{t}}}$", "output")
        d.edge(previous, f"s{t}")
        d.edge(f"s{t}", f"y{t}")
        if t > 1:
            d.edge(f"y{t - 1}", f"s{t}", dashed=True)
        previous = f"s{t}"
    return d.render(ax, MAPPINGS[kind])
