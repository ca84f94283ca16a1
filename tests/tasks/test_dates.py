"""Tests of rnn_helpers.tasks.dates: formats, vocabularies, splits, batches."""
import datetime
import re

import numpy as np
import pytest

from rnn_helpers.tasks import dates

MAY_3_1979 = datetime.date(1979, 5, 3)


def test_every_format_on_a_known_date():
    written = {name: dates.format_date(MAY_3_1979, name) for name in dates.FORMATS}
    assert written["weekday, month d, yyyy"] == "Thursday, May 3, 1979"
    assert written["dth of month yyyy"] == "3rd of May 1979"
    assert written["dd/mm/yyyy"] == "03/05/1979"          # day first
    assert written["yyyy.mm.dd"] == "1979.05.03"          # year first: year, month, day
    assert written["dd-mon-yyyy"] == "03-May-1979"
    assert dates.iso(MAY_3_1979) == "1979-05-03"
    assert len(set(written.values())) >= 15


def test_ordinals():
    for day, text in [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"),
                      (13, "13th"), (21, "21st"), (22, "22nd"), (23, "23rd"), (31, "31st")]:
        assert dates.format_date(datetime.date(2000, 1, day), "dth of month yyyy").startswith(text + " ")


def test_formats_are_unambiguous_and_recover_the_date():
    """Parse every format back with the documented conventions."""
    months = {m.lower(): i + 1 for i, m in enumerate(dates.MONTHS)}
    months.update({m[:3].lower(): i + 1 for i, m in enumerate(dates.MONTHS)})
    rng = np.random.default_rng(0)
    train, _ = dates.split_days(n_test=10)
    for k in rng.integers(len(train), size=200):
        day = train[k]
        for name in dates.FORMATS:
            text = dates.format_date(day, name).lower()
            numbers = [int(x) for x in re.findall(r"\d+", text)]
            words = [w for w in re.findall(r"[a-z]+", text) if w in months]
            if words:
                d, y = numbers
                m = months[words[0]]
            elif numbers[0] > 31:
                y, m, d = numbers
            else:
                d, m, y = numbers
            assert datetime.date(y, m, d) == day, (name, text)
            if name.startswith(("weekday", "wkd")):
                assert dates.WEEKDAYS[day.weekday()][:3].lower() in text


def test_split_is_disjoint_and_covers_all_days():
    train, test = dates.split_days(n_test=500, seed=3)
    assert len(test) == 500 and not set(train) & set(test)
    assert len(train) + len(test) == len(dates.all_days()) == 73049
    assert min(train + test) == datetime.date(1900, 1, 1) and max(train + test) == datetime.date(2099, 12, 31)
    assert dates.split_days(n_test=500, seed=3)[1] == test


def test_vocabularies_round_trip():
    for name in dates.FORMATS:
        text = dates.format_date(MAY_3_1979, name)
        assert dates.SOURCE_VOCAB.decode(dates.SOURCE_VOCAB.encode(text)) == text
    tv = dates.TARGET_VOCAB
    assert tv.pad_id == 0 and tv.start_id is not None and tv.end_id is not None
    ids = [tv.start_id] + tv.encode("1979-05-03") + [tv.end_id, tv.pad_id, 5]
    assert tv.decode(ids) == "1979-05-03"
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tv.encode("1979/05/03")


def test_encode_batch_shapes_and_shift():
    rng = np.random.default_rng(1)
    train, _ = dates.split_days()
    sources, targets, fmts = dates.sample_pairs(train, 7, rng)
    assert len(sources) == len(targets) == len(fmts) == 7
    b = dates.encode_batch(sources, targets)
    S = max(len(s) for s in sources)
    assert b.src.shape == b.src_mask.shape == (S, 7)
    np.testing.assert_array_equal(b.src_mask.sum(axis=0), [len(s) for s in sources])
    assert np.all(b.src[~b.src_mask] == dates.SOURCE_VOCAB.pad_id)
    tv = dates.TARGET_VOCAB
    assert b.dec_in.shape == b.dec_out.shape == b.dec_mask.shape == (11, 7)
    assert np.all(b.dec_in[0] == tv.start_id) and np.all(b.dec_out[-1] == tv.end_id)
    np.testing.assert_array_equal(b.dec_in[1:], b.dec_out[:-1])
    assert [tv.decode(col) for col in b.dec_out.T] == targets


def test_sample_pairs_restricts_formats_and_checks_arguments():
    train, _ = dates.split_days()
    sources, _, fmts = dates.sample_pairs(train, 20, np.random.default_rng(2), formats=["d.m.yyyy"])
    assert set(fmts) == {"d.m.yyyy"} and all(s.count(".") == 2 for s in sources)
    with pytest.raises(ValueError, match="formats"):
        dates.sample_pairs(train, 3, np.random.default_rng(0), formats=["mm/dd/yyyy"])
    with pytest.raises(ValueError, match="n should be"):
        dates.sample_pairs(train, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="fmt"):
        dates.format_date(MAY_3_1979, "nonsense")


def test_exact_match():
    assert dates.exact_match(["1979-05-03", "2000-01-01"], ["1979-05-03", "2000-01-02"]) == 0.5


def test_edit_distance():
    for a, b, d in [("", "", 0), ("abc", "", 3), ("", "ab", 2), ("1979-05-03", "1979-05-03", 0),
                    ("1979-05-03", "1979-05-08", 1),        # one substitution
                    ("1979-05-03", "1979-5-03", 1),         # one deletion
                    ("kitten", "sitting", 3), ("ab", "ba", 2)]:
        assert dates.edit_distance(a, b) == d, (a, b)
        assert dates.edit_distance(b, a) == d, (b, a)


def test_character_error_rate():
    assert dates.character_error_rate(["1979-05-03"], ["1979-05-03"]) == 0.0
    # one wrong digit in one of two dates: exact match 50 %, CER 1 / 20
    assert dates.character_error_rate(["1979-05-03", "2001-12-30"], ["1979-05-03", "2001-12-31"]) == 1 / 20
    assert dates.character_error_rate([""], ["1979-05-03"]) == 1.0
    assert dates.character_error_rate(["1979-05-03" * 3], ["1979-05-03"]) == 2.0
    with pytest.raises(ValueError, match="same length"):
        dates.character_error_rate(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="empty strings"):
        dates.character_error_rate(["a"], [""])
