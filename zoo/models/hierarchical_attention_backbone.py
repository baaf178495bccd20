"""The hierarchical attention network of Yang et al. (2016) for document classification: its
backbone."""

import keras
from keras import ops

from zoo import checks
from zoo.layers.attention_pooling import AttentionPooling
from zoo.models.backbone import Backbone


@keras.saving.register_keras_serializable(package="zoo")
class HierarchicalAttentionBackbone(Backbone):
    """Words -> sentence vectors -> a document vector -> class logits, attending at each level.

    A bidirectional GRU reads the words of every sentence, and word-level attention with a
    learned context vector (`zoo.layers.AttentionPooling`) pools them into a sentence
    vector; a second bidirectional GRU reads the sentence vectors, and sentence-level
    attention pools them into the document vector, which a dense layer maps to logits.

    The functional graph maps the inputs `word_token_ids`: int32 [batch, sentences, words]
    and `word_padding_mask`: bool [batch, sentences, words] (True at real tokens) to logits
    [batch, num_classes]. A sentence without any real token is padding.
    `call_with_attention` also returns both levels' attention weights.

    Args:
        vocabulary_size: int, size of the word vocabulary.
        num_classes: int, number of classes.
        embedding_dim: int, size of the word embeddings.
        units: int, state size of each direction of both GRUs; their outputs have
            `2 * units` features.
        attention_units: int, hidden size of both attention scoring networks; defaults to
            `2 * units`, as in the paper.
        dropout: float, dropout on the word embeddings and on the document vector.
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or a `keras.DTypePolicy`: every layer's policy, as in
            keras-hub backbones. Under a mixed policy the layers compute in 16 bits and
            keep float32 weights; the attention softmaxes, the attention weights returned
            and the logits are float32.

    Example:
    >>> backbone = zoo.models.HierarchicalAttentionBackbone(20000, num_classes=5)
    >>> logits = backbone({"word_token_ids": ..., "word_padding_mask": ...})
    >>> backbone.call_with_attention({...})["sentence_attention"]  # [batch, sentences]
    """

    def __init__(
        self,
        vocabulary_size,
        num_classes,
        embedding_dim=200,
        units=50,
        attention_units=None,
        dropout=0.0,
        dtype=None,
        **kwargs,
    ):
        attention_units = 2 * units if attention_units is None else attention_units
        _check_options(
            vocabulary_size=vocabulary_size,
            num_classes=num_classes,
            embedding_dim=embedding_dim,
            units=units,
            attention_units=attention_units,
            dropout=dropout,
        )
        # === Config === (set first: the graph below reads these options)
        self.vocabulary_size = vocabulary_size
        self.num_classes = num_classes
        self.embedding_dim = embedding_dim
        self.units = units
        self.attention_units = attention_units
        self.dropout = dropout

        # === Layers ===
        self.word_embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim, dtype=dtype, name="word_embedding"
        )
        self.fold_sentences = FoldSentences(dtype=dtype, name="fold_sentences")
        self.word_encoder = keras.layers.Bidirectional(
            keras.layers.GRU(units, return_sequences=True, dtype=dtype, name="word_gru"),
            dtype=dtype,
            name="word_encoder",
        )
        self.word_attention = AttentionPooling(attention_units, dtype=dtype, name="word_attention")
        self.unfold_sentences = UnfoldSentences(dtype=dtype, name="unfold_sentences")
        self.sentence_encoder = keras.layers.Bidirectional(
            keras.layers.GRU(units, return_sequences=True, dtype=dtype, name="sentence_gru"),
            dtype=dtype,
            name="sentence_encoder",
        )
        self.sentence_attention = AttentionPooling(
            attention_units, dtype=dtype, name="sentence_attention"
        )
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=dtype, name="dropout")
        self.output_projection = keras.layers.Dense(
            num_classes, dtype=dtype, name="output_projection"
        )

        # === Functional Model ===
        inputs = {
            "word_token_ids": keras.Input((None, None), dtype="int32", name="word_token_ids"),
            "word_padding_mask": keras.Input((None, None), dtype="bool", name="word_padding_mask"),
        }
        outputs = self._run(inputs["word_token_ids"], inputs["word_padding_mask"])
        super().__init__(inputs=inputs, outputs=outputs["logits"], dtype=dtype, **kwargs)

    def _run(self, word_token_ids, word_padding_mask, training=None):
        """Returns a dict of `logits`, `word_attention` and `sentence_attention`."""
        sentence_padding_mask = ops.any(word_padding_mask, axis=-1)
        # Every sentence of every document is one sequence for the word encoder.
        token_ids = self.fold_sentences(word_token_ids)
        padding_mask = self.fold_sentences(word_padding_mask)
        x = self.dropout_layer(self.word_embedding(token_ids), training=training)
        x = self.word_encoder(x, mask=padding_mask, training=training)
        sentence_vectors, word_weights = self.word_attention(x, padding_mask=padding_mask)
        sentence_vectors = self.unfold_sentences(sentence_vectors, word_token_ids)
        x = self.sentence_encoder(sentence_vectors, mask=sentence_padding_mask, training=training)
        document_vectors, sentence_weights = self.sentence_attention(
            x, padding_mask=sentence_padding_mask
        )
        logits = self.output_projection(self.dropout_layer(document_vectors, training=training))
        # float32 whatever the policy: the loss reads the logits, `predict` the weights.
        return {
            "logits": ops.cast(logits, "float32"),
            "word_attention": ops.cast(
                self.unfold_sentences(word_weights, word_token_ids), "float32"
            ),
            "sentence_attention": ops.cast(sentence_weights, "float32"),
        }

    def call_with_attention(self, inputs, training=False):
        """Runs the model on its input dict; returns a dict of `logits` [batch, num_classes],
        `word_attention` [batch, sentences, words] (each real sentence's weights sum to 1)
        and `sentence_attention` [batch, sentences]. Padding gets exactly zero weight."""
        return self._run(inputs["word_token_ids"], inputs["word_padding_mask"], training)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "num_classes": self.num_classes,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "attention_units": self.attention_units,
            "dropout": self.dropout,
        }


@keras.saving.register_keras_serializable(package="zoo")
class FoldSentences(keras.layers.Layer):
    """[batch, sentences, words, ...] -> [batch * sentences, words, ...]."""

    def call(self, inputs):
        shape = ops.shape(inputs)
        return ops.reshape(inputs, (-1, *shape[2:]))

    def compute_output_shape(self, input_shape):
        batch, sentences = input_shape[:2]
        merged = None if batch is None or sentences is None else batch * sentences
        return (merged, *input_shape[2:])


@keras.saving.register_keras_serializable(package="zoo")
class UnfoldSentences(keras.layers.Layer):
    """Inverse of `FoldSentences`: `folded` [batch * sentences, ...] -> [batch, sentences,
    ...], taking batch and sentences from `reference` ([batch, sentences, ...])."""

    def call(self, folded, reference):
        batch_and_sentences = ops.shape(reference)[:2]
        return ops.reshape(folded, (*batch_and_sentences, *ops.shape(folded)[1:]))

    def compute_output_shape(self, folded_shape, reference_shape):
        return (*reference_shape[:2], *folded_shape[1:])


def _check_options(**options):
    for name in ("vocabulary_size", "num_classes", "embedding_dim", "units", "attention_units"):
        checks.positive_int(options[name], name)
    checks.fraction(options["dropout"], "dropout")
