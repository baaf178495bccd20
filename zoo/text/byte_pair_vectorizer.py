"""BytePairVectorizer: text <-> token ids with BART's byte-level BPE, inside the graph."""

import keras
import keras_hub
import tensorflow as tf

from zoo.text.segmentation import valid_utf8
from zoo.text.vectorizer import Vectorizer

# BART's reserved tokens: the text's first token, padding, the end token, and the mask.
BART_RESERVED_TOKENS = ("<s>", "<pad>", "</s>", "<mask>")


@keras.saving.register_keras_serializable(package="zoo")
class BytePairVectorizer(Vectorizer):
    """Tokenizes and detokenizes text with a byte-level BPE vocabulary (GPT-2's and BART's),
    in-graph, packing token ids as keras-hub's BART preprocessor packs them.

    keras-hub's `BartTokenizer` splits and merges (its TensorFlow path, so `fit`, `predict`
    and an exported SavedModel run the same ops); this class keeps BART's layout: every
    text begins with "<s>" and ends with "</s>", and the decoder starts from "</s>", so a
    decoder reads "</s> <s> text" and writes "<s> text </s>". Reading ids back drops "<s>".

    Args:
        vocabulary: dict of token -> id, or list of str (the token of each id), holding
            "<s>", "<pad>", "</s>" and "<mask>"; the ids must be 0 to size - 1. Byte-level
            tokens spell a leading space as "Ġ".
        merges: list of str, the merge rules in order, each two tokens and a space
            ("Ġ t").
        sequence_length: int, the most token ids per text, "<s>", start and end tokens
            included. Longer texts are truncated.

    Example:
    >>> tokenizer = keras_hub.models.BartTokenizer.from_preset("path/to/bart_preset")
    >>> vectorizer = zoo.text.BytePairVectorizer(tokenizer.vocabulary, tokenizer.merges)
    >>> token_ids, padding_mask = vectorizer(["The cat runs."], add_start=False)
    >>> vectorizer.detokenize(token_ids)  # -> [b"The cat runs."]
    """

    def __init__(self, vocabulary, merges, sequence_length=64):
        super().__init__(sequence_length)
        self.vocabulary = _vocabulary_list(vocabulary)
        if isinstance(merges, str) or not all(isinstance(merge, str) for merge in merges):
            raise ValueError("`merges` must be a list of str merge rules such as 'Ġ t'.")
        self.merges = list(merges)
        self.vocabulary_size = len(self.vocabulary)
        ids = {token: index for index, token in enumerate(self.vocabulary)}
        self.begin_token_id, self.pad_token_id, self.end_token_id, self.mask_token_id = (
            ids[token] for token in BART_RESERVED_TOKENS
        )
        self.start_token_id = self.end_token_id  # BART's decoder starts from "</s>"
        self._tokenizer = keras_hub.models.BartTokenizer(vocabulary=ids, merges=self.merges)
        self._tokenizer.build(None)  # it has no weights, but an export tracks built layers only
        # Called eagerly, keras-hub's tokenizer runs its Python path and returns lists; in a
        # graph it runs its TensorFlow ops, which an export holds. Always a graph, traced once.
        self._tokenize = tf.function(
            self._tokenizer.tokenize, input_signature=[tf.TensorSpec([None], tf.string)]
        )
        self._detokenize = tf.function(
            self._tokenizer.detokenize,
            input_signature=[tf.RaggedTensorSpec([None, None], tf.int32)],
        )

    def tokenize(self, texts):
        """tf.string [batch] -> ragged int32 [batch, tokens]: "<s>" then the text's pieces."""
        pieces = self._tokenize(valid_utf8(texts))
        begin = tf.fill([pieces.nrows(), 1], tf.constant(self.begin_token_id, tf.int32))
        return tf.concat([tf.RaggedTensor.from_tensor(begin), pieces], axis=1)

    def detokenize(self, token_ids):
        """int [batch, length] -> tf.string [batch]; reads up to the first end token."""
        return self._detokenize(self.readable_token_ids(token_ids))

    def readable_token_ids(self, token_ids):
        readable = super().readable_token_ids(token_ids)
        return tf.ragged.boolean_mask(readable, readable != self.begin_token_id)

    def id_to_token(self, token_ids):
        """int token ids (any shape) -> their tokens as tf.string, "Ġ" kept, for display."""
        return self._tokenizer.id_to_token_map.lookup(tf.cast(token_ids, tf.int32))

    @property
    def resources(self):
        # The vocabulary, merge ranks and the cache of merged words are lookup tables.
        return [self._tokenizer]

    def get_config(self):
        return {
            "vocabulary": self.vocabulary,
            "merges": self.merges,
            "sequence_length": self.sequence_length,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _vocabulary_list(vocabulary):
    """The tokens by id (list of str) of a dict or list vocabulary, or a clear error."""
    if isinstance(vocabulary, dict):
        ids = sorted(vocabulary.values())
        if ids != list(range(len(vocabulary))):
            raise ValueError("`vocabulary`'s ids must be 0 to its size - 1, each once.")
        vocabulary = sorted(vocabulary, key=vocabulary.get)
    if isinstance(vocabulary, str) or not all(isinstance(token, str) for token in vocabulary):
        raise ValueError("`vocabulary` must be a dict of token -> id or a list of str tokens.")
    vocabulary = list(vocabulary)
    missing = [token for token in BART_RESERVED_TOKENS if token not in vocabulary]
    if missing:
        raise ValueError(f"`vocabulary` lacks BART's reserved tokens {missing}.")
    return vocabulary
