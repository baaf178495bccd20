import math

import keras
from keras import ops

from zoo.layers.masked_softmax import masked_softmax


@keras.saving.register_keras_serializable(package="zoo")
class MultiStepAttention(keras.layers.Layer):
    """The attention of one ConvS2S decoder layer (Gehring et al. 2017, section 3.3).

    Each decoder layer attends on its own ("multi-step" attention). Its query is the layer's
    convolution output projected to the embedding size plus the embedding of the target
    token, scaled by sqrt(0.5); it scores the encoder outputs (the keys) by dot products and,
    with a softmax over the real source positions (in float32), sums the values (the encoder
    outputs plus the source embeddings); the context is scaled by sqrt(s), s the number of
    real source positions, as fairseq scales it, projected back to the layer's channels and
    added to the convolution output, the sum scaled by sqrt(0.5). The projections start
    from Normal(0, sqrt(1 / input_size)) with zero biases, as fairseq's.

    Args:
        embedding_dim: int, the size of the embeddings, keys and values.

    Call args:
        inputs: [batch, length, channels], the layer's convolution output.
        target_embedding: [batch, length, embedding_dim], the embedded target tokens.
        keys: [batch, source_length, embedding_dim], the encoder outputs.
        values: [batch, source_length, embedding_dim].
        padding_mask: bool [batch, source_length], True at real source positions; None
            attends to every position.

    Returns:
        `(outputs, weights)`: [batch, length, channels] and float32 [batch, length,
        source_length].

    Example:
    >>> attention = zoo.layers.MultiStepAttention(embedding_dim=256)
    >>> x, weights = attention(x, target_embedding, keys, values, source_mask)
    """

    def __init__(self, embedding_dim, **kwargs):
        super().__init__(**kwargs)
        self.embedding_dim = embedding_dim

    def build(self, inputs_shape, *args, **kwargs):
        channels = inputs_shape[-1]
        self.in_projection = self._dense(self.embedding_dim, channels, "in_projection")
        self.out_projection = self._dense(channels, self.embedding_dim, "out_projection")

    def _dense(self, units, input_dim, name):
        dense = keras.layers.Dense(
            units,
            kernel_initializer=keras.initializers.RandomNormal(stddev=math.sqrt(1 / input_dim)),
            dtype=self.dtype_policy,
            name=name,
        )
        dense.build((None, None, input_dim))
        return dense

    def call(self, inputs, target_embedding, keys, values, padding_mask=None):
        half = math.sqrt(0.5)
        queries = (self.in_projection(inputs) + target_embedding) * half
        scores = ops.einsum("bte,bse->bts", queries, ops.cast(keys, queries.dtype))
        mask = None if padding_mask is None else ops.expand_dims(padding_mask, 1)
        weights = masked_softmax(scores, mask)
        context = ops.einsum("bts,bse->bte", ops.cast(weights, queries.dtype), values)
        if padding_mask is None:
            real_positions = ops.cast(ops.shape(keys)[1], context.dtype)
        else:
            real_positions = ops.sum(ops.cast(padding_mask, context.dtype), axis=1)
            real_positions = ops.reshape(real_positions, (-1, 1, 1))
        context = context * ops.sqrt(real_positions)
        return (self.out_projection(context) + inputs) * half, weights

    def get_config(self):
        return {**super().get_config(), "embedding_dim": self.embedding_dim}
