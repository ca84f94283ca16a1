"""rnn_helpers.tasks.corpus: the standard-library text corpus and random windows."""
import numpy as np
import pytest

from rnn_helpers.tasks.corpus import (STDLIB_MODULES, VALIDATION_MODULES, clean_source, random_windows,
                                      read_stdlib_module, stdlib_corpus)


def test_clean_source_keeps_printable_ascii_and_newlines():
    assert clean_source("a\tb\n\u00e9\x00~") == "a    b\n??~"


def test_corpus_is_real_python_split_by_module_and_repeatable():
    train, valid = stdlib_corpus()
    assert len(train) > 300_000 and len(valid) > 20_000
    assert "def " in train and "return" in valid
    assert set(train + valid) <= set(chr(c) for c in range(32, 127)) | {"\n"}
    assert read_stdlib_module("heapq.py") in train          # a training module, whole
    assert read_stdlib_module("textwrap.py") in valid and read_stdlib_module("textwrap.py") not in train
    assert stdlib_corpus() == (train, valid)
    assert set(VALIDATION_MODULES) < set(STDLIB_MODULES)


def test_corpus_rejects_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="validation_modules should be among modules"):
        stdlib_corpus(modules=("heapq.py",), validation_modules=("copy.py",))
    with pytest.raises(ValueError, match="does not exist"):
        read_stdlib_module("no_such_module.py")
    (tmp_path / "a.py").write_text("x = 1\n")
    with pytest.raises(ValueError, match="at least one module"):
        stdlib_corpus(modules=("a.py",), validation_modules=("a.py",), stdlib=tmp_path)


def test_random_windows_targets_are_the_next_tokens():
    stream = np.arange(100)
    tokens, targets = random_windows(stream, 7, 5, np.random.default_rng(0))
    assert tokens.shape == targets.shape == (7, 5) and tokens.dtype == np.int64
    np.testing.assert_array_equal(targets, tokens + 1)          # consecutive in the stream
    np.testing.assert_array_equal(np.diff(tokens, axis=0), 1)
    assert targets.max() <= 99
    a = random_windows(stream, 7, 5, np.random.default_rng(3))[0]
    np.testing.assert_array_equal(a, random_windows(stream, 7, 5, np.random.default_rng(3))[0])
    with pytest.raises(ValueError, match="at least T \\+ 1 = 8 tokens"):
        random_windows(np.arange(7), 7, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng should be a numpy Generator"):
        random_windows(stream, 7, 1, 0)
