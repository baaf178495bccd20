import keras
from keras import ops

from zoo.layers.t5_encoder_layer import T5EncoderLayer
from zoo.layers.transformer_decoder_layer import causal_attention_mask


@keras.saving.register_keras_serializable(package="zoo")
class T5DecoderLayer(T5EncoderLayer):
    """One T5 decoder layer (Raffel et al. 2020) that also decodes one token at a time.

    An encoder layer with cross-attention after its self-attention, as the paper describes
    the decoder: pre-RMS-norm causal self-attention with the stack's shared (causal)
    position bias, pre-norm cross-attention over the encoder outputs with no position bias,
    then the feed-forward network; each sub-layer's output dropped out and added to its
    input.

    Cached decoding, as `zoo.layers.TransformerDecoderLayer`: `cross_attention_cache(
    encoder_outputs)` projects the encoder outputs to keys and values once per source; each
    step then feeds one token with a fixed-size self-attention cache, keys and values
    [batch, num_heads, max_length, key_value_dim] each, that the step writes at
    `cache_index`, and the position bias row of that index.

    Args:
        see `zoo.layers.T5EncoderLayer`.

    Call args:
        inputs: [batch, length, hidden_dim], the embedded target tokens.
        encoder_outputs: [batch, source_length, hidden_dim]; None when
            `cross_attention_cache` is given.
        position_bias: float [1, num_heads, length, length] (teacher forcing) or
            [1, num_heads, 1, max_length] (a cached step at `cache_index`).
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
        cache.

    Example:
    >>> layer = zoo.layers.T5DecoderLayer(num_heads=8, intermediate_dim=2048)
    >>> bias = zoo.layers.RelativePositionBias(8, bidirectional=False)(length, length)
    >>> outputs, weights = layer(target_embeddings, encoder_outputs, position_bias=bias,
    ...                          padding_mask=target_mask, encoder_padding_mask=source_mask)
    """

    def build(self, inputs_shape):
        super().build(inputs_shape)
        self.cross_attention = self._attention(self.head_dim, "cross_attention")
        self.cross_attention.build(inputs_shape, inputs_shape)
        self.cross_attention_norm = self._norm("cross_attention_norm", inputs_shape)

    def cross_attention_cache(self, encoder_outputs):
        """The encoder outputs projected to this layer's cross-attention keys and values,
        [batch, num_heads, source_length, key_value_dim] each, computed once per source."""
        return self.cross_attention.key_value(encoder_outputs)

    def call(
        self,
        inputs,
        encoder_outputs=None,
        position_bias=None,
        padding_mask=None,
        encoder_padding_mask=None,
        self_attention_cache=None,
        cross_attention_cache=None,
        cache_index=None,
        training=None,
    ):
        cached = self_attention_cache is not None
        self_attention = self.self_attention(
            self.self_attention_norm(inputs),
            position_bias=position_bias,
            attention_mask=causal_attention_mask(
                inputs, padding_mask, self_attention_cache, cache_index
            ),
            cache=self_attention_cache,
            cache_index=cache_index,
            training=training,
        )
        if cached:
            x, _, self_attention_cache = self_attention
        else:
            x, _ = self_attention
        x = self._add_residual(inputs, x, training)

        cross_attention_mask = None
        if encoder_padding_mask is not None:
            cross_attention_mask = ops.expand_dims(encoder_padding_mask, 1)
        # With a cache, the keys and values come from it and `encoder_outputs` goes unread.
        attended, weights, *_ = self.cross_attention(
            self.cross_attention_norm(x),
            encoder_outputs,
            attention_mask=cross_attention_mask,
            cache=cross_attention_cache,
            training=training,
        )
        x = self._add_residual(x, attended, training)
        outputs = self._feed_forward_block(x, training)

        weights = ops.mean(ops.cast(weights, "float32"), axis=1)  # over heads
        if cached:
            return outputs, weights, self_attention_cache
        return outputs, weights
