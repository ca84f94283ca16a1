"""Tunes in ABC notation: parse them (music21), play them (numpy synthesis), draw them.

    notes, bars = parse_tune("M:3/4\\nL:1/8\\nK:G\\nG2A2B2 | d6 |]")
    Audio(synthesise(notes), rate=SAMPLE_RATE)     # IPython.display.Audio
    draw_piano_roll(notes)

A note is a ``Note(pitch, quarters)``: a MIDI pitch (60 = middle C, None for a rest) and
a duration in quarter notes.
"""
import warnings
from typing import NamedTuple

import numpy as np

SAMPLE_RATE = 16000


class Note(NamedTuple):
    pitch: object      # MIDI number (int) or None for a rest
    quarters: float    # duration in quarter notes


class ParsedTune(NamedTuple):
    notes: list        # list of Note
    bars_in_metre: int  # inner bars (neither first nor last) whose length equals the metre
    inner_bars: int     # number of inner bars


def parse_tune(abc):
    """Parse one tune (header M:, L:, K: and body) with music21.

    Returns a ParsedTune. Raises ValueError if music21 cannot parse the text or finds no
    note in it, so that a caller can count the tunes that fail.
    """
    if not isinstance(abc, str):
        raise ValueError(f"abc should be a string, but got {type(abc).__name__}")
    import music21

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            score = music21.converter.parse("X:1\n" + abc, format="abc")
        parts = score.parts if hasattr(score, "parts") and len(score.parts) else [score]
        notes = [Note(int(n.pitch.midi) if n.isNote else None, float(n.quarterLength))
                 for n in parts[0].flatten().notesAndRests if n.isNote or n.isRest]
        measures = list(parts[0].getElementsByClass("Measure"))[1:-1]
        in_metre = sum(m.barDuration.quarterLength == m.duration.quarterLength for m in measures)
    except Exception as error:    # music21 raises many types on malformed ABC
        raise ValueError(f"music21 could not parse the tune: {type(error).__name__}: {error}") from None
    if not any(n.pitch is not None for n in notes):
        raise ValueError("the tune holds no note")
    return ParsedTune(notes, int(in_metre), len(measures))


def synthesise(notes, tempo=120, rate=SAMPLE_RATE):
    """A mono waveform (float32 in [-1, 1]) of the notes, at ``tempo`` quarter notes per minute.

    Each note is a sum of three harmonics under a plucked envelope (fast attack,
    exponential decay), so that repeated notes are heard as separate notes.
    """
    if tempo <= 0 or rate <= 0:
        raise ValueError(f"tempo and rate should be positive, but got tempo={tempo!r}, rate={rate!r}")
    seconds_per_quarter = 60.0 / tempo
    pieces = []
    for pitch, quarters in notes:
        n = max(1, int(round(quarters * seconds_per_quarter * rate)))
        t = np.arange(n) / rate
        if pitch is None:
            pieces.append(np.zeros(n))
            continue
        frequency = 440.0 * 2.0 ** ((pitch - 69) / 12)
        tone = sum(amplitude * np.sin(2 * np.pi * k * frequency * t)
                   for k, amplitude in ((1, 1.0), (2, 0.4), (3, 0.2)))
        envelope = np.minimum(1.0, t / 0.01) * np.exp(-3.0 * t)
        pieces.append(tone * envelope)
    wave = np.concatenate(pieces) if pieces else np.zeros(1)
    peak = np.abs(wave).max()
    return (wave / peak if peak > 0 else wave).astype(np.float32)


def draw_piano_roll(notes, ax=None, title=None):
    """Draw the notes as horizontal bars: time (quarters) across, MIDI pitch up. Returns ax."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(9, 2.6))
    start = 0.0
    for pitch, quarters in notes:
        if pitch is not None:
            ax.broken_barh([(start, quarters)], (pitch - 0.4, 0.8), facecolors="C0")
        start += quarters
    pitches = [p for p, _ in notes if p is not None]
    if pitches:
        ax.set_ylim(min(pitches) - 2, max(pitches) + 2)
    ax.set_xlim(0, max(start, 1.0))
    ax.set_xlabel("time (quarter notes)")
    ax.set_ylabel("MIDI pitch")
    if title:
        ax.set_title(title)
    return ax
