import math

import keras
from keras import ops

from zoo import checks


def _check_buckets(num_buckets, max_distance, bidirectional):
    """Raises unless the bucket formula is well defined for these arguments."""
    checks.positive_int(num_buckets, "num_buckets")
    checks.positive_int(max_distance, "max_distance")
    max_exact = num_buckets // (4 if bidirectional else 2)
    if max_exact < 1:
        raise ValueError(
            f"`num_buckets` must be at least {4 if bidirectional else 2} when "
            f"bidirectional={bidirectional}, got {num_buckets!r}."
        )
    if max_distance <= max_exact:
        # log(max_distance / max_exact) is the denominator of the logarithmic buckets.
        raise ValueError(
            f"`max_distance` must exceed the {max_exact} exact buckets of "
            f"num_buckets={num_buckets}, bidirectional={bidirectional}, got {max_distance!r}."
        )


def relative_position_bucket(
    relative_position, bidirectional=True, num_buckets=32, max_distance=128
):
    """Maps relative positions to T5's relative attention buckets (Raffel et al. 2020).

    The Mesh-TensorFlow formula that T5 and Hugging Face's T5 use. `relative_position` is
    `key_position - query_position`. When bidirectional, keys after the query (positive
    distances) take the upper half of the buckets and keys before it the lower half;
    when not (a causal decoder), positive distances fall into bucket 0 with distance 0.
    Within a half, the first `max_exact = half // 2` distances get a bucket each, the
    rest share logarithmically wider buckets up to `max_distance`, and every distance
    beyond it shares the last bucket. The logarithm is taken in float32, as in the
    published code.

    Args:
        relative_position: int tensor of any shape, key position minus query position.
        bidirectional: bool, whether keys after the query get buckets of their own.
        num_buckets: int, the number of buckets (both directions together when
            bidirectional).
        max_distance: int, the distance from which all distances share one bucket;
            must exceed `max_exact`.

    Returns:
        int32 tensor of the shape of `relative_position`, values in [0, num_buckets).

    Example:
    >>> zoo.layers.relative_position_bucket(keras.ops.arange(-3, 4), num_buckets=8)
    # -> [2, 2, 1, 0, 5, 6, 6]
    """
    _check_buckets(num_buckets, max_distance, bidirectional)
    relative_position = ops.cast(relative_position, "int32")
    bucket = ops.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        bucket = ops.where(relative_position > 0, num_buckets, bucket)
        distance = ops.abs(relative_position)
    else:
        distance = -ops.minimum(relative_position, 0)
    max_exact = num_buckets // 2
    # Clamped from below so that log never sees 0; those distances take the exact branch.
    log_ratio = ops.log(ops.cast(ops.maximum(distance, max_exact), "float32") / max_exact)
    if_large = max_exact + ops.cast(
        log_ratio / math.log(max_distance / max_exact) * (num_buckets - max_exact), "int32"
    )
    if_large = ops.minimum(if_large, num_buckets - 1)
    return bucket + ops.where(distance < max_exact, distance, if_large)


@keras.saving.register_keras_serializable(package="zoo")
class RelativePositionBias(keras.layers.Layer):
    """T5's learned, bucketed relative position bias for attention scores.

    Each head learns one scalar per bucket of `relative_position_bucket`; the bias of
    query i and key j is that of the bucket of `j - i`. T5 adds it to the attention
    logits of every self-attention layer of a stack, computed once (by the first layer)
    and shared by the others; the encoder's is bidirectional, the decoder's causal.

    Args:
        num_heads: int, the number of attention heads.
        num_buckets: int, the number of buckets (see `relative_position_bucket`).
        max_distance: int, the distance from which all distances share one bucket.
        bidirectional: bool, True for an encoder, False for a causal decoder.
        embeddings_initializer: initializer of the [num_buckets, num_heads] table;
            Glorot-uniform (T5X's fan-average uniform scaling) by default.

    Call args:
        query_length: int or scalar int tensor, the number of queries.
        key_length: int or scalar int tensor, the number of keys.
        query_start: int or scalar int tensor, the position of the first query; a cached
            decoding step at position i passes query_length=1, query_start=i and gets
            row i of the full matrix.

    Returns:
        float [1, num_heads, query_length, key_length], in the layer's compute dtype,
        to add to attention logits [batch, num_heads, query_length, key_length].

    Example:
    >>> bias = zoo.layers.RelativePositionBias(num_heads=8, bidirectional=False)
    >>> bias(10, 10).shape  # -> (1, 8, 10, 10)
    >>> bias(1, 10, query_start=step)  # one decoding step
    """

    def __init__(
        self,
        num_heads,
        num_buckets=32,
        max_distance=128,
        bidirectional=True,
        embeddings_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        checks.positive_int(num_heads, "num_heads")
        if not isinstance(bidirectional, bool):
            raise ValueError(f"`bidirectional` must be a bool, got {bidirectional!r}.")
        _check_buckets(num_buckets, max_distance, bidirectional)
        self.num_heads = num_heads
        self.num_buckets = num_buckets
        self.max_distance = max_distance
        self.bidirectional = bidirectional
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)

    def build(self, *args, **kwargs):
        # The table depends on no input shape: the inputs are lengths.
        self.embeddings = self.add_weight(
            name="embeddings",
            shape=(self.num_buckets, self.num_heads),
            initializer=self.embeddings_initializer,
        )
        self.built = True

    def call(self, query_length, key_length, query_start=0):
        query_positions = ops.arange(query_length, dtype="int32") + ops.cast(query_start, "int32")
        key_positions = ops.arange(key_length, dtype="int32")
        buckets = relative_position_bucket(
            key_positions[None, :] - query_positions[:, None],
            bidirectional=self.bidirectional,
            num_buckets=self.num_buckets,
            max_distance=self.max_distance,
        )
        bias = ops.take(self.embeddings, buckets, axis=0)  # [query, key, heads]
        return ops.expand_dims(ops.transpose(bias, (2, 0, 1)), 0)

    def compute_output_shape(self, *args, **kwargs):
        return (1, self.num_heads, None, None)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "num_buckets": self.num_buckets,
            "max_distance": self.max_distance,
            "bidirectional": self.bidirectional,
            "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
        }
