"""SentencePieceVectorizer: text <-> token ids with a SentencePiece model, inside the graph."""

import base64

import keras
import tensorflow as tf
import tensorflow_text as tf_text

from zoo.text.segmentation import valid_utf8
from zoo.text.vectorizer import Vectorizer

# T5's reserved pieces, by id.
T5_RESERVED_PIECES = ("<pad>", "</s>", "<unk>")


@keras.saving.register_keras_serializable(package="zoo")
class SentencePieceVectorizer(Vectorizer):
    """Tokenizes and detokenizes text with a trained SentencePiece model, in-graph.

    A drop-in for `zoo.text.TextVectorizer` over a vocabulary learned elsewhere, such as a
    T5 checkpoint's: tensorflow-text runs the SentencePiece model (its own normaliser
    included), so the same ops run in `fit`, `predict` and an exported SavedModel. It keeps
    T5's conventions: id 0 is "<pad>", 1 the end token "</s>" and 2 "<unk>", and there is
    no start token: the decoder starts from the pad token, so `start_token_id` is 0 too.
    The serialized model travels in the config, so a `.keras` file holds it.

    Args:
        proto: bytes, a serialized SentencePiece model (`ModelProto`) whose pieces 0, 1 and
            2 are "<pad>", "</s>" and "<unk>", e.g. `keras_hub.models.T5Tokenizer`'s
            `proto`.
        sequence_length: int, the most token ids per text, start and end tokens included.
            Longer texts are truncated: their first `sequence_length - 2` tokens are kept.

    Example:
    >>> tokenizer = keras_hub.models.T5Tokenizer.from_preset("path/to/t5_preset")
    >>> vectorizer = zoo.text.SentencePieceVectorizer(tokenizer.proto)
    >>> token_ids, padding_mask = vectorizer(["the cat runs."])  # ends with 1, "</s>"
    >>> vectorizer.detokenize(token_ids)  # -> [b"the cat runs."]
    """

    pad_token_id, end_token_id, unk_token_id = range(len(T5_RESERVED_PIECES))
    start_token_id = pad_token_id

    def __init__(self, proto, sequence_length=64):
        if not isinstance(proto, bytes):
            raise TypeError(
                f"`proto` must be the bytes of a serialized SentencePiece model, got "
                f"{type(proto).__name__}."
            )
        super().__init__(sequence_length)
        self.proto = proto
        try:
            self._sentencepiece = tf_text.SentencepieceTokenizer(model=proto, out_type=tf.int32)
            self.vocabulary_size = int(self._sentencepiece.vocab_size())
        except tf.errors.InternalError:
            raise ValueError("`proto` is not a serialized SentencePiece model.") from None
        reserved = tuple(self.vocabulary[: len(T5_RESERVED_PIECES)])
        if reserved != T5_RESERVED_PIECES:
            raise ValueError(
                f"`proto`'s first pieces must be T5's {T5_RESERVED_PIECES} "
                f"(pad, end, unknown), got {reserved}."
            )

    @property
    def vocabulary(self):
        """The pieces, by id (list of str); words start with "▁"."""
        pieces = self.id_to_token(tf.range(self.vocabulary_size)).numpy()
        return [piece.decode() for piece in pieces]

    def tokenize(self, texts):
        """tf.string [batch] -> ragged int32 [batch, tokens], without reserved tokens."""
        return self._sentencepiece.tokenize(valid_utf8(texts))

    def detokenize(self, token_ids):
        """int [batch, length] -> tf.string [batch]; reads up to the first end token."""
        return self._sentencepiece.detokenize(self.readable_token_ids(token_ids))

    def id_to_token(self, token_ids):
        """int token ids (any shape) -> their pieces as tf.string, "▁" kept, for display."""
        return self._sentencepiece.id_to_string(tf.cast(token_ids, tf.int32))

    @property
    def resources(self):
        # The SentencePiece model lives in a TensorFlow resource, not a constant.
        return [self._sentencepiece]

    def get_config(self):
        return {
            "proto": base64.b64encode(self.proto).decode("ascii"),
            "sequence_length": self.sequence_length,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**{**config, "proto": base64.b64decode(config["proto"])})
