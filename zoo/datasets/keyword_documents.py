"""Synthetic documents whose class is decided by one keyword sentence among distractors.

A test bed for hierarchical attention (Yang et al. 2016): every sentence but one is random
filler, and one sentence, at a random position, holds a keyword naming the class. A model
that classifies these documents must find that sentence, so its sentence attention can be
checked against the known position.

With every document holding a keyword, a classifier can learn one class as "none of the
other keywords seen" and never look for that class's sentence. Mixing in documents without
a keyword (`no_keyword_fraction`, label "none") makes every class need its own evidence.
"""

import numpy as np

from zoo import checks

# Class -> its keywords. A document's keyword sentence holds exactly one of these words.
KEYWORD_CLASSES = {
    "music": ("guitar", "violin"),
    "sports": ("football", "tennis"),
    "weather": ("rain", "snow"),
    "food": ("bread", "cheese"),
}

# The label of a document without a keyword sentence.
NO_KEYWORD = "none"

_CONSONANTS = "bdfgklmnprstvz"
_VOWELS = "aeiou"


def filler_words(count=60, seed=1234):
    """Returns `count` distinct pronounceable nonsense words ("kalo", "suvimo", ...).

    They never equal a keyword, so only the keyword sentence carries the class.
    """
    rng = np.random.default_rng(seed)
    keywords = {word for words in KEYWORD_CLASSES.values() for word in words}
    words = []
    while len(words) < count:
        syllables = rng.integers(2, 4)
        word = "".join(
            _CONSONANTS[rng.integers(len(_CONSONANTS))] + _VOWELS[rng.integers(len(_VOWELS))]
            for _ in range(syllables)
        )
        if word not in keywords and word not in words:
            words.append(word)
    return words


def keyword_documents(
    n,
    seed=0,
    *,
    min_sentences=3,
    max_sentences=6,
    min_words=4,
    max_words=8,
    no_keyword_fraction=0.0,
    return_keyword_index=False,
):
    """Generates `n` labelled documents, identically on every machine for a given `seed`.

    Each document has between `min_sentences` and `max_sentences` sentences of
    `min_words` to `max_words` filler words, each sentence capitalised and ending with
    ". ". Exactly one sentence, at a uniformly random position, has one of its words
    replaced by a keyword of a random class (see `KEYWORD_CLASSES`); that class is the
    document's label. A `no_keyword_fraction` of the documents, drawn at random, have
    filler sentences only and the label `NO_KEYWORD` ("none").

    Args:
        n: int, how many documents.
        seed: int, seed of the NumPy generator that draws everything.
        min_sentences: int, fewest sentences per document (at least 1).
        max_sentences: int, most sentences per document.
        min_words: int, fewest words per sentence (at least 1).
        max_words: int, most words per sentence.
        no_keyword_fraction: float in [0, 1), the expected share of documents without a
            keyword sentence.
        return_keyword_index: bool, whether to also return where the keyword sentence is.

    Returns:
        `(documents, labels)`: lists of str, `labels[i]` one of `KEYWORD_CLASSES` or
        "none"; with `return_keyword_index`, also a list with the 0-based index of each
        document's keyword sentence (None for a document without one).

    Example:
    >>> documents, labels, positions = zoo.datasets.keyword_documents(
    ...     100, return_keyword_index=True)
    """
    checks.positive_int(n, "n")
    if not 1 <= min_sentences <= max_sentences:
        raise ValueError(
            f"`min_sentences` and `max_sentences` must satisfy 1 <= min_sentences <= "
            f"max_sentences, got {min_sentences!r} and {max_sentences!r}."
        )
    if not 1 <= min_words <= max_words:
        raise ValueError(
            f"`min_words` and `max_words` must satisfy 1 <= min_words <= max_words, got "
            f"{min_words!r} and {max_words!r}."
        )
    checks.fraction(no_keyword_fraction, "no_keyword_fraction")
    rng = np.random.default_rng(seed)
    fillers = filler_words()
    classes = sorted(KEYWORD_CLASSES)
    documents, labels, keyword_indices = [], [], []
    for _ in range(n):
        num_sentences = int(rng.integers(min_sentences, max_sentences + 1))
        keyword_index = int(rng.integers(num_sentences))
        label = classes[rng.integers(len(classes))]
        if rng.random() < no_keyword_fraction:
            label, keyword_index = NO_KEYWORD, None
        sentences = []
        for index in range(num_sentences):
            num_words = int(rng.integers(min_words, max_words + 1))
            words = [fillers[i] for i in rng.integers(len(fillers), size=num_words)]
            if index == keyword_index:
                keywords = KEYWORD_CLASSES[label]
                words[rng.integers(num_words)] = keywords[rng.integers(len(keywords))]
            sentences.append(" ".join(words).capitalize() + ".")
        documents.append(" ".join(sentences))
        labels.append(label)
        keyword_indices.append(keyword_index)
    if return_keyword_index:
        return documents, labels, keyword_indices
    return documents, labels
