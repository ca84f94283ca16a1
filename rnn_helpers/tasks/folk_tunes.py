"""Folk tunes in ABC notation from the corpus that ships with music21 (no download).

ABC is a text notation for melodies: a header (``M:`` metre, ``L:`` unit note length,
``K:`` key) and a body where ``G`` is a note, ``G2`` the same note twice as long, ``z`` a
rest, ``|`` a bar line. The Essen folk-song collection (``essenFolksong``, thousands of
European folk songs, mostly German) holds one file of many tunes per source. A tune is
kept as its musical header and body only (titles and other text fields are dropped)::

    M:3/4
    L:1/8
    K:G
    D2 | G2G2AB | c4B2 | ...

Reading the files needs no music21 parsing (fast); ``lessons.music`` parses tunes.
"""
import pathlib
import re

COLLECTION = "essenFolksong"
#: The header fields kept, in this order; every kept tune has all three.
HEADER_FIELDS = ("M:", "L:", "K:")


def corpus_folder(collection=COLLECTION):
    """The folder of one ABC collection inside music21's corpus."""
    import music21

    folder = pathlib.Path(music21.__file__).parent / "corpus" / collection
    if not folder.is_dir():
        raise ValueError(f"collection should be a folder of music21's corpus, but {folder} does not exist")
    return folder


def split_tunes(abc_text):
    """The tunes of one ABC file: each "M:..\\nL:..\\nK:..\\n<body>" (other fields dropped).

    A tune starts at an ``X:`` line; tunes without all of M:, L:, K: or without a body
    are skipped. Body lines are stripped of trailing spaces; ``%`` comments are dropped.
    """
    tunes = []
    for block in re.split(r"^X:", abc_text, flags=re.MULTILINE)[1:]:
        header, body = {}, []
        for line in block.splitlines()[1:]:
            line = line.split("%", 1)[0].rstrip()
            if not line:
                continue
            if re.match(r"[A-Za-z]:", line):     # a field; inside the body (lyrics...) dropped
                if line[:2] in HEADER_FIELDS and not body:
                    header[line[:2]] = line[2:].strip()
            else:
                body.append(line)
        if len(header) == len(HEADER_FIELDS) and body:
            tunes.append("".join(f"{f}{header[f]}\n" for f in HEADER_FIELDS) + "\n".join(body))
    return tunes


def load_folk_tunes(collection=COLLECTION, max_chars=None):
    """Every tune of the collection's .abc files (sorted by file name), as a list of str.

    max_chars: keep only tunes of at most that many characters (None keeps all).
    """
    tunes = []
    for path in sorted(corpus_folder(collection).glob("*.abc")):
        tunes.extend(split_tunes(path.read_text(encoding="latin-1")))
    if max_chars is not None:
        tunes = [t for t in tunes if len(t) <= max_chars]
    return tunes
