"""Learning a vocabulary of word pieces from a corpus."""

import collections

import tensorflow as tf

from zoo import checks
from zoo.text.piece_learner import learn_pieces
from zoo.text.segmentation import normalize, split_words

PAD, UNK, START, END = "[PAD]", "[UNK]", "[START]", "[END]"
RESERVED_TOKENS = (PAD, UNK, START, END)
SUFFIX_INDICATOR = "##"
LEVELS = ("subword", "word", "character")


def segment_corpus(texts, lowercase=False, batch_size=8192):
    """Yields the word pieces of each text, segmented exactly as the vectorizer does in-graph."""
    for begin in range(0, len(texts), batch_size):
        words = split_words(normalize(tf.constant(texts[begin : begin + batch_size]), lowercase))
        for row in words.to_list():
            yield [word.decode("utf-8") for word in row]


def learn_vocabulary(texts, vocabulary_size=8000, level="subword", lowercase=False):
    """Learns a WordPiece vocabulary (reserved tokens first) from a list of strings.

    Args:
        texts: list of str, the corpus.
        vocabulary_size: int, the most tokens to keep, reserved tokens included. Every
            character of the corpus is kept, as a word start and as a continuation, so only
            unseen characters become [UNK]; that alphabet can outgrow a very small size.
            Ignored at character level.
        level: "subword" (WordPiece pieces learned by frequency), "word" (whole words and
            punctuation; rarer ones become [UNK]) or "character".
        lowercase: bool, whether to lower-case before learning.

    Returns:
        list of str: "[PAD]", "[UNK]", "[START]", "[END]", then the learned pieces, with
        "##" marking pieces that continue a word.
    """
    checks.one_of(level, LEVELS, "level")
    if level != "character" and vocabulary_size <= len(RESERVED_TOKENS):
        raise ValueError(
            f"`vocabulary_size` must exceed the {len(RESERVED_TOKENS)} reserved tokens "
            f"{RESERVED_TOKENS}, got {vocabulary_size!r}."
        )
    words = [word for sentence in segment_corpus(list(texts), lowercase) for word in sentence]
    if level == "word":
        counts = collections.Counter(words)
        most_common = [
            word for word, _ in counts.most_common(vocabulary_size - len(RESERVED_TOKENS))
        ]
        return [*RESERVED_TOKENS, *most_common]
    characters = sorted({char for word in words for char in word})
    alphabet = [*characters, *(SUFFIX_INDICATOR + char for char in characters)]
    if level == "character":
        return [*RESERVED_TOKENS, *alphabet]
    room = max(vocabulary_size - len(RESERVED_TOKENS) - len(alphabet), 0)
    pieces = learn_pieces(collections.Counter(words), room, SUFFIX_INDICATOR)
    return [*RESERVED_TOKENS, *alphabet, *pieces]
