"""An interactive attention explorer: type or pick a date, see the prediction and where the
decoder looked.

    from rnn_helpers.lessons.attention_explorer import AttentionExplorer, plot_attention
    explorer = AttentionExplorer(model, examples)    # the last expression of a cell shows it
    plot_attention(ax, source, prediction, alpha)    # the same heatmap on a static axis

The text box takes a date in any format (or one of ``examples`` from its drop-down list).
Each change runs the model's greedy decoding on that string and draws the attention
weights: one row per output character, one column per input character, darker = more
weight. Text the model cannot read as a date is reported in the message line, not raised
(``input_problem`` says what is wrong with it), and the picture is then hidden (no stale
heatmap under the message, no empty image).

The figure is a plain matplotlib ``Figure`` rendered to PNG into an ``ipywidgets.Image``,
so it works in JupyterLab 4 with ipywidgets 8 without an interactive backend; the
displayed bundle also carries that PNG, so a notebook executed without a live kernel (or
viewed statically) still shows the last heatmap. For tests
the explorer keeps ``prediction``, ``alpha`` (L, S) and the ``controls``; after a rejected
input ``prediction`` and ``alpha`` are None and the image is empty.
"""
import base64
import html
import io
import re

import ipywidgets as widgets
import matplotlib
import numpy as np
from matplotlib.figure import Figure

from ..tasks.dates import END, MONTHS, SOURCE_VOCAB, TARGET_VOCAB, WEEKDAYS
from ..training.seq2seq import predict

#: The longest input the explorer reads (the longest date of the data set has 29 characters).
MAX_CHARACTERS = 40
#: The words a date of the data set is written with, in lower case: months and weekdays
#: (whole or their first three letters), the ordinal suffixes and "the", "of".
DATE_WORDS = frozenset(name.lower()[:n] for name in MONTHS + WEEKDAYS for n in (3, None)) | {
    "st", "nd", "rd", "th", "the", "of"}


def input_problem(text, src_vocab=SOURCE_VOCAB):
    """What keeps ``text`` from being read as a date, in one sentence, or None if it can be.

    A readable date has at most ``MAX_CHARACTERS`` characters of ``src_vocab``, its words
    among ``DATE_WORDS`` (any case), its year in four digits and its day in one or two.
    """
    if not text.strip():
        return "type a date"
    if len(text) > MAX_CHARACTERS:
        return f"{len(text)} characters is too long: type at most {MAX_CHARACTERS}"
    unknown = sorted(set(text) - set(src_vocab.index))
    if unknown:
        return (f"cannot read the characters {' '.join(repr(c) for c in unknown)}: "
                "use letters, digits, space , - . /")
    words = [w for w in re.findall(r"[A-Za-z]+", text) if w.lower() not in DATE_WORDS]
    if words:
        return (f"{words[0]!r} is not a word of a date (a month or a weekday, whole or its first three "
                "letters, or the, of, st, nd, rd, th): the day and the year are written in digits")
    numbers = re.findall(r"[0-9]+", text)
    if not any(len(n) == 4 for n in numbers) or not any(len(n) <= 2 for n in numbers):
        return "a date needs its year in four digits and its day in one or two digits"
    return None


def plot_attention(ax, source, prediction, alpha, title=None):
    """Heatmap of alpha (L, S) on ``ax``: rows = output characters (then the end token),
    columns = the characters of ``source``."""
    L = alpha.shape[0]
    rows = list(prediction)[:L] + [END] * max(0, L - len(prediction))
    ax.imshow(alpha, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(len(source)))
    ax.set_xticklabels([c if c != " " else "␣" for c in source], fontsize=8)
    ax.set_yticks(range(L))
    ax.set_yticklabels(rows, fontsize=8)
    ax.set_xlabel("input character")
    ax.set_ylabel("output character")
    if title is not None:
        ax.set_title(title, fontsize=9)


class AttentionExplorer:
    """A text box with examples, the model's prediction and its attention heatmap."""

    def __init__(self, model, examples, src_vocab=SOURCE_VOCAB, tgt_vocab=TARGET_VOCAB,
                 value=None, dpi=None):
        if model.attention is None:
            raise ValueError("model should be a Seq2Seq with attention (model.attention is None)")
        examples = list(examples)
        if not examples:
            raise ValueError("examples should hold at least one string")
        self.model, self.src_vocab, self.tgt_vocab = model, src_vocab, tgt_vocab
        self.dpi = matplotlib.rcParams["figure.dpi"] if dpi is None else dpi
        self.controls = {
            "text": widgets.Combobox(value=value or examples[0], options=examples, ensure_option=False,
                                     description="input", placeholder="type a date",
                                     layout=widgets.Layout(width="420px"), continuous_update=False),
        }
        self.message = widgets.HTML(layout=widgets.Layout(max_width="100%"))
        # Shown at its own pixel size (never stretched to the cell's width, which would blur it).
        self.image = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start", max_width="100%"))
        self.widget = widgets.VBox([self.controls["text"], self.message, self.image])
        self.figure = Figure(figsize=(8, 3.6))
        self.figure.subplots_adjust(left=0.08, right=0.98, bottom=0.17, top=0.9)
        self.ax = self.figure.add_subplot()
        self.prediction, self.alpha = None, None
        self.controls["text"].observe(self._on_change, names="value")
        self.update()

    def _on_change(self, change):
        self.update()

    def update(self):
        """Predict the current text and redraw (or explain what is wrong with the text)."""
        text = self.controls["text"].value
        problem = input_problem(text, self.src_vocab)
        if problem is not None:
            self.message.value = html.escape(problem)
            self.prediction, self.alpha = None, None
            self.image.value = b""
            self.image.layout.display = "none"          # an empty image would show as a broken one
            return
        predictions, alphas = predict(self.model, [text], self.src_vocab, self.tgt_vocab)
        self.prediction = predictions[0]
        self.alpha = alphas[:, 0, :]
        self.message.value = f"<b>{html.escape(text)}</b> &rarr; <b>{html.escape(self.prediction)}</b>"
        self.ax.clear()
        plot_attention(self.ax, text, self.prediction, self.alpha)
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=self.dpi)
        self.image.value = buffer.getvalue()
        self.image.layout.display = None

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, with the current heatmap as a PNG for viewers without widgets."""
        bundle = dict(self.widget._repr_mimebundle_(**kwargs))
        if self.image.value:
            bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        return bundle
