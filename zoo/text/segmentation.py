"""In-graph text normalisation and word (and sentence) segmentation, shared by vocabulary
learning and tokenizing.

Whitespace is kept as information rather than thrown away: every word that follows a space
carries the marker "▁" (as in SentencePiece), and punctuation is split into pieces of its own.
"Ça alors, t'es là !" segments into ["Ça", "▁alors", ",", "▁t", "'", "es", "▁là", "▁!"], so
detokenizing is exact: join the pieces and turn markers back into spaces.
"""

import tensorflow as tf
import tensorflow_text as tf_text

SPACE_MARKER = "\u2581"

# A punctuation or symbol character (anything but letters, numbers, marks and whitespace),
# with the space marker when a space came before it.
_PUNCTUATION = rf"{SPACE_MARKER}?[^\pL\pN\pM\s{SPACE_MARKER}]"


def valid_utf8(texts):
    """tf.string texts with each invalid UTF-8 sequence replaced by U+FFFD, as Python's
    `bytes.decode("utf-8", errors="replace")` does: an export is sent raw bytes, and the
    normaliser and tokenizers would pass invalid ones through."""
    return tf.strings.unicode_transcode(
        texts, "UTF-8", "UTF-8", errors="replace", replacement_char=0xFFFD
    )


def normalize(texts, lowercase=False):
    """Makes `texts` valid UTF-8, NFKC-normalises them, optionally lower-cases them, and
    collapses whitespace to single spaces."""
    texts = tf_text.normalize_utf8(valid_utf8(texts), "NFKC")
    if lowercase:
        texts = tf.strings.lower(texts, encoding="utf-8")
    # The marker is ours: a literal one in the input is read as a space.
    texts = tf.strings.regex_replace(texts, rf"[\s{SPACE_MARKER}]+", " ")
    return tf.strings.strip(texts)


def split_words(normalized_texts):
    """Segments normalised texts [batch] into a ragged [batch, words] tensor of pieces."""
    marked = tf.strings.regex_replace(normalized_texts, " ", " " + SPACE_MARKER)
    return tf_text.regex_split(
        marked,
        delim_regex_pattern=rf"\s|{_PUNCTUATION}",
        keep_delim_regex_pattern=_PUNCTUATION,
    )


def join_words(word_texts):
    """Inverse of split_words: [batch] strings of space-joined pieces -> the original text."""
    joined = tf.strings.regex_replace(word_texts, " ", "")
    return tf.strings.regex_replace(joined, SPACE_MARKER, " ")


# A sentence ends at a run of sentence-final punctuation, with any closing quotes or
# brackets, followed by whitespace; a line break always ends one. "Mr. Smith" is two
# sentences: the rule is deliberately simple, and the same in training and serving.
_SENTENCE_END = r"""([.!?…。！？]+["'”’)\]]*)\s+"""
_LINE_BREAKS = r"\s*\n\s*"


def split_sentences(documents):
    """tf.string [batch] -> ragged tf.string [batch, (sentences)], in-graph.

    Sentences are split after sentence-final punctuation (. ! ? …) followed by whitespace,
    and at line breaks; they are stripped, and empty ones are dropped, so an empty or
    blank document has no sentence.
    """
    marked = tf.strings.regex_replace(valid_utf8(documents), _SENTENCE_END, "\\1\n")
    sentences = tf_text.regex_split(marked, delim_regex_pattern=_LINE_BREAKS)
    sentences = tf.strings.strip(sentences)
    return tf.ragged.boolean_mask(sentences, tf.strings.length(sentences) > 0)
