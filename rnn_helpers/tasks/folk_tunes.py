"""Folk tunes in ABC notation from the corpus that ships with music21 (no download).

ABC is a text notation for melodies: a header (``M:`` metre, ``L:`` unit note length,
``K:`` key) and a body where ``G`` is a note, ``G2`` the same note twice as long, ``z`` a
rest, ``|`` a bar line. music21 ships the Essen folk-song collection (``essenFolksong``) as
ABC files, one or more per source collection (``erk10.abc``, ``erk20.abc``, ... for one
collection); most tunes are German folk songs, and the ``han`` files hold Chinese ones
(each tune's ``O:`` field says where it was collected). The collection folder also holds
music21's own test files (``test*.abc``: test cases, some tunes repeated several times),
which are left out. A tune is kept as its musical header and body only (titles and other
text fields are dropped), with the file it came from and its origin::

    FolkTune(abc="M:3/4\nL:1/8\nK:G\nD2 | G2G2AB | c4B2 | ...", source="erk10",
             origin="Europa, Mitteleuropa, Deutschland")

Reading the files needs no music21 parsing (fast); ``lessons.music`` parses tunes.
"""
import pathlib
import re
from typing import NamedTuple

COLLECTION = "essenFolksong"
#: The header fields kept, in this order; every kept tune has all three.
HEADER_FIELDS = ("M:", "L:", "K:")
#: Files of music21's own tests in the collection folder, left out of the tunes.
TEST_FILE_PREFIX = "test"


class FolkTune(NamedTuple):
    abc: str       # "M:..\nL:..\nK:..\n<body>"
    source: str    # the file the tune comes from, without ".abc"
    origin: str    # the O: field (where the tune was collected), "" if it has none


def corpus_folder(collection=COLLECTION):
    """The folder of one ABC collection inside music21's corpus."""
    import music21

    folder = pathlib.Path(music21.__file__).parent / "corpus" / collection
    if not folder.is_dir():
        raise ValueError(f"collection should be a folder of music21's corpus, but {folder} does not exist")
    return folder


def split_tunes(abc_text, source=""):
    """The tunes of one ABC file as FolkTune records (abc: "M:..\\nL:..\\nK:..\\n<body>").

    A tune starts at an ``X:`` line; tunes without all of M:, L:, K: or without a body
    are skipped. Body lines are stripped of trailing spaces; ``%`` comments are dropped.
    """
    tunes = []
    for block in re.split(r"^X:", abc_text, flags=re.MULTILINE)[1:]:
        origin = re.search(r"^O:(.*)$", block, flags=re.MULTILINE)
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
            abc = "".join(f"{f}{header[f]}\n" for f in HEADER_FIELDS) + "\n".join(body)
            tunes.append(FolkTune(abc, source, origin.group(1).strip() if origin else ""))
    return tunes


def load_folk_tunes(collection=COLLECTION, max_chars=None):
    """Every tune of the collection's .abc files (sorted by file name), as FolkTune records.

    music21's test files (``test*.abc``) are left out. max_chars: keep only tunes of at
    most that many characters of ABC (None keeps all).
    """
    tunes = []
    for path in sorted(corpus_folder(collection).glob("*.abc")):
        if not path.stem.startswith(TEST_FILE_PREFIX):
            tunes.extend(split_tunes(path.read_text(encoding="latin-1"), path.stem))
    if max_chars is not None:
        tunes = [t for t in tunes if len(t.abc) <= max_chars]
    return tunes
