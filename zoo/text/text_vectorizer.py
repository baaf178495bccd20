"""TextVectorizer: text <-> token ids, inside the TensorFlow graph."""

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from zoo.text.segmentation import SPACE_MARKER, join_words, normalize, split_words
from zoo.text.vocabulary import RESERVED_TOKENS, SUFFIX_INDICATOR, UNK, learn_vocabulary


@keras.saving.register_keras_serializable(package="zoo")
class TextVectorizer:
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
        if not isinstance(sequence_length, int) or sequence_length < 3:
            raise ValueError(
                f"`sequence_length` must be an int of at least 3 (start, one token, end), "
                f"got {sequence_length!r}."
            )
        self.vocabulary = vocabulary
        self.lowercase = lowercase
        self.sequence_length = sequence_length
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

    def __call__(self, texts, add_start=True, add_end=True):
        """Vectorizes a batch of texts for a model: `pack(tokenize(texts))`.

        Args:
            texts: tf.string tensor [batch].
            add_start: bool, whether to begin each sequence with the start token.
            add_end: bool, whether to end each sequence with the end token.

        Returns:
            (token_ids, padding_mask): int32 and bool tensors [batch, length], padded to the
            longest sequence of the batch, `length <= sequence_length`.
        """
        return self.pack(self.tokenize(texts), add_start, add_end)

    def pack(self, token_ids, add_start=True, add_end=True):
        """Truncates ragged token ids, adds start/end tokens and pads to the batch's longest.

        Unlike keras_hub's StartEndPacker, which pads every batch to `sequence_length`,
        this pads only as far as the batch needs: recurrent layers pay for every step.
        """
        batch_size = token_ids.nrows()
        num_reserved = int(add_start) + int(add_end)
        token_ids = token_ids[:, : self.sequence_length - num_reserved]
        pieces = [token_ids]
        if add_start:
            pieces.insert(0, tf.fill([batch_size, 1], self.start_token_id))
        if add_end:
            pieces.append(tf.fill([batch_size, 1], self.end_token_id))
        token_ids = tf.concat(pieces, axis=1)
        padding_mask = tf.ones_like(token_ids, dtype=tf.bool).to_tensor(False)
        return token_ids.to_tensor(self.pad_token_id), padding_mask

    def detokenize(self, token_ids):
        """int [batch, length] -> tf.string [batch]; reads up to the first end token."""
        token_ids = tf.cast(token_ids, tf.int32)
        after_end = tf.cumsum(tf.cast(token_ids == self.end_token_id, tf.int32), axis=1) > 0
        keep = ~after_end & (token_ids != self.pad_token_id) & (token_ids != self.start_token_id)
        words = self._wordpiece.detokenize(tf.ragged.boolean_mask(token_ids, keep))
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
