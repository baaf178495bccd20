import keras
from keras import ops

from zoo import checks
from zoo.layers.head_major_attention import (
    attend,
    attention_weights,
    heads_first,
    write_at_index,
)


@keras.saving.register_keras_serializable(package="zoo")
class T5Attention(keras.layers.Layer):
    """T5's multi-head attention (Raffel et al. 2020): no biases, no 1/sqrt(d) scaling.

    The query, key, value and output projections are bias-free. The scores are plain dot
    products: T5 folds the usual 1/sqrt(head_dim) into the initialisation instead (as Mesh
    TensorFlow and Hugging Face do: query kernels Normal(0, (hidden_dim * key_value_dim)^-1/2),
    key and value kernels Normal(0, input_dim^-1/2), the output kernel
    Normal(0, (num_heads * key_value_dim)^-1/2)). A position bias (T5's relative position
    bias, see `zoo.layers.RelativePositionBias`) is added to the scores before the masked
    softmax, which runs in float32 whatever the compute dtype.

    Cached decoding: with `cache`, a pair `(keys, values)` of [batch, num_heads,
    cache_length, key_value_dim] (head-major, see `zoo.layers.head_major_attention`), and
    `cache_index`, the keys and values of `value` are written into the cache at that index
    and the query attends over the whole cache, so shapes stay static under XLA; with `cache`
    alone, the cache holds precomputed keys and values (`key_value(encoder_outputs)`, for
    cross-attention) and `value` goes unread. Keys and values stay two tensors, unlike
    `keras_hub.layers.CachedMultiHeadAttention`'s one stacked cache, which every step splits
    and stacks back whole (slower: `bench/kv_cache.py`).

    Args:
        num_heads: int, attention heads.
        key_value_dim: int, the size of each head's queries, keys and values (T5's d_kv);
            num_heads * key_value_dim need not equal the hidden size.
        dropout: float, dropout on the attention weights.

    Call args:
        query: [batch, query_length, hidden_dim].
        value: [batch, key_length, value_dim], the states attended to (also the keys);
            None for self-attention.
        position_bias: float [1 or batch, num_heads, query_length, key_length], added to the
            scores; None for none (T5's cross-attention).
        attention_mask: bool [batch, query_length, key_length] (or broadcastable), True where
            a query may attend to a key.
        cache: None, or the `(keys, values)` cache described above.
        cache_index: int32 scalar, where to write `value`'s keys and values into `cache`.
        training: bool, whether dropout is active.

    Returns:
        `(outputs, weights)`: [batch, query_length, hidden_dim] and the attention weights
        [batch, num_heads, query_length, key_length] (before dropout); with a `cache`, also
        the cache (updated when `cache_index` is given).

    Example:
    >>> attention = zoo.layers.T5Attention(num_heads=8, key_value_dim=64)
    >>> outputs, weights = attention(x, position_bias=bias, attention_mask=mask)
    """

    def __init__(self, num_heads, key_value_dim, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        checks.positive_int(num_heads, "num_heads")
        checks.positive_int(key_value_dim, "key_value_dim")
        checks.fraction(dropout, "dropout")
        self.num_heads = num_heads
        self.key_value_dim = key_value_dim
        self.dropout = dropout

    def build(self, query_shape, value_shape=None):
        hidden_dim = query_shape[-1]
        value_dim = (value_shape or query_shape)[-1]
        inner_dim = self.num_heads * self.key_value_dim

        def projection(units, input_dim, stddev, name):
            dense = keras.layers.Dense(
                units,
                use_bias=False,
                kernel_initializer=keras.initializers.RandomNormal(stddev=stddev),
                dtype=self.dtype_policy,
                name=name,
            )
            dense.build((None, None, input_dim))
            return dense

        self.query_dense = projection(
            inner_dim, hidden_dim, (hidden_dim * self.key_value_dim) ** -0.5, "query"
        )
        self.key_dense = projection(inner_dim, value_dim, value_dim**-0.5, "key")
        self.value_dense = projection(inner_dim, value_dim, value_dim**-0.5, "value")
        self.output_dense = projection(hidden_dim, inner_dim, inner_dim**-0.5, "attention_output")
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def _split_heads(self, x):
        shape = ops.shape(x)
        return ops.reshape(x, (shape[0], shape[1], self.num_heads, self.key_value_dim))

    def key_value(self, value):
        """The keys and values of `value` [batch, length, value_dim]: a pair of
        [batch, num_heads, length, key_value_dim], the layout of `cache`."""
        return (
            heads_first(self._split_heads(self.key_dense(value))),
            heads_first(self._split_heads(self.value_dense(value))),
        )

    def call(
        self,
        query,
        value=None,
        position_bias=None,
        attention_mask=None,
        cache=None,
        cache_index=None,
        training=None,
    ):
        if value is None:
            value = query
        if cache is None:
            if cache_index is not None:
                raise ValueError("`cache_index` needs a `cache`, got cache=None.")
            keys, values = self.key_value(value)
        elif cache_index is None:
            keys, values = cache
        else:
            cache = write_at_index(cache, *self.key_value(value), cache_index)
            keys, values = cache
        queries = self._split_heads(self.query_dense(query))

        weights = ops.cast(
            attention_weights(queries, keys, attention_mask, position_bias), self.compute_dtype
        )
        outputs = attend(self.dropout_layer(weights, training=training), values)
        shape = ops.shape(outputs)
        outputs = ops.reshape(outputs, (shape[0], shape[1], self.num_heads * self.key_value_dim))
        outputs = self.output_dense(outputs)
        if cache is not None:
            return outputs, weights, cache
        return outputs, weights

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_value_dim": self.key_value_dim,
            "dropout": self.dropout,
        }
