import keras
from keras import ops

from zoo import checks
from zoo.layers.attention import Attention
from zoo.layers.masked_softmax import Float32Softmax


@keras.saving.register_keras_serializable(package="zoo")
class MultiHeadAttention(Attention):
    """Multi-head scaled dot-product attention (Vaswani et al. 2017) over recurrent states.

    A `keras.layers.MultiHeadAttention` behind the interface of the other zoo attention
    layers: each head projects the query and the encoder states to `key_dim`, attends with
    scaled dot products, and the heads' contexts are projected back to the size of `values`.
    The returned weights are the heads' weights averaged. Unlike the other zoo attention
    layers, it honours a Keras mask carried by `query` (from an `Embedding(mask_zero=True)`,
    say), as `keras.layers.MultiHeadAttention` does: padded query rows get zero weights.

    Args:
        num_heads: int, number of attention heads.
        key_dim: int, size of each head's query, key and value projections; defaults to
            value_dim // num_heads, value_dim being the size of `values`.
        dropout: float, dropout rate on the attention weights.

    Call args:
        query: [batch, query_length, query_dim], the decoder states asking.
        values: [batch, source_length, value_dim], the encoder states attended to.
        padding_mask: bool [batch, source_length], True at real source tokens.
        keys: `project_keys(values)`, the values themselves: each head still projects
            them at every call, inside `keras.layers.MultiHeadAttention`.
        training: bool, whether dropout is active.

    Returns:
        (context, weights): [batch, query_length, value_dim] and
        [batch, query_length, source_length].

    Example:
    >>> attention = zoo.layers.MultiHeadAttention(num_heads=4)
    >>> context, weights = attention(query, encoder_outputs, mask)
    """

    def __init__(self, num_heads, key_dim=None, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        checks.positive_int(num_heads, "num_heads")
        checks.positive_int(key_dim, "key_dim", allow_none=True)
        checks.fraction(dropout, "dropout")
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.dropout = dropout

    def build(self, query_shape, values_shape, padding_mask_shape=None):
        value_dim = values_shape[-1]
        key_dim = self.key_dim or value_dim // self.num_heads
        if key_dim < 1:
            raise ValueError(
                f"`num_heads`={self.num_heads} exceeds the size of `values` ({value_dim}): "
                "pass a `key_dim`."
            )
        # Built here, not in __init__, because the default key_dim and the output size
        # depend on the size of `values`.
        self.attention = _KerasMultiHeadAttention(
            self.num_heads,
            key_dim,
            dropout=self.dropout,
            output_shape=value_dim,
            dtype=self.dtype_policy,
            name="attention",
        )
        self.attention.build(query_shape, values_shape)

    def call(self, query, values, padding_mask=None, keys=None, training=None):
        attention_mask = None
        if padding_mask is not None:
            attention_mask = ops.expand_dims(ops.cast(padding_mask, "bool"), 1)
        context, head_weights = self.attention(
            query,
            values,
            key=keys,
            attention_mask=attention_mask,
            return_attention_scores=True,
            training=training,
        )
        return context, ops.mean(head_weights, axis=1)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "dropout": self.dropout,
        }


class _KerasMultiHeadAttention(Float32Softmax, keras.layers.MultiHeadAttention):
    """`keras.layers.MultiHeadAttention` with its softmax in float32."""
