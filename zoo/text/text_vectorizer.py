"""TextVectorizer: text <-> token ids, inside the TensorFlow graph."""

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from zoo.text.segmentation import SPACE_MARKER, join_words, normalize, split_words
from zoo.text.vectorizer import Vectorizer
from zoo.text.vocabulary import RESERVED_TOKENS, SUFFIX_INDICATOR, UNK, learn_vocabulary


@keras.saving.register_keras_serializable(package="zoo")
class TextVectorizer(Vectorizer):
    """Normalises, tokenizes and detokenizes text with a WordPiece vocabulary, in-graph.

    Text is NFKC-normalised (and optionally lower-cased), segmented into words and
    punctuation that remember the spaces between them, and split into WordPiece pieces
    by tensorflow-text, so the same ops run in `fit`, `predict` and an exported SavedModel,
    and `detokenize(tokenize(text))` gives back the normalised text. Token ids 0-3 are
    "[PAD]", "[UNK]", "[START]" and "[END]".

    Args:
        vocabulary: list of str, starting with the four reserved tokens; pieces that
            continue a word start with "##". Usually learned with `from_corpus`.
        lowercase: bool, whether to lower-case text first.
        sequence_length: int, the most token ids per text, start and end tokens included.
            Longer texts are truncated: their first `sequence_length - 2` tokens are kept.

    Example:
    >>> vectorizer = zoo.text.TextVectorizer.from_corpus(["the dog runs.", "a cat sleeps."])
    >>> token_ids, padding_mask = vectorizer(["the cat runs."])
    >>> vectorizer.detokenize(token_ids)  # -> [b"the cat runs."]
    """

    pad_token_id, unk_token_id, start_token_id, end_token_id = range(len(RESERVED_TOKENS))

    def __init__(self, vocabulary, lowercase=False, sequence_length=64):
        vocabulary = list(vocabulary)
        if tuple(vocabulary[: len(RESERVED_TOKENS)]) != RESERVED_TOKENS:
            raise ValueError(
                f"`vocabulary` must start with the reserved tokens {RESERVED_TOKENS}, "
                f"got {vocabulary[: len(RESERVED_TOKENS)]}."
            )
        if len(set(vocabulary)) != len(vocabulary):
            raise ValueError("`vocabulary` contains duplicate tokens.")
        super().__init__(sequence_length)
        self.vocabulary = vocabulary
        self.lowercase = lowercase
        self._wordpiece = tf_text.FastWordpieceTokenizer(
            vocabulary,
            suffix_indicator=SUFFIX_INDICATOR,
            unknown_token=UNK,
            no_pretokenization=True,
            support_detokenization=True,
            token_out_type=tf.int32,
        )

    @classmethod
    def from_corpus(
        cls, texts, vocabulary_size=8000, level="subword", lowercase=False, sequence_length=64
    ):
        """Learns the vocabulary from `texts` (see `zoo.text.learn_vocabulary`)."""
        vocabulary = learn_vocabulary(texts, vocabulary_size, level, lowercase)
        return cls(vocabulary, lowercase=lowercase, sequence_length=sequence_length)

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def tokenize(self, texts):
        """tf.string [batch] -> ragged int32 [batch, tokens], without reserved tokens."""
        words = split_words(normalize(texts, self.lowercase))
        return self._wordpiece.tokenize(words).merge_dims(1, 2)

    def detokenize(self, token_ids):
        """int [batch, length] -> tf.string [batch]; reads up to the first end token."""
        words = self._wordpiece.detokenize(self.readable_token_ids(token_ids))
        # An unknown word swallows the space marker before it; most often there was a space.
        text = tf.strings.regex_replace(join_words(words), r"(\S)\[UNK\]", r"\1 [UNK]")
        # Generated text may open with a piece that had a space before it.
        return tf.strings.strip(text)

    def id_to_token(self, token_ids):
        """int token ids (any shape) -> their tokens as tf.string, for display.

        Continuation pieces keep their "##"; the space marker is dropped.
        """
        tokens = tf.gather(tf.constant(self.vocabulary), tf.cast(token_ids, tf.int32))
        return tf.strings.regex_replace(tokens, SPACE_MARKER, "")

    def get_config(self):
        return {
            "vocabulary": self.vocabulary,
            "lowercase": self.lowercase,
            "sequence_length": self.sequence_length,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
