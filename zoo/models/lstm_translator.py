"""The recurrent encoder-decoder of Sutskever et al. (2014) and Cho et al. (2014)."""

import keras
import numpy as np

from zoo.layers import ReversePaddedSequence
from zoo.models.inputs import translation_inputs
from zoo.models.vectorizers import translation_vectorizers
from zoo.tasks import Seq2Seq

CELLS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


@keras.saving.register_keras_serializable(package="zoo")
class LSTMTranslatorBackbone(keras.Model):
    """A stacked LSTM/GRU encoder whose final states start a stacked decoder.

    The functional graph is the teacher-forced training graph: it maps the inputs
    `encoder_token_ids`, `encoder_padding_mask`, `decoder_token_ids` and
    `decoder_padding_mask` to next-token logits. `encode` and `step` run the same
    layers one token at a time for the samplers in `zoo.decoding`.

    Args:
        source_vocabulary_size: int, size of the source vocabulary.
        target_vocabulary_size: int, size of the target vocabulary.
        cell: "lstm" or "gru".
        embedding_dim: int, size of the token embeddings.
        units: int, size of every recurrent layer's state. A bidirectional encoder
            gives each direction `units // 2`, so its concatenated states fit the decoder.
        num_layers: int, recurrent layers in the encoder and in the decoder; decoder
            layer i starts from the final state of encoder layer i.
        bidirectional: bool, whether the encoder reads the source both ways.
        residual: bool, whether each stacked layer after the first adds its input to its output.
        layer_norm: bool, whether to layer-normalise between stacked layers.
        dropout: float, dropout on embeddings and between layers.
        reverse_source: bool, whether to feed the source backwards (Sutskever's trick).
        embeddings_initializer: initializer for both embedding tables.
        trainable_embeddings: bool, whether the embedding tables are trained.

    Example:
    >>> backbone = zoo.models.LSTMTranslatorBackbone(8000, 8000, units=256)
    >>> logits = backbone({"encoder_token_ids": ..., "encoder_padding_mask": ...,
    ...                    "decoder_token_ids": ..., "decoder_padding_mask": ...})
    """

    def __init__(
        self,
        source_vocabulary_size,
        target_vocabulary_size,
        cell="lstm",
        embedding_dim=256,
        units=512,
        num_layers=1,
        bidirectional=False,
        residual=False,
        layer_norm=False,
        dropout=0.0,
        reverse_source=False,
        embeddings_initializer="uniform",
        trainable_embeddings=True,
        **kwargs,
    ):
        _check_options(cell, units, num_layers, bidirectional, dropout)
        # === Config === (set first: the graph below reads these options)
        self.source_vocabulary_size = source_vocabulary_size
        self.target_vocabulary_size = target_vocabulary_size
        self.cell = cell
        self.embedding_dim = embedding_dim
        self.units = units
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.residual = residual
        self.layer_norm = layer_norm
        self.dropout = dropout
        self.reverse_source = reverse_source
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.trainable_embeddings = trainable_embeddings

        # === Layers ===
        self.source_reverser = (
            ReversePaddedSequence(name="source_reverser") if reverse_source else None
        )
        self.encoder_embedding = keras.layers.Embedding(
            source_vocabulary_size,
            embedding_dim,
            embeddings_initializer=embeddings_initializer,
            trainable=trainable_embeddings,
            name="encoder_embedding",
        )
        self.decoder_embedding = keras.layers.Embedding(
            target_vocabulary_size,
            embedding_dim,
            embeddings_initializer=embeddings_initializer,
            trainable=trainable_embeddings,
            name="decoder_embedding",
        )
        rnn = CELLS[cell]
        self.encoder_layers = [
            _encoder_layer(rnn, units, bidirectional, name=f"encoder_{cell}_{i}")
            for i in range(num_layers)
        ]
        self.decoder_layers = [
            rnn(units, return_sequences=True, return_state=True, name=f"decoder_{cell}_{i}")
            for i in range(num_layers)
        ]
        # Norms sit between layers: after every layer but the last.
        self.encoder_norms = _norms(layer_norm, num_layers, "encoder")
        self.decoder_norms = _norms(layer_norm, num_layers, "decoder")
        self.dropout_layer = keras.layers.Dropout(dropout, name="dropout")
        self.output_projection = keras.layers.Dense(
            target_vocabulary_size, name="output_projection"
        )

        # === Functional Model ===
        inputs = translation_inputs()
        encoder_states = self._run_encoder(
            inputs["encoder_token_ids"], inputs["encoder_padding_mask"]
        )
        x = self.dropout_layer(self.decoder_embedding(inputs["decoder_token_ids"]))
        for i, layer in enumerate(self.decoder_layers):
            outputs, *_ = layer(
                x, initial_state=encoder_states[i], mask=inputs["decoder_padding_mask"]
            )
            x = self._between_layers(i, x, outputs, self.decoder_norms)
        logits = self.output_projection(x)
        super().__init__(inputs=inputs, outputs=logits, **kwargs)

    def _run_encoder(self, token_ids, padding_mask, training=None):
        """Returns the final states of each encoder layer: a list of [h] or [h, c]."""
        if self.source_reverser is not None:
            token_ids = self.source_reverser(token_ids, padding_mask=padding_mask)
        x = self.dropout_layer(self.encoder_embedding(token_ids), training=training)
        final_states = []
        for i, layer in enumerate(self.encoder_layers):
            outputs, *states = layer(x, mask=padding_mask, training=training)
            final_states.append(_merge_directions(states) if self.bidirectional else states)
            x = self._between_layers(i, x, outputs, self.encoder_norms, training)
        return final_states

    def _between_layers(self, i, layer_inputs, layer_outputs, norms, training=None):
        """Residual connection, layer norm and dropout between stacked layers."""
        x = layer_outputs
        if self.residual and i > 0:
            x = x + layer_inputs
        if i < len(norms):
            x = norms[i](x)
        return self.dropout_layer(x, training=training)

    # === Decode functions ===
    def encode(self, encoder_token_ids, encoder_padding_mask):
        """Runs the encoder; returns the decoder's initial cache (per-layer states)."""
        return self._run_encoder(encoder_token_ids, encoder_padding_mask, training=False)

    def step(self, token_ids, cache, index):
        """Feeds one token [batch] through the decoder; returns (logits, cache)."""
        del index  # Recurrent state already knows the position.
        x = self.decoder_embedding(token_ids)
        next_cache = []
        for i, layer in enumerate(self.decoder_layers):
            outputs, states = layer.cell(x, cache[i], training=False)
            next_cache.append(states)
            x = self._between_layers(i, x, outputs, self.decoder_norms, training=False)
        return self.output_projection(x), next_cache

    def get_config(self):
        return {
            "source_vocabulary_size": self.source_vocabulary_size,
            "target_vocabulary_size": self.target_vocabulary_size,
            "cell": self.cell,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "num_layers": self.num_layers,
            "bidirectional": self.bidirectional,
            "residual": self.residual,
            "layer_norm": self.layer_norm,
            "dropout": self.dropout,
            "reverse_source": self.reverse_source,
            "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
            "trainable_embeddings": self.trainable_embeddings,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_options(cell, units, num_layers, bidirectional, dropout):
    if cell not in CELLS:
        raise ValueError(f"`cell` must be one of {tuple(CELLS)}, got {cell!r}.")
    if not isinstance(num_layers, int) or num_layers < 1:
        raise ValueError(f"`num_layers` must be a positive int, got {num_layers!r}.")
    if not isinstance(units, int) or units < 1:
        raise ValueError(f"`units` must be a positive int, got {units!r}.")
    if bidirectional and units % 2:
        raise ValueError(
            f"`units` must be even with `bidirectional=True` (each direction gets half), "
            f"got {units!r}."
        )
    if not 0 <= dropout < 1:
        raise ValueError(f"`dropout` must be in [0, 1), got {dropout!r}.")


def _encoder_layer(rnn, units, bidirectional, name):
    if not bidirectional:
        return rnn(units, return_sequences=True, return_state=True, name=name)
    return keras.layers.Bidirectional(
        rnn(units // 2, return_sequences=True, return_state=True), name=name
    )


def _merge_directions(states):
    """[fw_h, (fw_c,) bw_h, (bw_c)] -> [h, (c)], each the two directions concatenated."""
    half = len(states) // 2
    return [
        keras.ops.concatenate([forward, backward], axis=-1)
        for forward, backward in zip(states[:half], states[half:], strict=True)
    ]


def _norms(layer_norm, num_layers, prefix):
    if not layer_norm:
        return []
    return [
        keras.layers.LayerNormalization(name=f"{prefix}_layer_norm_{i}")
        for i in range(num_layers - 1)
    ]


def set_embedding_matrix(embedding, matrix, argument):
    """Loads a given (pretrained) matrix into an Embedding layer, checking its shape."""
    matrix = np.asarray(matrix, dtype="float32")
    expected = tuple(embedding.embeddings.shape)
    if matrix.shape != expected:
        raise ValueError(
            f"`{argument}` must have shape (vocabulary_size, embedding_dim) = {expected}, "
            f"got {matrix.shape}."
        )
    embedding.embeddings.assign(matrix)


def lstm_translator(
    source_texts=None,
    target_texts=None,
    *,
    source_vectorizer=None,
    target_vectorizer=None,
    vocabulary_size=8000,
    tokenizer_level="subword",
    lowercase=False,
    sequence_length=64,
    cell="lstm",
    embedding_dim=256,
    units=512,
    num_layers=1,
    bidirectional=False,
    residual=False,
    layer_norm=False,
    dropout=0.0,
    reverse_source=False,
    embeddings_initializer="uniform",
    trainable_embeddings=True,
    sampler="greedy",
):
    """Builds a compiled recurrent translator (Sutskever et al. 2014) from parallel texts.

    The vocabularies are learned from `source_texts` and `target_texts` unless vectorizers
    are given. See `LSTMTranslatorBackbone` for the architecture options.

    Args:
        source_texts: list of str, the corpus to learn the source vocabulary from.
        target_texts: list of str, parallel to `source_texts`, for the target vocabulary.
        source_vectorizer: a ready `zoo.text.TextVectorizer`, instead of learning one.
        target_vectorizer: a ready `zoo.text.TextVectorizer`, instead of learning one.
        vocabulary_size: int, tokens per learned vocabulary.
        tokenizer_level: "subword", "word" or "character".
        lowercase: bool, whether learned vectorizers lower-case text.
        sequence_length: int, most tokens per text; longer texts are truncated.
        embeddings_initializer: an initializer for both embeddings, or a dict with keys
            "source" and/or "target" mapping to matrices (e.g. pretrained word vectors,
            shape `(vocabulary_size, embedding_dim)` in the vectorizer's token order).
        sampler: default decoding strategy ("greedy", "beam", "random" or a Sampler).
        **others: see `LSTMTranslatorBackbone`.

    Returns:
        A compiled `zoo.tasks.Seq2Seq`.

    Example:
    >>> sources, targets = zoo.datasets.load_translation("tatoeba")
    >>> model = zoo.lstm_translator(sources, targets, units=256, num_layers=2)
    >>> model.fit(sources, targets, epochs=1)
    >>> model.predict("I am cold.")
    """
    source_vectorizer, target_vectorizer = translation_vectorizers(
        source_texts,
        target_texts,
        source_vectorizer,
        target_vectorizer,
        vocabulary_size,
        tokenizer_level,
        lowercase,
        sequence_length,
    )
    embedding_matrices = embeddings_initializer if isinstance(embeddings_initializer, dict) else {}
    unknown_keys = set(embedding_matrices) - {"source", "target"}
    if unknown_keys:
        raise ValueError(
            f"`embeddings_initializer` as a dict takes the keys 'source' and 'target', "
            f"got {sorted(unknown_keys)}."
        )
    backbone = LSTMTranslatorBackbone(
        source_vectorizer.vocabulary_size,
        target_vectorizer.vocabulary_size,
        cell=cell,
        embedding_dim=embedding_dim,
        units=units,
        num_layers=num_layers,
        bidirectional=bidirectional,
        residual=residual,
        layer_norm=layer_norm,
        dropout=dropout,
        reverse_source=reverse_source,
        embeddings_initializer="uniform" if embedding_matrices else embeddings_initializer,
        trainable_embeddings=trainable_embeddings,
    )
    for side, embedding in (
        ("source", backbone.encoder_embedding),
        ("target", backbone.decoder_embedding),
    ):
        if side in embedding_matrices:
            set_embedding_matrix(
                embedding, embedding_matrices[side], f"embeddings_initializer['{side}']"
            )
    model = Seq2Seq(backbone, source_vectorizer, target_vectorizer)
    model.compile(sampler=sampler)
    return model
