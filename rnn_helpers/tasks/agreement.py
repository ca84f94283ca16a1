"""Long-range agreement: "the cat ... was" against "the cats ... were".

Each example is the start of a sentence: "the", a subject noun (singular or plural),
then exactly ``distance`` distractor words. The task is to predict the verb that comes
next, "was" (label 0) after a singular subject and "were" (label 1) after a plural one.
The distractors are short phrases ("near the dogs", "with a red key", "very", ...); the
nouns inside them take either number at random, independently of the subject, so the
nearest noun says nothing about the verb: only the word right after the first "the"
decides it, ``distance`` words before the verb.

Tokens are time-major integer arrays (T, N) with T = distance + 2; ``encode`` makes the
one-hot inputs (T, N, V) a SequenceModel reads.
"""
import numpy as np

from .text import one_hot

SINGULAR_NOUNS = ("cat", "dog", "boy", "girl", "teacher", "bird", "car", "key", "house", "friend")
PLURAL_NOUNS = ("cats", "dogs", "boys", "girls", "teachers", "birds", "cars", "keys", "houses", "friends")
VERBS = ("was", "were")   # label 0: singular subject, label 1: plural subject

#: Distractor phrases; "N" stands for a noun of random number.
PHRASES = (
    ("old",), ("big",), ("very",), ("really",), ("quietly",), ("today",), ("again",),
    ("at", "night"), ("in", "town"), ("near", "home"), ("so", "often"),
    ("near", "the", "N"), ("with", "the", "N"), ("behind", "the", "N"), ("on", "the", "mat"),
    ("with", "a", "red", "N"), ("that", "the", "N", "liked"), ("next", "to", "the", "N"),
    ("and", "the", "old", "N"), ("who", "saw", "the", "N"),
)

VOCABULARY = tuple(dict.fromkeys(
    ("the",) + SINGULAR_NOUNS + PLURAL_NOUNS
    + tuple(word for phrase in PHRASES for word in phrase if word != "N") + VERBS))
WORD_TO_INDEX = {word: i for i, word in enumerate(VOCABULARY)}
VOCAB_SIZE = len(VOCABULARY)
CHANCE_ACCURACY = 0.5   # the two verbs are equally likely


def _check_args(n, distance, rng):
    for name, value, minimum in (("n", n, 1), ("distance", distance, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"{name} should be an integer >= {minimum}, but got {value!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng should be a numpy Generator (np.random.default_rng(seed)), "
                         f"but got {type(rng).__name__}")


def _distractor_words(distance, rng):
    """``distance`` words made of whole phrases (a phrase is only used if it fits)."""
    words = []
    while len(words) < distance:
        room = distance - len(words)
        fitting = [p for p in PHRASES if len(p) <= room]
        phrase = fitting[rng.integers(len(fitting))]
        for word in phrase:
            if word == "N":
                nouns = PLURAL_NOUNS if rng.random() < 0.5 else SINGULAR_NOUNS
                word = nouns[rng.integers(len(nouns))]
            words.append(word)
    return words


def make_agreement_data(n, distance, rng):
    """n examples with ``distance`` distractor words between the subject and the verb.

    Returns tokens (T, n) int64 with T = distance + 2 (word indices into VOCABULARY:
    "the", subject, distractors; the verb is not part of the input) and labels (n,)
    int64: 0 if the verb is "was" (singular subject), 1 if it is "were".
    """
    _check_args(n, distance, rng)
    labels = rng.integers(0, 2, size=n)
    tokens = np.empty((distance + 2, n), dtype=np.int64)
    for i, label in enumerate(labels):
        nouns = PLURAL_NOUNS if label else SINGULAR_NOUNS
        words = ["the", nouns[rng.integers(len(nouns))]] + _distractor_words(distance, rng)
        tokens[:, i] = [WORD_TO_INDEX[w] for w in words]
    return tokens, labels.astype(np.int64)


def encode(tokens):
    """One-hot inputs for a model: tokens (T, N) int -> x (T, N, VOCAB_SIZE) float64."""
    tokens = np.asarray(tokens)
    if tokens.ndim != 2:
        raise ValueError(f"tokens should have 2 dimensions (T, N), but got shape {tokens.shape}")
    return one_hot(tokens, VOCAB_SIZE)


def sentences(tokens, labels):
    """The examples as text, with the correct verb: tokens (T, N), labels (N,) -> N strings."""
    tokens, labels = np.asarray(tokens), np.asarray(labels)
    if tokens.ndim != 2 or labels.shape != (tokens.shape[1],):
        raise ValueError(f"tokens should be (T, N) and labels (N,), but got shapes "
                         f"{tokens.shape} and {labels.shape}")
    return [" ".join(VOCABULARY[t] for t in tokens[:, i]) + " " + VERBS[labels[i]]
            for i in range(tokens.shape[1])]
