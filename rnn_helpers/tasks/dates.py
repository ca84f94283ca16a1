"""Date normalisation: a date written the way people write it -> the ISO form.

    "Thursday, May 3, 1979"  -> "1979-05-03"
    "3rd of May 1979"        -> "1979-05-03"
    "03/05/1979"             -> "1979-05-03"

Dates are real calendar days from 1900-01-01 to 2099-12-31. Conventions that keep every
string unambiguous:

* the year is always written with four digits (no "79": it could be 1979 or 2079);
* all-numeric formats with the year LAST are day/month/year ("03/05/1979" is 3 May),
  all-numeric formats with the year FIRST are year/month/day ("1979.05.03");
* a weekday, when written, is the true weekday of the date.

Characters are the tokens. The source vocabulary holds padding plus every character a
format can produce; the target vocabulary holds padding, a start token (the decoder's
first input), an end token (the decoder's last output) and the eleven characters of ISO
dates. Training and test sets are drawn from disjoint sets of calendar days.
"""
import datetime
import string
from typing import NamedTuple

import numpy as np


FIRST_DAY = datetime.date(1900, 1, 1)
LAST_DAY = datetime.date(2099, 12, 31)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
PAD, START, END = "<pad>", "<s>", "</s>"


def _ordinal(day):
    suffix = "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _month(d):
    return MONTHS[d.month - 1]


def _weekday(d):
    return WEEKDAYS[d.weekday()]


#: Every format, by name, as a function of a datetime.date (example: 3 May 1979).
FORMATS = {
    "d month yyyy": lambda d: f"{d.day} {_month(d)} {d.year}",                     # 3 May 1979
    "dd month yyyy": lambda d: f"{d.day:02d} {_month(d)} {d.year}",                # 03 May 1979
    "d mon yyyy": lambda d: f"{d.day} {_month(d)[:3]} {d.year}",                   # 3 May 1979 / 3 Sep 1979
    "d month yyyy (lower)": lambda d: f"{d.day} {_month(d).lower()} {d.year}",     # 3 may 1979
    "D MONTH YYYY (upper)": lambda d: f"{d.day} {_month(d).upper()} {d.year}",     # 3 MAY 1979
    "month d, yyyy": lambda d: f"{_month(d)} {d.day}, {d.year}",                   # May 3, 1979
    "month d yyyy": lambda d: f"{_month(d)} {d.day} {d.year}",                     # May 3 1979
    "mon d, yyyy": lambda d: f"{_month(d)[:3]} {d.day}, {d.year}",                 # May 3, 1979
    "month dth, yyyy": lambda d: f"{_month(d)} {_ordinal(d.day)}, {d.year}",       # May 3rd, 1979
    "dth of month yyyy": lambda d: f"{_ordinal(d.day)} of {_month(d)} {d.year}",   # 3rd of May 1979
    "the dth of month, yyyy": lambda d: f"the {_ordinal(d.day)} of {_month(d)}, {d.year}",
    "weekday, month d, yyyy": lambda d: f"{_weekday(d)}, {_month(d)} {d.day}, {d.year}",
    "weekday d month yyyy": lambda d: f"{_weekday(d)} {d.day} {_month(d)} {d.year}",
    "wkd, d mon yyyy": lambda d: f"{_weekday(d)[:3]}, {d.day} {_month(d)[:3]} {d.year}",
    "dd-mon-yyyy": lambda d: f"{d.day:02d}-{_month(d)[:3]}-{d.year}",              # 03-May-1979
    "dd/mm/yyyy": lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",                 # 03/05/1979
    "d/m/yyyy": lambda d: f"{d.day}/{d.month}/{d.year}",                           # 3/5/1979
    "dd.mm.yyyy": lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",                 # 03.05.1979
    "d.m.yyyy": lambda d: f"{d.day}.{d.month}.{d.year}",                           # 3.5.1979
    "dd-mm-yyyy": lambda d: f"{d.day:02d}-{d.month:02d}-{d.year}",                 # 03-05-1979
    "yyyy.mm.dd": lambda d: f"{d.year}.{d.month:02d}.{d.day:02d}",                 # 1979.05.03
    "yyyy/mm/dd": lambda d: f"{d.year}/{d.month:02d}/{d.day:02d}",                 # 1979/05/03
}


def iso(date):
    """The target: "YYYY-MM-DD"."""
    return date.isoformat()


def format_date(date, fmt):
    """Write ``date`` (datetime.date) in the format named ``fmt`` (a key of FORMATS)."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt should be one of the names in dates.FORMATS, but got {fmt!r}")
    return FORMATS[fmt](date)


class Vocabulary:
    """Tokens <-> integer ids. Special tokens come first: id 0 is always padding."""

    def __init__(self, characters, specials=(PAD,)):
        self.tokens = list(specials) + list(characters)
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("the tokens of a Vocabulary should be distinct")
        self.index = {tok: i for i, tok in enumerate(self.tokens)}
        self.pad_id = self.index[PAD]
        self.start_id = self.index.get(START)
        self.end_id = self.index.get(END)

    def __len__(self):
        return len(self.tokens)

    def encode(self, text):
        """List of ids of the characters of ``text``."""
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise ValueError(f"text contains characters outside the vocabulary: {unknown}")
        return [self.index[c] for c in text]

    def decode(self, ids):
        """The text of ``ids``: stops at the end token, skips padding and start tokens."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.end_id:
                break
            if i not in (self.pad_id, self.start_id):
                out.append(self.tokens[i])
        return "".join(out)


SOURCE_VOCAB = Vocabulary(" ,-./" + string.digits + string.ascii_letters)
TARGET_VOCAB = Vocabulary(string.digits + "-", specials=(PAD, START, END))


def all_days(first=FIRST_DAY, last=LAST_DAY):
    """Every calendar day from ``first`` to ``last`` inclusive, in order."""
    return [first + datetime.timedelta(days=k) for k in range((last - first).days + 1)]


def split_days(n_test=2000, seed=0):
    """Disjoint (train_days, test_days): a fixed random permutation of all days, split."""
    days = all_days()
    if not 0 < n_test < len(days):
        raise ValueError(f"n_test should be between 1 and {len(days) - 1}, but got {n_test!r}")
    order = np.random.default_rng(seed).permutation(len(days))
    return [days[k] for k in order[n_test:]], [days[k] for k in order[:n_test]]


def sample_pairs(days, n, rng, formats=None):
    """n random (source, target, format name) triples: a random day, a random format.

    Returns three lists of length n. ``formats`` restricts the choice (default: all).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n should be a positive integer, but got {n!r}")
    formats = list(FORMATS) if formats is None else list(formats)
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"formats should be names in dates.FORMATS, but got unknown {unknown}")
    picks = rng.integers(len(days), size=n)
    fmts = rng.integers(len(formats), size=n)
    sources = [format_date(days[i], formats[f]) for i, f in zip(picks, fmts)]
    targets = [iso(days[i]) for i in picks]
    return sources, targets, [formats[f] for f in fmts]


class Batch(NamedTuple):
    """Encoded, padded, time-major batch of date pairs.

    src (S, N) source ids, src_mask (S, N) True on real characters;
    dec_in (L, N) decoder inputs  = start token, then the target characters;
    dec_out (L, N) decoder targets = the target characters, then the end token;
    dec_mask (L, N) True on real decoder positions. L = longest target + 1.
    """
    src: np.ndarray
    src_mask: np.ndarray
    dec_in: np.ndarray
    dec_out: np.ndarray
    dec_mask: np.ndarray


def _pad(seqs, pad_id):
    length = max(len(s) for s in seqs)
    ids = np.full((length, len(seqs)), pad_id, dtype=np.int64)
    mask = np.zeros((length, len(seqs)), dtype=bool)
    for n, s in enumerate(seqs):
        ids[:len(s), n] = s
        mask[:len(s), n] = True
    return ids, mask


def encode_sources(sources, vocab=SOURCE_VOCAB):
    """Padded source ids (S, N) and mask (S, N) for a list of strings."""
    if len(sources) == 0:
        raise ValueError("sources should hold at least one string")
    return _pad([vocab.encode(s) for s in sources], vocab.pad_id)


def encode_batch(sources, targets, src_vocab=SOURCE_VOCAB, tgt_vocab=TARGET_VOCAB):
    """A Batch for lists of source and target strings (same length)."""
    if len(sources) != len(targets):
        raise ValueError(f"sources and targets should have the same length, but got "
                         f"{len(sources)} and {len(targets)}")
    src, src_mask = encode_sources(sources, src_vocab)
    tgt = [tgt_vocab.encode(t) for t in targets]
    dec_in, _ = _pad([[tgt_vocab.start_id] + t for t in tgt], tgt_vocab.pad_id)
    dec_out, dec_mask = _pad([t + [tgt_vocab.end_id] for t in tgt], tgt_vocab.pad_id)
    return Batch(src, src_mask, dec_in, dec_out, dec_mask)


def exact_match(predictions, targets):
    """Fraction of predicted strings equal to their target (the whole date right)."""
    if len(predictions) != len(targets) or len(targets) == 0:
        raise ValueError("predictions and targets should be non-empty lists of the same length")
    return float(np.mean([p == t for p, t in zip(predictions, targets)]))



def edit_distance(a, b):
    """Levenshtein distance: the fewest insertions, deletions and substitutions from a to b."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def character_error_rate(predictions, targets):
    """Edit distances summed over all pairs, divided by the total length of the targets.

    0 is perfect; a wrong day costs 1 or 2 characters out of 10 where exact match counts
    the whole date as wrong. It can exceed 1 when predictions are much longer than targets.
    """
    if len(predictions) != len(targets) or len(targets) == 0:
        raise ValueError("predictions and targets should be non-empty lists of the same length")
    total = sum(len(t) for t in targets)
    if total == 0:
        raise ValueError("targets should not all be empty strings")
    return sum(edit_distance(p, t) for p, t in zip(predictions, targets)) / total
