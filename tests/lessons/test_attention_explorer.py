"""The attention explorer: inputs checked before the model reads them, a rejected input hides the
previous heatmap (no empty image either); images as sharp as inline plots."""
import io

import matplotlib
import numpy as np
from matplotlib import image as mpimg

import pytest

from rnn_helpers.lessons.attention_explorer import MAX_CHARACTERS, AttentionExplorer, input_problem
from rnn_helpers.tasks import dates
from rnn_helpers.training import seq2seq


def small_explorer(**kwargs):
    tv = dates.TARGET_VOCAB
    model = seq2seq.Seq2Seq(len(dates.SOURCE_VOCAB), len(tv), 4, 8, attention="additive",
                            start_id=tv.start_id, end_id=tv.end_id, rng=np.random.default_rng(0))
    return AttentionExplorer(model, ["3 May 1979", "1979/05/03"], **kwargs)


def test_a_rejected_input_clears_the_stale_heatmap_and_a_good_one_brings_it_back():
    explorer = small_explorer(dpi=30)
    assert explorer.image.value and explorer.prediction is not None
    explorer.controls["text"].value = "3 May 1979 ✓"
    assert "cannot read" in explorer.message.value and "✓" in explorer.message.value
    assert explorer.image.value == b"", "the heatmap of the previous input is still shown"
    assert explorer.image.layout.display == "none", "an empty image shows as a broken one"
    assert explorer.prediction is None and explorer.alpha is None
    assert "image/png" not in explorer._repr_mimebundle_()
    explorer.controls["text"].value = ""
    assert explorer.message.value == "type a date" and explorer.image.value == b""
    explorer.controls["text"].value = "1979/05/03"
    assert explorer.image.value and explorer.alpha.shape[1] == len("1979/05/03")
    assert explorer.image.layout.display is None
    assert explorer.prediction in explorer.message.value


def test_the_heatmap_is_rendered_at_the_inline_plots_dpi():
    explorer = small_explorer()
    assert explorer.dpi == matplotlib.rcParams["figure.dpi"]
    height, width = mpimg.imread(io.BytesIO(explorer.image.value)).shape[:2]
    fig_width, fig_height = explorer.figure.get_size_inches()
    assert (width, height) == (round(fig_width * explorer.dpi), round(fig_height * explorer.dpi))


@pytest.mark.parametrize("text", [date for date in (dates.format_date(day, fmt) for fmt in dates.FORMATS
                                                    for day in dates.all_days()[::5000])]
                         + ["May the 3rd, 1979", "Monday, May 3, 1979", "3 MAY 1979"])
def test_every_date_of_the_data_set_and_unseen_formats_are_read(text):
    assert input_problem(text) is None


@pytest.mark.parametrize("text, says", [
    ("", "type a date"),
    ("   ", "type a date"),
    ("3 May 1979" + " " * MAX_CHARACTERS, "too long"),
    ("3 May 1979 <b>", "cannot read the characters '<' '>'"),
    ("12/ab/2015", "'ab' is not a word of a date"),
    ("1O79/05/03", "'O' is not a word of a date"),          # the letter O where a digit belongs
    ("hello 3 1979", "'hello' is not a word of a date"),
    ("3 May 79", "year in four digits"),
    ("May 1979", "day in one or two digits"),
])
def test_inputs_that_are_not_dates_get_a_message_saying_why(text, says):
    assert says in input_problem(text)


def test_the_message_shows_a_rejected_input_as_text_not_as_html():
    explorer = small_explorer(dpi=30)
    explorer.controls["text"].value = "1979/05/03 <img src=x>"
    assert "<img" not in explorer.message.value and "&lt;" in explorer.message.value
