"""What the Transformer backbones (translator, captioner) share: the encoder layer stack and
the whole decoder side."""

import math

import keras
import keras_hub
from keras import ops

from zoo import checks
from zoo.layers.initializers import fresh_initializer
from zoo.layers.transformer_decoder_layer import TransformerDecoderLayer
from zoo.models.cached_encoder_decoder import CachedEncoderDecoder

POSITIONS = ("sinusoidal", "learned")


def embedding_initializer(hidden_dim):
    """Normal(0, d^-1/2), so that embeddings scaled by sqrt(d) have unit variance."""
    return keras.initializers.RandomNormal(stddev=hidden_dim**-0.5)


class TransformerDecoding(CachedEncoderDecoder):
    """Base of the backbones with a Transformer decoder (Vaswani et al. 2017).

    `_build_decoder` makes the target embedding (scaled by sqrt(hidden_dim), plus
    sinusoidal or learned positions), the stack of `zoo.layers.TransformerDecoderLayer`,
    the final normalisation (pre-LN only) and the output projection: the target embedding
    transposed when `tie_embeddings`, else its own matrix. Subclasses call it in `__init__`,
    build their encoder (`_build_encoder_layers` makes its stack of
    `keras_hub.layers.TransformerEncoder`, which `_run_encoder` runs over the embedded
    source text; a subclass over other sources overrides it, and `_source`) for
    `CachedEncoderDecoder`, which decodes step by step with fixed-size key/value caches.
    Both make their layers under the backbone's `dtype`.
    """

    def _build_encoder_layers(
        self,
        num_layers,
        intermediate_dim,
        num_heads,
        dropout,
        norm_first,
        dtype=None,
        activation="relu",
        initializer=None,
    ):
        self.encoder_layers = [
            keras_hub.layers.TransformerEncoder(
                intermediate_dim,
                num_heads,
                dropout=dropout,
                activation=activation,
                kernel_initializer=(
                    "glorot_uniform" if initializer is None else fresh_initializer(initializer)
                ),
                normalize_first=norm_first,
                dtype=dtype,
                name=f"encoder_layer_{i}",
            )
            for i in range(num_layers)
        ]
        # Pre-LN leaves the stack's output unnormalised: normalise it once at the end.
        self.encoder_norm = final_norm(norm_first and num_layers > 0, "encoder", dtype)

    def _build_decoder(
        self,
        vocabulary_size,
        num_layers,
        hidden_dim,
        num_heads,
        intermediate_dim,
        dropout,
        positions,
        max_sequence_length,
        norm_first,
        tie_embeddings,
        dtype=None,
        activation="relu",
        initializer=None,
    ):
        """Makes the decoder side; `initializer` (None: the Transformer's) starts every
        kernel, embedding and learned position."""

        def start(default):
            return default if initializer is None else fresh_initializer(initializer)

        self.target_embedding = keras_hub.layers.ReversibleEmbedding(
            vocabulary_size,
            hidden_dim,
            tie_weights=tie_embeddings,
            embeddings_initializer=start(embedding_initializer(hidden_dim)),
            dtype=dtype,
            name="target_embedding",
        )
        self.target_positions = (
            keras_hub.layers.SinePositionEncoding(dtype=dtype, name="position_encoding")
            if positions == "sinusoidal"
            else keras_hub.layers.PositionEmbedding(
                max_sequence_length,
                initializer=start("glorot_uniform"),
                dtype=dtype,
                name="target_positions",
            )
        )
        self.embedding_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embedding_dropout"
        )
        self.decoder_layers = [
            TransformerDecoderLayer(
                num_heads,
                intermediate_dim,
                dropout=dropout,
                activation=activation,
                norm_first=norm_first,
                kernel_initializer=start("glorot_uniform"),
                dtype=dtype,
                name=f"decoder_layer_{i}",
            )
            for i in range(num_layers)
        ]
        # Pre-LN leaves the stack's output unnormalised: normalise it once at the end.
        self.decoder_norm = final_norm(norm_first, "decoder", dtype)

    def _embed(self, side, token_ids, start_index=0, training=None):
        """Token ids of a side ("source" or "target") -> the first layer's inputs."""
        x = getattr(self, f"{side}_embedding")(token_ids) * math.sqrt(self.hidden_dim)
        x = x + getattr(self, f"{side}_positions")(x, start_index=start_index)
        return self.embedding_dropout(x, training=training)

    def _run_encoder(self, token_ids, padding_mask, training=None):
        """The text encoder: the source embedded, then the encoder layers (a subclass over
        other sources overrides it)."""
        x = self._embed("source", token_ids, training=training)
        for layer in self.encoder_layers:
            x = layer(x, padding_mask=padding_mask, training=training)
        return self.encoder_norm(x)

    def _run_decoder(
        self, token_ids, padding_mask, encoder_outputs, encoder_padding_mask, training=None
    ):
        """Teacher-forced decoder; returns its outputs and the last layer's cross-attention."""
        x = self._embed("target", token_ids, training=training)
        for layer in self.decoder_layers:
            x, weights = layer(
                x,
                encoder_outputs,
                padding_mask=padding_mask,
                encoder_padding_mask=encoder_padding_mask,
                training=training,
            )
        return self.decoder_norm(x), weights

    def _step_inputs(self, token_ids, index, max_length):
        x = self._embed("target", token_ids, start_index=index, training=False)
        return x, {}

    def _logits(self, decoder_outputs):
        return ops.cast(self.target_embedding(decoder_outputs, reverse=True), "float32")

    # === Decode functions ===
    def encode(self, source, padding_mask, max_length, return_attention=False):
        if self.positions == "learned" and max_length > self.max_sequence_length:
            raise ValueError(
                f"`max_length` must be at most {self.max_sequence_length}, the positions this "
                f"model learned, got {max_length}."
            )
        return super().encode(source, padding_mask, max_length, return_attention)


def check_transformer_options(hidden_dim, num_heads, dropout, positions, **positive_ints):
    """Checks the options every Transformer backbone has, and the given positive ints by
    their argument names; raises ValueError naming the first bad one."""
    for name, value in {"hidden_dim": hidden_dim, "num_heads": num_heads, **positive_ints}.items():
        checks.positive_int(value, name)
    if hidden_dim % num_heads:
        raise ValueError(
            f"`num_heads` must divide `hidden_dim` ({hidden_dim}), got num_heads={num_heads}."
        )
    checks.fraction(dropout, "dropout")
    checks.one_of(positions, POSITIONS, "positions")


def final_norm(norm_first, side, dtype=None):
    """The layer after a stack: a layer normalisation for pre-LN, else the identity."""
    if norm_first:
        return keras.layers.LayerNormalization(epsilon=1e-5, dtype=dtype, name=f"{side}_final_norm")
    return keras.layers.Identity(dtype=dtype, name=f"{side}_output")
