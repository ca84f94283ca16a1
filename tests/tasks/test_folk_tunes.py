"""rnn_helpers.tasks.folk_tunes: ABC tunes of music21's Essen collection."""
import pytest

from rnn_helpers.tasks.folk_tunes import FolkTune, corpus_folder, load_folk_tunes, split_tunes

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
    tunes = split_tunes(ABC, "demo")
    assert tunes == [FolkTune("M:3/4\nL:1/8\nK:G\nG2A2B2 | d6\nc2B2A2 | G6 |]", "demo", "Somewhere")]
    assert split_tunes(ABC.replace("O: Somewhere\n", ""))[0].origin == ""


def test_essen_collection_loads_thousands_of_tunes_without_music21s_test_files():
    tunes = load_folk_tunes()
    assert len(tunes) > 8000
    assert all(t.abc.startswith("M:") and "\nL:" in t.abc and "\nK:" in t.abc for t in tunes)
    assert all("\n\n" not in t.abc for t in tunes)              # a blank line can separate tunes
    sources = {t.source for t in tunes}
    assert {"erk10", "han1", "han2", "lux"} <= sources and not any(s.startswith("test") for s in sources)
    chinese = [t for t in tunes if t.source.startswith("han")]           # the Chinese collection
    assert sum("China" in t.origin for t in chinese) > 0.99 * len(chinese)
    short = load_folk_tunes(max_chars=150)
    assert 0 < len(short) < len(tunes) and max(len(t.abc) for t in short) <= 150


def test_unknown_collection_is_rejected():
    with pytest.raises(ValueError, match="collection should be a folder"):
        corpus_folder("noSuchCollection")
