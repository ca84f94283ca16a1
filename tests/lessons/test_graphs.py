"""Tests of rnn_helpers.lessons.graphs: the drawings hold the nodes and labelled arrows they should."""
from collections import Counter

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnn_helpers.lessons import graphs  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def gids(ax, prefix):
    """Count the artists of ax whose gid starts with prefix, by the rest of the gid."""
    artists = list(ax.patches) + list(ax.texts) + list(ax.lines)
    return Counter(a.get_gid()[len(prefix):] for a in artists
                   if a.get_gid() and a.get_gid().startswith(prefix))


def texts(ax, kind):
    return sorted(t.get_text() for t in ax.texts if t.get_gid() == f"label:{kind}")


def test_folded_graph_has_one_cell_with_a_delayed_self_loop():
    ax = graphs.draw_folded()
    assert isinstance(ax.figure, matplotlib.figure.Figure)
    assert gids(ax, "node:") == {"input": 1, "state": 1, "output": 1}
    assert gids(ax, "edge:") == {"U": 1, "W": 1, "V": 1}
    assert gids(ax, "param:") == {"U": 1, "W": 1, "V": 1}
    assert gids(ax, "delay") == {"": 1}
    assert texts(ax, "state") == ["$h_t$"] and texts(ax, "input") == ["$x_t$"]
    assert texts(ax, "output") == ["$o_t$"]


@pytest.mark.parametrize("T", [1, 3, 7])
def test_unrolled_graph_shares_U_W_V_on_every_step(T):
    ax = graphs.draw_unrolled(T)
    assert gids(ax, "node:") == {"initial": 1, "input": T, "state": T, "output": T}
    assert gids(ax, "param:") == {"U": T, "W": T, "V": T}
    assert gids(ax, "edge:") == {"U": T, "W": T, "V": T}
    assert texts(ax, "state") == sorted(f"$h_{{{t}}}$" for t in range(1, T + 1))
    assert texts(ax, "initial") == ["$h_0$"]
    # one column per step, in time order from left to right
    xs = [p.center[0] for p in ax.patches if p.get_gid() == "node:state"]
    assert np.all(np.diff(xs) > 0)


def test_numpy_integer_T_is_accepted():
    ax = graphs.draw_unrolled(np.int64(2))
    assert gids(ax, "node:")["state"] == 2


def test_output_to_hidden_feeds_the_previous_output_back():
    T = 5
    ax = graphs.draw_unrolled(T, "output_to_hidden")
    assert gids(ax, "node:") == {"input": T, "state": T, "output": T}
    assert gids(ax, "param:") == {"U": T, "W": T - 1, "V": T}


def test_teacher_forcing_feeds_the_previous_target_and_compares_outputs_with_targets():
    T = 4
    ax = graphs.draw_unrolled(T, "output_to_hidden", teacher_forcing=True)
    assert gids(ax, "node:") == {"input": T, "state": T, "output": T, "target": T}
    assert gids(ax, "param:") == {"U": T, "W": T - 1, "V": T}
    assert gids(ax, "compare") == {"": T}
    assert "teacher forcing" in ax.get_title()


def test_single_output_pattern_has_one_output_at_the_end():
    T = 6
    ax = graphs.draw_unrolled(T, "single_output")
    assert gids(ax, "node:") == {"initial": 1, "input": T, "state": T, "output": 1}
    assert gids(ax, "param:") == {"U": T, "W": T, "V": 1}
    assert texts(ax, "output") == [f"$o_{{{T}}}$"]


@pytest.mark.parametrize("kind, T_in, T_out, expected", [
    ("one_to_many", None, None, {"input": 1, "state": 4, "output": 4}),
    ("one_to_many", 1, 6, {"input": 1, "state": 6, "output": 6}),
    ("many_to_one", 5, None, {"input": 5, "state": 5, "output": 1}),
    ("many_to_many_sync", 3, 3, {"input": 3, "state": 3, "output": 3}),
    ("many_to_many_async", 4, 2, {"input": 4, "state": 4, "context": 1, "decoder": 2, "output": 2}),
])
def test_mappings_have_the_right_number_of_nodes(kind, T_in, T_out, expected):
    ax = graphs.draw_mapping(kind, T_in=T_in, T_out=T_out)
    assert gids(ax, "node:") == expected
    assert not gids(ax, "param:"), "mapping drawings have unlabelled arrows"


def test_encoder_decoder_feeds_each_output_into_the_next_decoder_step():
    ax = graphs.draw_mapping("many_to_many_async", T_in=3, T_out=4)
    dashed = [p for p in ax.patches if p.get_gid() == "edge:" and p.get_linestyle() == "--"]
    assert len(dashed) == 3
    # encoder chain 2 + x->h 3 + h_T->c 1 + c->s_1 1 + s chain 3 + s->y 4 + feedback 3
    assert gids(ax, "edge:") == {"": 17}


def test_drawing_into_a_given_axes():
    before = set(plt.get_fignums())      # figures another test of this worker left open
    fig, axes = plt.subplots(1, 2)
    assert graphs.draw_folded(ax=axes[0]) is axes[0]
    assert graphs.draw_unrolled(3, ax=axes[1]) is axes[1]
    assert set(plt.get_fignums()) - before == {fig.number}, "drawing into given axes opened a figure"


@pytest.mark.parametrize("T", [0, -2, 2.0, "3", True, None])
def test_bad_T_raises(T):
    with pytest.raises(ValueError, match="T should be a positive integer"):
        graphs.draw_unrolled(T)


def test_bad_choices_raise():
    with pytest.raises(ValueError, match="pattern should be one of"):
        graphs.draw_unrolled(3, "hidden-to-hidden")
    with pytest.raises(ValueError, match="teacher_forcing"):
        graphs.draw_unrolled(3, "hidden_to_hidden", teacher_forcing=True)
    with pytest.raises(ValueError, match="kind should be one of"):
        graphs.draw_mapping("many_to_many")
    with pytest.raises(ValueError, match="ax should be a matplotlib Axes"):
        graphs.draw_folded(ax="left")


@pytest.mark.parametrize("kind, lengths, name", [
    ("one_to_many", {"T_in": 2}, "T_in should be 1"),
    ("many_to_one", {"T_out": 3}, "T_out should be 1"),
    ("many_to_many_sync", {"T_in": 3, "T_out": 4}, "T_in and T_out should be equal"),
    ("many_to_many_async", {"T_in": 0}, "T_in should be a positive integer"),
    ("many_to_many_async", {"T_out": 1.5}, "T_out should be a positive integer"),
])
def test_lengths_that_do_not_fit_the_mapping_raise(kind, lengths, name):
    with pytest.raises(ValueError, match=name):
        graphs.draw_mapping(kind, **lengths)


def test_no_figure_is_left_open_after_an_error():
    before = len(plt.get_fignums())
    with pytest.raises(ValueError):
        graphs.draw_unrolled(0)
    assert len(plt.get_fignums()) == before
