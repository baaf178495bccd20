import keras
from keras import ops

from zoo.layers.cached_attention import CachedMultiHeadAttention
from zoo.layers.initializers import fresh_initializer


@keras.saving.register_keras_serializable(package="zoo")
class TransformerDecoderLayer(keras.layers.Layer):
    """One Transformer decoder layer (Vaswani et al. 2017) that also decodes one token at a time.

    Masked self-attention, cross-attention over the encoder outputs and a position-wise
    feed-forward network, each followed by dropout and a residual connection, with layer
    normalisation after each (the paper) or before each (`norm_first`). It computes what
    `keras_hub.layers.TransformerDecoder` computes, and exists because that layer cannot
    return its cross-attention weights, which `predict(..., return_attention=True)` shows.

    Cached decoding: `cross_attention_cache(encoder_outputs)` projects the encoder outputs to
    keys and values once per source; each step then feeds one token with a fixed-size
    self-attention cache, keys and values [batch, num_heads, max_length, head_dim] each, that
    the step writes at `cache_index`, so the decoding loop keeps static shapes and compiles
    under XLA (see `zoo.layers.CachedMultiHeadAttention`).

    Args:
        num_heads: int, attention heads; must divide the hidden size.
        intermediate_dim: int, hidden size of the feed-forward network.
        dropout: float, dropout on each sub-layer's output and on the attention weights.
        activation: the feed-forward network's activation.
        norm_first: bool, whether to normalise each sub-layer's input (pre-LN) rather than
            its residual sum (post-LN, the paper).
        layer_norm_epsilon: float.
        kernel_initializer: initializer of every projection.

    Call args:
        inputs: [batch, length, hidden_dim], the embedded target tokens.
        encoder_outputs: [batch, source_length, hidden_dim]; None when `cross_attention_cache`
            is given.
        padding_mask: bool [batch, length], True at real target tokens.
        encoder_padding_mask: bool [batch, source_length], True at real source tokens.
        self_attention_cache: None (teacher forcing), or the cache of the tokens before
            `cache_index` when `inputs` is one token.
        cross_attention_cache: from `cross_attention_cache`, when decoding step by step.
        cache_index: int32 scalar, the position of the token fed with a cache.
        training: bool, whether dropout is active.

    Returns:
        `(outputs, cross_attention_weights)`, the latter float32 [batch, length,
        source_length] averaged over heads; with a cache, also the updated self-attention
        cache. Every attention softmax runs in float32 (`zoo.layers.masked_softmax`).

    Example:
    >>> layer = zoo.layers.TransformerDecoderLayer(num_heads=4, intermediate_dim=1024)
    >>> outputs, weights = layer(target_embeddings, encoder_outputs,
    ...                          padding_mask=target_mask, encoder_padding_mask=source_mask)
    """

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        dropout=0.0,
        activation="relu",
        norm_first=False,
        layer_norm_epsilon=1e-5,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.activation = keras.activations.get(activation)
        self.norm_first = norm_first
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, inputs_shape, encoder_outputs_shape=None):
        hidden_dim = inputs_shape[-1]
        if hidden_dim % self.num_heads:
            raise ValueError(
                f"`num_heads` ({self.num_heads}) must divide the hidden size ({hidden_dim})."
            )
        self.head_dim = hidden_dim // self.num_heads
        attention = {
            "num_heads": self.num_heads,
            "head_dim": self.head_dim,
            "dropout": self.dropout,
            "kernel_initializer": self.kernel_initializer,
            "dtype": self.dtype_policy,
        }
        self.self_attention = CachedMultiHeadAttention(name="self_attention", **attention)
        self.self_attention.build(inputs_shape)
        self.cross_attention = CachedMultiHeadAttention(name="cross_attention", **attention)
        self.cross_attention.build(inputs_shape, encoder_outputs_shape or inputs_shape)
        self.intermediate_dense = keras.layers.Dense(
            self.intermediate_dim,
            activation=self.activation,
            kernel_initializer=fresh_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="intermediate_dense",
        )
        self.intermediate_dense.build(inputs_shape)
        self.output_dense = keras.layers.Dense(
            hidden_dim,
            kernel_initializer=fresh_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="output_dense",
        )
        self.output_dense.build((*inputs_shape[:-1], self.intermediate_dim))
        self.norms = []
        for name in ("self_attention_norm", "cross_attention_norm", "feed_forward_norm"):
            norm = keras.layers.LayerNormalization(
                epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
            )
            norm.build(inputs_shape)
            self.norms.append(norm)
        self.output_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def cross_attention_cache(self, encoder_outputs):
        """The encoder outputs projected to this layer's cross-attention keys and values,
        [batch, num_heads, source_length, head_dim] each, computed once per source."""
        return self.cross_attention.key_value(encoder_outputs)

    def call(
        self,
        inputs,
        encoder_outputs=None,
        padding_mask=None,
        encoder_padding_mask=None,
        self_attention_cache=None,
        cross_attention_cache=None,
        cache_index=None,
        training=None,
    ):
        cached = self_attention_cache is not None
        self_norm, cross_norm, feed_forward_norm = self.norms

        x = self._normalize_input(inputs, self_norm)
        self_attention_mask = causal_attention_mask(
            x, padding_mask, self_attention_cache, cache_index
        )
        self_attention = self.self_attention(
            x,
            attention_mask=self_attention_mask,
            cache=self_attention_cache,
            cache_index=cache_index,
            training=training,
        )
        if cached:
            x, _, self_attention_cache = self_attention
        else:
            x, _ = self_attention
        residual = self._add_and_normalize(inputs, x, self_norm, training)

        x = self._normalize_input(residual, cross_norm)
        cross_attention_mask = None
        if encoder_padding_mask is not None:
            cross_attention_mask = ops.expand_dims(encoder_padding_mask, 1)
        # With a cache, the keys and values come from it and `encoder_outputs` goes unread.
        x, scores, *_ = self.cross_attention(
            x,
            encoder_outputs,
            attention_mask=cross_attention_mask,
            cache=cross_attention_cache,
            training=training,
        )
        residual = self._add_and_normalize(residual, x, cross_norm, training)

        x = self._normalize_input(residual, feed_forward_norm)
        x = self.output_dense(self.intermediate_dense(x))
        outputs = self._add_and_normalize(residual, x, feed_forward_norm, training)

        weights = ops.mean(ops.cast(scores, "float32"), axis=1)  # over heads
        if cached:
            return outputs, weights, self_attention_cache
        return outputs, weights

    def _normalize_input(self, x, norm):
        return norm(x) if self.norm_first else x

    def _add_and_normalize(self, residual, x, norm, training):
        x = residual + self.output_dropout(x, training=training)
        return x if self.norm_first else norm(x)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "activation": keras.activations.serialize(self.activation),
                "norm_first": self.norm_first,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            }
        )
        return config


def causal_attention_mask(x, padding_mask, cache, cache_index):
    """Which positions each query may attend to: [batch, queries, keys] (or broadcastable).

    Teacher forcing: itself and the earlier real tokens. A cached step: the cache positions
    written so far, up to and including `cache_index`.
    """
    if cache is not None:
        positions = ops.arange(ops.shape(cache[0])[2])
        return ops.reshape(positions <= cache_index, (1, 1, -1))
    length = ops.shape(x)[1]
    positions = ops.arange(length)
    causal = ops.expand_dims(positions, 1) >= ops.expand_dims(positions, 0)
    mask = ops.expand_dims(causal, 0)
    if padding_mask is not None:
        mask = ops.logical_and(mask, ops.expand_dims(padding_mask, 1))
    return mask
