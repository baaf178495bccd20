"""The convolutional sequence-to-sequence model of Gehring et al. (2017), fairseq's ConvS2S:
its backbone."""

import math

import keras
import keras_hub
from keras import ops

from zoo import checks
from zoo.decoding.attention_buffer import record_attention, with_attention_buffer
from zoo.layers.gated_convolution import GatedConvolution
from zoo.layers.multi_step_attention import MultiStepAttention
from zoo.models.backbone import Backbone
from zoo.models.inputs import translation_inputs


def _scaled_sum(x, y):
    """(x + y) * sqrt(0.5): ConvS2S scales its residual sums so that their variance stays.
    (Written as a division: Keras marks a symbolic tensor times a Python float as sparse.)"""
    return (x + y) / math.sqrt(2)


@keras.saving.register_keras_serializable(package="zoo")
class ConvS2SBackbone(Backbone):
    """A ConvS2S encoder-decoder: gated convolutions instead of recurrence or self-attention.

    Both sides embed tokens plus learned positions (Normal(0, 0.1), as fairseq), project them
    to `channels`, and run a stack of `zoo.layers.GatedConvolution`, each added to its input
    and scaled by sqrt(0.5); the decoder's convolutions are causal, and each decoder layer
    attends over the source on its own (`zoo.layers.MultiStepAttention`): the keys are the
    encoder's outputs projected back to the embedding size, the values those plus the source
    embeddings, scaled by sqrt(0.5). The decoder's output is projected to the embedding size,
    dropped out, and to the vocabulary. Dropout acts on the embeddings, on every
    convolution's input and before the output projection. Left out from fairseq: weight
    normalisation, and the encoder's gradient scaled by 1 / (2 x decoder layers).

    The functional graph is the teacher-forced training graph over the named translation
    inputs. `encode` and `step` decode one token at a time: each decoder layer keeps its last
    `kernel_size - 1` inputs, a fixed-size cache, so that the loop compiles with XLA.
    `attention_weights` gives every decoder layer's attention.

    Args:
        source_vocabulary_size: int.
        target_vocabulary_size: int.
        num_encoder_layers: int.
        num_decoder_layers: int.
        embedding_dim: int, the size of the embeddings, keys and values.
        channels: int, the convolutions' channels.
        kernel_size: int, the convolutions' width (the decoder's reads this many tokens).
        dropout: float.
        max_sequence_length: int, the longest sequence the learned positions cover.
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or a `keras.DTypePolicy`: every layer's policy. The attention
            softmaxes and the logits are float32.

    Example:
    >>> backbone = zoo.models.ConvS2SBackbone(8000, 8000, num_encoder_layers=4)
    >>> logits = backbone({"encoder_token_ids": ..., "encoder_padding_mask": ...,
    ...                    "decoder_token_ids": ..., "decoder_padding_mask": ...})
    """

    has_attention = True

    def __init__(
        self,
        source_vocabulary_size,
        target_vocabulary_size,
        num_encoder_layers=4,
        num_decoder_layers=4,
        embedding_dim=256,
        channels=256,
        kernel_size=3,
        dropout=0.1,
        max_sequence_length=64,
        dtype=None,
        **kwargs,
    ):
        for name, value in (
            ("source_vocabulary_size", source_vocabulary_size),
            ("target_vocabulary_size", target_vocabulary_size),
            ("num_encoder_layers", num_encoder_layers),
            ("num_decoder_layers", num_decoder_layers),
            ("embedding_dim", embedding_dim),
            ("channels", channels),
            ("kernel_size", kernel_size),
            ("max_sequence_length", max_sequence_length),
        ):
            checks.positive_int(value, name)
        checks.fraction(dropout, "dropout")
        # === Config ===
        self.source_vocabulary_size = source_vocabulary_size
        self.target_vocabulary_size = target_vocabulary_size
        self.num_encoder_layers = num_encoder_layers
        self.num_decoder_layers = num_decoder_layers
        self.embedding_dim = embedding_dim
        self.channels = channels
        self.kernel_size = kernel_size
        self.dropout = dropout
        self.max_sequence_length = max_sequence_length

        # === Layers ===
        self.source_embedding, self.source_positions = self._embeddings(
            "source", source_vocabulary_size, dtype
        )
        self.target_embedding, self.target_positions = self._embeddings(
            "target", target_vocabulary_size, dtype
        )
        self.embedding_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embedding_dropout"
        )
        self.encoder_input = self._dense(channels, "encoder_input", dtype, dropout)
        self.encoder_convolutions = [
            GatedConvolution(
                channels, kernel_size, dropout=dropout, dtype=dtype, name=f"encoder_layer_{i}"
            )
            for i in range(num_encoder_layers)
        ]
        self.encoder_output = self._dense(embedding_dim, "encoder_output", dtype)
        self.decoder_input = self._dense(channels, "decoder_input", dtype, dropout)
        self.decoder_convolutions = [
            GatedConvolution(
                channels,
                kernel_size,
                causal=True,
                dropout=dropout,
                dtype=dtype,
                name=f"decoder_layer_{i}",
            )
            for i in range(num_decoder_layers)
        ]
        self.decoder_attentions = [
            MultiStepAttention(embedding_dim, dtype=dtype, name=f"decoder_attention_{i}")
            for i in range(num_decoder_layers)
        ]
        self.decoder_output = self._dense(embedding_dim, "decoder_output", dtype)
        self.output_dropout = keras.layers.Dropout(dropout, dtype=dtype, name="output_dropout")
        self.output_projection = self._dense(
            target_vocabulary_size, "output_projection", dtype, dropout
        )

        # === Functional Model ===
        inputs = translation_inputs()
        keys, values = self._run_encoder(
            inputs["encoder_token_ids"], inputs["encoder_padding_mask"]
        )
        outputs, _ = self._run_decoder(
            inputs["decoder_token_ids"], keys, values, inputs["encoder_padding_mask"]
        )
        super().__init__(inputs=inputs, outputs=self._logits(outputs), dtype=dtype, **kwargs)

    def _embeddings(self, side, vocabulary_size, dtype):
        normal = keras.initializers.RandomNormal(stddev=0.1)
        embedding = keras.layers.Embedding(
            vocabulary_size,
            self.embedding_dim,
            embeddings_initializer=normal,
            dtype=dtype,
            name=f"{side}_embedding",
        )
        positions = keras_hub.layers.PositionEmbedding(
            self.max_sequence_length,
            initializer=normal,
            dtype=dtype,
            name=f"{side}_positions",
        )
        return embedding, positions

    def _dense(self, units, name, dtype, dropout=0.0):
        # fairseq's Linear: Normal(0, sqrt((1 - dropout) / input size)), zero biases.
        initializer = keras.initializers.VarianceScaling(
            1 - dropout, mode="fan_in", distribution="untruncated_normal"
        )
        return keras.layers.Dense(units, kernel_initializer=initializer, dtype=dtype, name=name)

    def _embed(self, embedding, positions, token_ids, start_index=0, training=None):
        x = embedding(token_ids)
        x = x + positions(x, start_index=start_index)
        return self.embedding_dropout(x, training=training)

    def _run_encoder(self, token_ids, padding_mask, training=None):
        """Returns the attention's keys and values, [batch, source_length, embedding_dim]."""
        embedded = self._embed(
            self.source_embedding, self.source_positions, token_ids, training=training
        )
        x = self.encoder_input(embedded)
        for convolution in self.encoder_convolutions:
            x = _scaled_sum(convolution(x, padding_mask=padding_mask, training=training), x)
        keys = self.encoder_output(x)
        if padding_mask is not None:
            keys = keys * ops.cast(ops.expand_dims(padding_mask, -1), keys.dtype)
        return keys, _scaled_sum(keys, embedded)

    def _run_decoder(self, token_ids, keys, values, encoder_padding_mask, training=None):
        """Teacher-forced decoder; returns its outputs and every layer's attention, float32
        [batch, layers, decoder_length, source_length]."""
        embedded = self._embed(
            self.target_embedding, self.target_positions, token_ids, training=training
        )
        x = self.decoder_input(embedded)
        layer_weights = []
        for convolution, attention in zip(
            self.decoder_convolutions, self.decoder_attentions, strict=True
        ):
            attended, weights = attention(
                convolution(x, training=training), embedded, keys, values, encoder_padding_mask
            )
            x = _scaled_sum(attended, x)
            layer_weights.append(weights)
        return self.decoder_output(x), ops.stack(layer_weights, axis=1)

    def _logits(self, decoder_outputs, training=None):
        x = self.output_dropout(decoder_outputs, training=training)
        # float32 whatever the policy: the loss and the samplers read them.
        return ops.cast(self.output_projection(x), "float32")

    def attention_weights(self, inputs):
        """Every decoder layer's attention when the decoder reads the given (teacher-forced)
        inputs: float32 [batch, layers, decoder_length, source_length]."""
        keys, values = self._run_encoder(
            inputs["encoder_token_ids"], inputs["encoder_padding_mask"], training=False
        )
        _, weights = self._run_decoder(
            inputs["decoder_token_ids"],
            keys,
            values,
            inputs["encoder_padding_mask"],
            training=False,
        )
        return weights

    # === Decode functions ===
    def encode(self, source, padding_mask, max_length, return_attention=False):
        """Runs the encoder; returns the decoder's initial cache for `max_length` steps.

        The cache holds the attention's keys and values, the source's padding mask (unless
        None: every position is attended to) and each decoder layer's zeroed convolution
        cache, its last `kernel_size - 1` inputs [batch, kernel_size - 1, channels]. With
        `return_attention`, also a zeroed float32 "attention_weights" buffer [batch, layers,
        source_length, max_length] that `step` fills column by column.
        """
        if max_length > self.max_sequence_length:
            raise ValueError(
                f"`max_length` must be at most {self.max_sequence_length}, the positions this "
                f"model learned, got {max_length}."
            )
        keys, values = self._run_encoder(source, padding_mask, training=False)
        batch_size, source_length = ops.shape(keys)[0], ops.shape(keys)[1]
        empty = ops.zeros(
            self.decoder_convolutions[0].cache_shape(batch_size, self.channels),
            self.compute_dtype,
        )
        cache = {
            "keys": keys,
            "values": values,
            "convolutions": [empty] * self.num_decoder_layers,
        }
        if padding_mask is not None:
            cache["encoder_padding_mask"] = padding_mask
        if return_attention:
            cache = with_attention_buffer(
                cache, batch_size, source_length, max_length, self.num_decoder_layers
            )
        return cache

    def step(self, token_ids, cache, index):
        """Feeds one token [batch] at position `index`; returns (float32 logits, cache)."""
        embedded = self._embed(
            self.target_embedding,
            self.target_positions,
            ops.expand_dims(token_ids, 1),
            start_index=index,
            training=False,
        )
        x = self.decoder_input(embedded)
        convolutions, layer_weights = [], []
        for convolution, attention, layer_cache in zip(
            self.decoder_convolutions,
            self.decoder_attentions,
            cache["convolutions"],
            strict=True,
        ):
            convolved, layer_cache = convolution(x, cache=layer_cache, training=False)
            attended, weights = attention(
                convolved,
                embedded,
                cache["keys"],
                cache["values"],
                cache.get("encoder_padding_mask"),
            )
            x = _scaled_sum(attended, x)
            convolutions.append(layer_cache)
            layer_weights.append(weights[:, 0])
        cache = record_attention(
            {**cache, "convolutions": convolutions}, index, ops.stack(layer_weights, axis=1)
        )
        return self._logits(self.decoder_output(x))[:, 0], cache

    def get_config(self):
        return {
            **super().get_config(),
            "source_vocabulary_size": self.source_vocabulary_size,
            "target_vocabulary_size": self.target_vocabulary_size,
            "num_encoder_layers": self.num_encoder_layers,
            "num_decoder_layers": self.num_decoder_layers,
            "embedding_dim": self.embedding_dim,
            "channels": self.channels,
            "kernel_size": self.kernel_size,
            "dropout": self.dropout,
            "max_sequence_length": self.max_sequence_length,
        }
