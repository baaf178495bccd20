"""Dot-product attention over keys and values laid out head-major: [batch, heads, length, dim].

The decoders' key/value caches keep this layout. The score and output products contract over
`dim` (and `length`) with batch and heads as batch dimensions, so they read head-major keys
and values as they are; in Keras' [batch, length, heads, dim] layout, XLA transposed every
cache at every decoding step (`bench/README.md`).
"""

from keras import ops

from zoo.layers.masked_softmax import masked_softmax


def heads_first(x):
    """[batch, length, heads, dim] -> [batch, heads, length, dim]."""
    return ops.transpose(x, (0, 2, 1, 3))


def write_at_index(cache, keys, values, index):
    """Writes one step's keys and values, [batch, heads, 1, dim] each, into the cache
    `(keys, values)` at position `index`; returns the updated cache."""
    start = (0, 0, index, 0)
    cached_keys, cached_values = cache
    cached_keys = ops.slice_update(cached_keys, start, keys)
    return cached_keys, ops.slice_update(cached_values, start, values)


def attention_weights(queries, keys, attention_mask=None, position_bias=None):
    """Softmax attention weights, computed in float32: [batch, heads, queries, keys].

    Args:
        queries: [batch, query_length, heads, dim], already scaled as the model scales them.
        keys: [batch, heads, key_length, dim].
        attention_mask: bool [batch, query_length, key_length] (or broadcastable), True where
            a query may attend to a key; masked keys get exactly zero weight.
        position_bias: float [1 or batch, heads, query_length, key_length], added to the
            scores (T5's relative position bias), or None.
    """
    scores = ops.cast(ops.einsum("bqhd,bhkd->bhqk", queries, keys), "float32")
    if position_bias is not None:
        scores = scores + ops.cast(position_bias, "float32")
    if attention_mask is not None:
        attention_mask = ops.expand_dims(attention_mask, 1)  # over heads
    return masked_softmax(scores, attention_mask)


def attend(weights, values):
    """The weighted sum of the values: [batch, query_length, heads, dim]."""
    return ops.einsum("bhqk,bhkd->bqhd", weights, values)
