"""Characters as integers: a vocabulary, one-hot vectors and a corpus of first names.

The corpus is the list of US census first names shipped with the ``names`` package
(about 5,000 names, letters a-z only). For a character-level language model the names
are joined into one long stream of characters, each name followed by a separator
(``"\\n"`` by default), so that the model learns where a name ends::

    names = load_first_names()                    # ['mary', 'patricia', ...]
    train_text, valid_text = names_corpus(names)  # 'lucia\\nbart\\n...', '...'
    vocab = CharVocab(train_text + valid_text)
    stream = vocab.encode(train_text)             # int64 array, one index per character
"""
import numpy as np

from ..validation import as_int_array, check_positive

SEPARATOR = "\n"


class CharVocab:
    """A character vocabulary: the sorted set of characters of ``text``.

    ``chars[i]`` is the character of index i; ``size`` is the number of characters.
    """

    def __init__(self, text):
        if not isinstance(text, str) or not text:
            raise ValueError(f"text should be a non-empty string, but got {text!r:.40}")
        self.chars = sorted(set(text))
        self.size = len(self.chars)
        self._index = {ch: i for i, ch in enumerate(self.chars)}

    def encode(self, text):
        """The indices of the characters of ``text``: int64 array of shape (len(text),)."""
        if not isinstance(text, str):
            raise ValueError(f"text should be a string, but got {type(text).__name__}")
        unknown = sorted(set(text) - set(self._index))
        if unknown:
            raise ValueError(f"text contains characters outside the vocabulary: {unknown!r}")
        return np.array([self._index[ch] for ch in text], dtype=np.int64)

    def decode(self, indices):
        """The string of the characters with the given indices (any 1-D integer array)."""
        indices = as_int_array("indices", indices, (None,), {})
        if indices.size and (indices.min() < 0 or indices.max() >= self.size):
            raise ValueError(
                f"indices should lie in [0, {self.size - 1}] (vocabulary size {self.size}), "
                f"but got values from {indices.min()} to {indices.max()}"
            )
        return "".join(self.chars[i] for i in indices)

    def __len__(self):
        return self.size

    def __repr__(self):
        return f"CharVocab(size={self.size}, chars={''.join(self.chars)!r})"


def one_hot(indices, size, dtype=np.float64):
    """One-hot vectors: integer array of any shape S -> array of shape S + (size,)."""
    indices = np.asarray(indices)
    if indices.dtype.kind not in "iu":
        raise ValueError(f"indices should be an integer array, but got dtype {indices.dtype}")
    if not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size should be a positive integer, but got {size!r}")
    if indices.size and (indices.min() < 0 or indices.max() >= size):
        raise ValueError(
            f"indices should lie in [0, {size - 1}], but got values from "
            f"{indices.min()} to {indices.max()}"
        )
    out = np.zeros(indices.shape + (int(size),), dtype=dtype)
    np.put_along_axis(out, indices[..., None], 1, axis=-1)
    return out


def load_first_names():
    """The census first names (female list, then male list), lowercase, without repeats.

    Returns a list of strings of the letters a-z, in the files' order of frequency.
    """
    import names

    result, seen = [], set()
    for key in ("first:female", "first:male"):
        with open(names.FILES[key], encoding="ascii") as f:
            for line in f:
                fields = line.split()
                if not fields:
                    continue
                name = fields[0].lower()
                if name not in seen:
                    seen.add(name)
                    result.append(name)
    return result


def names_corpus(names, validation_fraction=0.1, seed=0, separator=SEPARATOR):
    """Shuffle ``names`` with a fixed seed, split them, and join each part into one text.

    Every name is followed by ``separator``. The last ``round(validation_fraction * n)``
    names of the shuffled list (at least one) form the validation text, the others the
    training text. Returns ``(train_text, valid_text)``.
    """
    names = list(names)
    if len(names) < 2:
        raise ValueError(f"names should hold at least 2 names, but got {len(names)}")
    for name in names:
        if not isinstance(name, str) or not name or separator in name:
            raise ValueError(
                f"every name should be a non-empty string without the separator "
                f"{separator!r}, but got {name!r}"
            )
    check_positive("validation_fraction", validation_fraction)
    if validation_fraction >= 1:
        raise ValueError(f"validation_fraction should be below 1, but got {validation_fraction!r}")
    order = np.random.default_rng(seed).permutation(len(names))
    n_valid = min(len(names) - 1, max(1, round(validation_fraction * len(names))))
    shuffled = [names[i] for i in order]
    train, valid = shuffled[:-n_valid], shuffled[-n_valid:]
    return "".join(n + separator for n in train), "".join(n + separator for n in valid)


def unigram_entropy(indices, size):
    """Entropy (nats) of the character frequencies of ``indices``: the loss per character
    of the best model that ignores the context, the baseline of a language model.

    indices: 1-D integer array of values in [0, size).
    """
    indices = as_int_array("indices", indices, (None,), {})
    if indices.size == 0:
        raise ValueError("indices should not be empty")
    if indices.min() < 0 or indices.max() >= size:
        raise ValueError(
            f"indices should lie in [0, {size - 1}], but got values from "
            f"{indices.min()} to {indices.max()}"
        )
    counts = np.bincount(indices, minlength=size)
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())
