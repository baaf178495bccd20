import keras
from keras import ops

from zoo import checks
from zoo.layers.head_major_attention import (
    attend,
    attention_weights,
    heads_first,
    write_at_index,
)
from zoo.layers.initializers import fresh_initializer


@keras.saving.register_keras_serializable(package="zoo")
class CachedMultiHeadAttention(keras.layers.Layer):
    """Multi-head dot-product attention (Vaswani et al. 2017) that also decodes one token at a
    time over fixed-size key/value caches: the attention of every zoo Transformer layer.

    Each head projects the query, the keys and the values to `head_dim`
    (`query_dense`, `key_dense`, `value_dense`: kernels [input_dim, num_heads, head_dim],
    with biases when `use_bias`), scores queries against keys by dot products, scaled by
    1/sqrt(head_dim) when `scale_queries`, plus a position bias when one is given (T5's
    relative position bias); the masked softmax runs in float32 whatever the compute dtype
    (`zoo.layers.masked_softmax`), dropout acts on the weights, and `output_dense` projects
    the heads' contexts back to the query's size. The projections are laid out and named as
    `keras.layers.MultiHeadAttention` lays out and names its own, so files saved when the
    Transformer decoder used that layer load into this one.

    Cached decoding: with `cache`, a pair `(keys, values)` of [batch, num_heads,
    cache_length, head_dim] (head-major, see `zoo.layers.head_major_attention`), and
    `cache_index`, the query's own keys and values (one product with the three kernels side
    by side, faster than three at batch 1: `bench/README.md`) are written into the cache at
    that index and the query attends over the whole cache, so shapes stay static under XLA;
    with `cache` alone, the cache holds precomputed keys and values
    (`key_value(encoder_outputs)`, for cross-attention) and `value` goes unread. Keys and
    values stay two tensors, unlike `keras_hub.layers.CachedMultiHeadAttention`'s one
    stacked cache, which every step splits and stacks back whole (slower: `bench/README.md`,
    "Figures behind choices").

    Args:
        num_heads: int, attention heads.
        head_dim: int, the size of each head's queries, keys and values; num_heads *
            head_dim need not equal the query's size.
        dropout: float, dropout on the attention weights.
        use_bias: bool, whether the four projections have biases.
        scale_queries: bool, whether to scale the scores by 1/sqrt(head_dim).
        kernel_initializer: initializer of the four projections' kernels (a fresh copy for
            each kernel).

    Call args:
        query: [batch, query_length, query_dim].
        value: [batch, key_length, value_dim], the states attended to (also the keys);
            None for self-attention.
        position_bias: float [1 or batch, num_heads, query_length, key_length], added to the
            scores; None for none.
        attention_mask: bool [batch, query_length, key_length] (or broadcastable), True where
            a query may attend to a key.
        cache: None, or the `(keys, values)` cache described above.
        cache_index: int32 scalar, where to write the query's keys and values into `cache`.
        training: bool, whether dropout is active.

    Returns:
        `(outputs, weights)`: [batch, query_length, query_dim] and the attention weights
        [batch, num_heads, query_length, key_length] (before dropout); with a `cache`, also
        the cache (updated when `cache_index` is given).

    Example:
    >>> attention = zoo.layers.CachedMultiHeadAttention(num_heads=4, head_dim=64)
    >>> outputs, weights = attention(x, attention_mask=causal_mask)
    >>> outputs, weights, cache = attention(token, cache=cache, cache_index=index)
    """

    def __init__(
        self,
        num_heads,
        head_dim,
        dropout=0.0,
        use_bias=True,
        scale_queries=True,
        kernel_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        checks.positive_int(num_heads, "num_heads")
        checks.positive_int(head_dim, "head_dim")
        checks.fraction(dropout, "dropout")
        self.num_heads = num_heads
        self.head_dim = head_dim
        self.dropout = dropout
        self.use_bias = use_bias
        self.scale_queries = scale_queries
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, query_shape, value_shape=None):
        query_dim = query_shape[-1]
        value_dim = (value_shape or query_shape)[-1]
        # In the order keras.layers.MultiHeadAttention builds them: the optimizer's variables
        # keep their order in files saved with that layer, and a seeded model its weights.
        self.query_dense = self.projection("query", query_dim)
        self.key_dense = self.projection("key", value_dim)
        self.value_dense = self.projection("value", value_dim)
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)
        self.output_dense = self.output_projection(query_dim)

    # === Projections (a subclass may lay them out otherwise) ===
    def projection(self, name, input_dim):
        """The built projection of states of `input_dim` to [batch, length, heads, head_dim]."""
        dense = keras.layers.EinsumDense(
            "btd,dhk->bthk",
            output_shape=(None, self.num_heads, self.head_dim),
            bias_axes="hk" if self.use_bias else None,
            kernel_initializer=fresh_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name=name,
        )
        dense.build((None, None, input_dim))
        return dense

    def output_projection(self, output_dim):
        """The built projection of the heads' contexts back to `output_dim`."""
        dense = keras.layers.EinsumDense(
            "bthk,hkd->btd",
            output_shape=(None, output_dim),
            bias_axes="d" if self.use_bias else None,
            kernel_initializer=fresh_initializer(self.kernel_initializer),
            dtype=self.dtype_policy,
            name="attention_output",
        )
        dense.build((None, None, self.num_heads, self.head_dim))
        return dense

    def split_heads(self, projected):
        """A projection's output -> [batch, length, heads, head_dim]."""
        return projected

    def merge_heads(self, context):
        """[batch, length, heads, head_dim] -> what `output_dense` reads."""
        return context

    # === Attention ===
    def key_value(self, value):
        """The keys and values of `value` [batch, length, value_dim]: a pair of
        [batch, num_heads, length, head_dim], the layout of `cache`."""
        return (
            heads_first(self.split_heads(self.key_dense(value))),
            heads_first(self.split_heads(self.value_dense(value))),
        )

    def queries(self, query):
        queries = self.split_heads(self.query_dense(query))
        if self.scale_queries:
            queries = queries * ops.cast(self.head_dim**-0.5, queries.dtype)
        return queries

    def queries_keys_values(self, query):
        """The query's queries, keys and values, [batch, length, heads, head_dim] each, as one
        product with the three kernels side by side."""
        projections = (self.query_dense, self.key_dense, self.value_dense)
        kernel = ops.concatenate([dense.kernel for dense in projections], axis=1)
        # [batch, length, 3 * heads, head_dim], or [batch, length, 3 * heads * head_dim]
        projected = ops.tensordot(query, ops.cast(kernel, query.dtype), axes=1)
        if self.use_bias:
            bias = ops.concatenate([dense.bias for dense in projections], axis=0)
            projected = projected + ops.cast(bias, query.dtype)
        queries, keys, values = (self.split_heads(x) for x in ops.split(projected, 3, axis=2))
        if self.scale_queries:
            queries = queries * ops.cast(self.head_dim**-0.5, queries.dtype)
        return queries, keys, values

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
        if cache_index is not None and cache is None:
            raise ValueError("`cache_index` needs a `cache`, got cache=None.")
        if cache is None:
            keys, values = self.key_value(query if value is None else value)
            queries = self.queries(query)
        elif cache_index is None:
            keys, values = cache
            queries = self.queries(query)
        else:
            if value is None:
                queries, new_keys, new_values = self.queries_keys_values(query)
                new_keys, new_values = heads_first(new_keys), heads_first(new_values)
            else:
                queries = self.queries(query)
                new_keys, new_values = self.key_value(value)
            cache = write_at_index(cache, new_keys, new_values, cache_index)
            keys, values = cache

        weights = ops.cast(
            attention_weights(queries, keys, attention_mask, position_bias), self.compute_dtype
        )
        context = attend(self.dropout_layer(weights, training=training), values)
        outputs = self.output_dense(self.merge_heads(context))
        if cache is not None:
            return outputs, weights, cache
        return outputs, weights

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "head_dim": self.head_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "scale_queries": self.scale_queries,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
