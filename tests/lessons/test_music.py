"""rnn_helpers.lessons.music: parsing ABC with music21, synthesis, piano roll."""
import matplotlib
import numpy as np
import pytest

from rnn_helpers.lessons.music import SAMPLE_RATE, Note, draw_piano_roll, parse_tune, synthesise

matplotlib.use("Agg")


def test_parse_tune_reads_pitches_durations_and_bars():
    tune = parse_tune("M:2/4\nL:1/8\nK:C\nC2 | CDEF | G4 | z2G2 | c4 |]")
    assert tune.notes[:3] == [Note(60, 1.0), Note(60, 0.5), Note(62, 0.5)]
    assert Note(None, 1.0) in tune.notes                       # the rest z2
    assert tune.notes[-1] == Note(72, 2.0)
    assert (tune.bars_in_metre, tune.inner_bars) == (3, 3)     # the pick-up and the last bar excluded
    short = parse_tune("M:2/4\nL:1/8\nK:C\nC2 | CDE | G4 | c4 |]")
    assert (short.bars_in_metre, short.inner_bars) == (1, 2)


def test_parse_tune_raises_on_text_without_notes():
    with pytest.raises(ValueError, match="no note"):
        parse_tune("M:2/4\nL:1/8\nK:C\n| | |")
    with pytest.raises(ValueError, match="abc should be a string"):
        parse_tune(None)


def test_synthesise_has_the_length_and_the_pitch_of_the_notes():
    wave = synthesise([Note(69, 1.0), Note(None, 1.0)], tempo=60)
    assert wave.dtype == np.float32 and len(wave) == 2 * SAMPLE_RATE
    assert np.abs(wave).max() == pytest.approx(1.0)
    assert np.all(wave[SAMPLE_RATE:] == 0)                      # the rest is silent
    spectrum = np.abs(np.fft.rfft(wave[:SAMPLE_RATE]))
    assert np.argmax(spectrum) == 440                           # 1 s window: bin k is k Hz
    with pytest.raises(ValueError, match="tempo and rate should be positive"):
        synthesise([Note(60, 1.0)], tempo=0)


def test_piano_roll_draws_one_bar_per_note():
    ax = draw_piano_roll([Note(60, 1.0), Note(None, 0.5), Note(64, 2.0)], title="t")
    bars = ax.collections
    assert len(bars) == 2
    assert ax.get_xlim() == (0.0, 3.5)
    matplotlib.pyplot.close(ax.figure)
