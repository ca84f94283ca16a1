"""rnn_helpers.tasks.folk_tunes: ABC tunes of music21's Essen collection."""
import pytest

from rnn_helpers.tasks.folk_tunes import corpus_folder, load_folk_tunes, split_tunes

ABC = """%abc file
X:1
T: First tune
O: Somewhere
M:3/4
L:1/8
K:G
G2A2B2 | d6 % a comment
W: some lyrics
c2B2A2 | G6 |]

X:2
T: No key, skipped
M:2/4
L:1/8
GA | B2

X:3
M: 2/4
L: 1/8
K: D
"""


def test_split_tunes_keeps_the_musical_header_and_the_body():
    tunes = split_tunes(ABC)
    assert tunes == ["M:3/4\nL:1/8\nK:G\nG2A2B2 | d6\nc2B2A2 | G6 |]"]


def test_essen_collection_loads_thousands_of_tunes():
    tunes = load_folk_tunes()
    assert len(tunes) > 8000
    assert all(t.startswith("M:") and "\nL:" in t and "\nK:" in t for t in tunes)
    assert all("\n\n" not in t for t in tunes)                  # a blank line can separate tunes
    short = load_folk_tunes(max_chars=150)
    assert 0 < len(short) < len(tunes) and max(map(len, short)) <= 150


def test_unknown_collection_is_rejected():
    with pytest.raises(ValueError, match="collection should be a folder"):
        corpus_folder("noSuchCollection")
