"""The attention explorer: a rejected input clears the previous heatmap; images as sharp as inline plots."""
import io

import matplotlib
import numpy as np
from matplotlib import image as mpimg

from rnn_helpers.lessons.attention_explorer import AttentionExplorer
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
    assert explorer.prediction is None and explorer.alpha is None
    assert "image/png" not in explorer._repr_mimebundle_()
    explorer.controls["text"].value = ""
    assert explorer.message.value == "type a date" and explorer.image.value == b""
    explorer.controls["text"].value = "1979/05/03"
    assert explorer.image.value and explorer.alpha.shape[1] == len("1979/05/03")
    assert explorer.prediction in explorer.message.value


def test_the_heatmap_is_rendered_at_the_inline_plots_dpi():
    explorer = small_explorer()
    assert explorer.dpi == matplotlib.rcParams["figure.dpi"]
    height, width = mpimg.imread(io.BytesIO(explorer.image.value)).shape[:2]
    fig_width, fig_height = explorer.figure.get_size_inches()
    assert (width, height) == (round(fig_width * explorer.dpi), round(fig_height * explorer.dpi))
