"""T5, the Text-to-Text Transfer Transformer of Raffel et al. (2020): its backbone."""

import keras
import keras_hub
from keras import ops

from zoo import checks
from zoo.layers.relative_position_bias import RelativePositionBias
from zoo.layers.t5_decoder_layer import T5DecoderLayer
from zoo.layers.t5_encoder_layer import T5EncoderLayer
from zoo.models.cached_encoder_decoder import CachedEncoderDecoder

# The feed-forward networks, as (activation, gated): T5's ReLU, T5.1.1's gated GELU (tanh
# approximation), and the gated exact GELU that keras-hub's "t5_1.1_*" presets compute.
FEED_FORWARDS = {
    "relu": ("relu", False),
    "gated-gelu": ("gelu_approximate", True),
    "gated-gelu-exact": ("gelu", True),
}


@keras.saving.register_keras_serializable(package="zoo")
class T5Backbone(CachedEncoderDecoder):
    """A T5 encoder-decoder: pre-norm Transformer stacks with relative position biases.

    One embedding table serves the encoder, the decoder and (with `tie_embeddings`) the
    output projection, so source and target share one vocabulary. There are no position
    embeddings: each stack learns one `zoo.layers.RelativePositionBias` (bidirectional for
    the encoder, causal for the decoder's self-attention), computed once per forward pass
    and added to the attention scores of every layer of the stack; cross-attention has no
    position bias. The layers (`zoo.layers.T5EncoderLayer`, `zoo.layers.T5DecoderLayer`)
    normalise each sub-layer's input with an RMS norm and have no bias terms; each stack
    ends in an RMS norm. Dropout acts on the embeddings, on every sub-layer's output, on the
    attention weights, inside the feed-forward networks and after each stack's final norm.
    The tied output projection is the embedding transposed, applied to the decoder outputs
    scaled by hidden_dim^-1/2 (T5 v1.0); untied (T5.1.1), a bias-free Dense.

    The functional graph is the teacher-forced training graph over the named translation
    inputs. `encode` and `step` (from `CachedEncoderDecoder`) decode one token at a time with
    fixed-size key/value caches; relative positions put no bound on the decoded length.

    Args:
        vocabulary_size: int, the shared vocabulary's size.
        num_encoder_layers: int.
        num_decoder_layers: int.
        hidden_dim: int, the model's width (d_model).
        num_heads: int, attention heads.
        intermediate_dim: int, hidden size of the feed-forward networks (d_ff).
        key_value_dim: int, the size of each head (d_kv); by default
            hidden_dim // num_heads, and `num_heads` must then divide `hidden_dim`.
        dropout: float, the dropout rate.
        feed_forward: "relu" (T5), "gated-gelu" (T5.1.1) or "gated-gelu-exact" (T5.1.1 with
            the exact GELU rather than its tanh approximation, as keras-hub computes it).
        num_buckets: int, relative position buckets per stack.
        max_distance: int, the distance from which all relative positions share a bucket.
        tie_embeddings: bool, whether the output projection is the embedding (T5) or its
            own matrix (T5.1.1).
        layer_norm_epsilon: float, the RMS norms' epsilon.
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or a `keras.DTypePolicy`: every layer's policy, as in
            keras-hub backbones. Under a mixed policy the layers compute in 16 bits and
            keep float32 weights; the attention softmaxes and the logits are float32.

    Example:
    >>> backbone = zoo.models.T5Backbone(8000, num_encoder_layers=3, num_decoder_layers=3)
    >>> logits = backbone({"encoder_token_ids": ..., "encoder_padding_mask": ...,
    ...                    "decoder_token_ids": ..., "decoder_padding_mask": ...})
    """

    def __init__(
        self,
        vocabulary_size,
        num_encoder_layers=3,
        num_decoder_layers=3,
        hidden_dim=256,
        num_heads=4,
        intermediate_dim=1024,
        key_value_dim=None,
        dropout=0.1,
        feed_forward="relu",
        num_buckets=32,
        max_distance=128,
        tie_embeddings=True,
        layer_norm_epsilon=1e-6,
        dtype=None,
        **kwargs,
    ):
        for name, value in (
            ("vocabulary_size", vocabulary_size),
            ("num_encoder_layers", num_encoder_layers),
            ("num_decoder_layers", num_decoder_layers),
            ("hidden_dim", hidden_dim),
            ("num_heads", num_heads),
            ("intermediate_dim", intermediate_dim),
        ):
            checks.positive_int(value, name)
        if key_value_dim is not None:
            checks.positive_int(key_value_dim, "key_value_dim")
        elif hidden_dim % num_heads:
            raise ValueError(
                f"`num_heads` must divide `hidden_dim` ({hidden_dim}) unless `key_value_dim` is "
                f"given, got num_heads={num_heads}."
            )
        checks.fraction(dropout, "dropout")
        checks.one_of(feed_forward, FEED_FORWARDS, "feed_forward")
        if not isinstance(tie_embeddings, bool):
            raise ValueError(f"`tie_embeddings` must be a bool, got {tie_embeddings!r}.")
        checks.positive_number(layer_norm_epsilon, "layer_norm_epsilon")

        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_encoder_layers = num_encoder_layers
        self.num_decoder_layers = num_decoder_layers
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.key_value_dim = key_value_dim
        self.dropout = dropout
        self.feed_forward = feed_forward
        self.num_buckets = num_buckets
        self.max_distance = max_distance
        self.tie_embeddings = tie_embeddings
        self.layer_norm_epsilon = layer_norm_epsilon

        # === Layers ===
        # Normal(0, 1), as T5: no sqrt(d) scaling, and the first layer normalises anyway.
        self.token_embedding = keras_hub.layers.ReversibleEmbedding(
            vocabulary_size,
            hidden_dim,
            tie_weights=True,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=1.0),
            dtype=dtype,
            name="token_embedding",
        )
        self.output_projection = (
            None
            if tie_embeddings
            else keras.layers.Dense(
                vocabulary_size,
                use_bias=False,
                kernel_initializer=keras.initializers.RandomNormal(stddev=hidden_dim**-0.5),
                dtype=dtype,
                name="output_projection",
            )
        )
        self.encoder_position_bias, self.decoder_position_bias = (
            RelativePositionBias(
                num_heads,
                num_buckets=num_buckets,
                max_distance=max_distance,
                bidirectional=bidirectional,
                dtype=dtype,
                name=f"{side}_position_bias",
            )
            for side, bidirectional in (("encoder", True), ("decoder", False))
        )
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=dtype, name="dropout")
        activation, gated = FEED_FORWARDS[feed_forward]
        layer_options = {
            "num_heads": num_heads,
            "intermediate_dim": intermediate_dim,
            "key_value_dim": key_value_dim,
            "dropout": dropout,
            "activation": activation,
            "gated": gated,
            "layer_norm_epsilon": layer_norm_epsilon,
            "dtype": dtype,
        }
        self.encoder_layers = [
            T5EncoderLayer(**layer_options, name=f"encoder_layer_{i}")
            for i in range(num_encoder_layers)
        ]
        self.decoder_layers = [
            T5DecoderLayer(**layer_options, name=f"decoder_layer_{i}")
            for i in range(num_decoder_layers)
        ]
        self.encoder_norm, self.decoder_norm = (
            keras.layers.RMSNormalization(
                epsilon=layer_norm_epsilon, dtype=dtype, name=f"{side}_final_norm"
            )
            for side in ("encoder", "decoder")
        )

        # === Functional Model ===
        inputs, logits = self._teacher_forced_graph()
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype, **kwargs)

    def _embed(self, token_ids, training=None):
        return self.dropout_layer(self.token_embedding(token_ids), training=training)

    def _logits(self, decoder_outputs):
        if self.tie_embeddings:
            # T5 v1.0 rescales before the tied projection: the embeddings are Normal(0, 1).
            logits = self.token_embedding(decoder_outputs * self.hidden_dim**-0.5, reverse=True)
        else:
            logits = self.output_projection(decoder_outputs)
        return ops.cast(logits, "float32")

    def _run_encoder(self, token_ids, padding_mask, training=None):
        x = self._embed(token_ids, training=training)
        length = _sequence_length(token_ids)
        position_bias = self.encoder_position_bias(query_length=length, key_length=length)
        for layer in self.encoder_layers:
            x = layer(x, position_bias=position_bias, padding_mask=padding_mask, training=training)
        return self.dropout_layer(self.encoder_norm(x), training=training)

    def _run_decoder(
        self, token_ids, padding_mask, encoder_outputs, encoder_padding_mask, training=None
    ):
        """Teacher-forced decoder; returns its outputs and the last layer's cross-attention."""
        x = self._embed(token_ids, training=training)
        length = _sequence_length(token_ids)
        position_bias = self.decoder_position_bias(query_length=length, key_length=length)
        for layer in self.decoder_layers:
            x, weights = layer(
                x,
                encoder_outputs,
                position_bias=position_bias,
                padding_mask=padding_mask,
                encoder_padding_mask=encoder_padding_mask,
                training=training,
            )
        return self.dropout_layer(self.decoder_norm(x), training=training), weights

    def _step_inputs(self, token_ids, index, max_length):
        # Row `index` of the causal bias over every cache position; the self-attention
        # mask hides the positions after `index`.
        position_bias = self.decoder_position_bias(
            query_length=1, key_length=max_length, query_start=index
        )
        return self._embed(token_ids, training=False), {"position_bias": position_bias}

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "num_encoder_layers": self.num_encoder_layers,
            "num_decoder_layers": self.num_decoder_layers,
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "key_value_dim": self.key_value_dim,
            "dropout": self.dropout,
            "feed_forward": self.feed_forward,
            "num_buckets": self.num_buckets,
            "max_distance": self.max_distance,
            "tie_embeddings": self.tie_embeddings,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }


def _sequence_length(token_ids):
    """The length of a batch of sequences as a scalar tensor: the functional graph has no
    static length to give the position bias, but the size of a reduction over the batch is a
    tensor, also for an empty batch (which an export may be sent)."""
    return ops.size(ops.sum(token_ids, axis=0))
