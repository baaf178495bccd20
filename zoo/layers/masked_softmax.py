"""The one masked softmax of the attention layers, computed in float32."""

from keras import ops


def masked_softmax(scores, mask=None, axis=-1):
    """The softmax of `scores` over `axis`, in float32 whatever their dtype.

    Under a mixed precision policy the scores arrive in 16 bits; float16 cannot hold the
    large negative number a mask puts in (it becomes -inf, and a row of all masked
    positions becomes NaN), so the softmax is taken in float32, as keras-hub and Keras's
    fused attention take theirs. Callers cast the weights back to their compute dtype
    before weighting the values.

    Args:
        scores: float tensor, e.g. [batch, (heads,) queries, keys].
        mask: bool tensor broadcastable to `scores`, True where a position may be attended
            to; masked positions get exactly zero weight, and a row without any unmasked
            position gets uniform (finite) weights. None attends to every position.
        axis: int, the axis to normalise over.

    Returns:
        float32 tensor of the shape of `scores`.

    Example:
    >>> masked_softmax(scores, ops.expand_dims(padding_mask, 1))  # [batch, queries, keys]
    """
    scores = ops.cast(scores, "float32")
    if mask is not None:
        # A large finite number, not -inf: exp underflows to exactly 0 all the same, and a
        # row whose positions are all masked stays finite.
        scores = ops.where(ops.cast(mask, "bool"), scores, -1e9)
    return ops.softmax(scores, axis=axis)


class Float32Softmax:
    """Mixin of `keras.layers.MultiHeadAttention` subclasses: the attention weights are the
    float32 `masked_softmax` of the scores, cast to the layer's compute dtype (Keras takes
    them in the compute dtype unless its fused kernel runs).

    Example:
    >>> class Attention(Float32Softmax, keras.layers.MultiHeadAttention):
    ...     pass
    """

    def _masked_softmax(self, attention_scores, attention_mask=None):
        if attention_mask is not None:
            # As Keras: the mask [batch, queries, keys] broadcasts over the heads.
            for _ in range(len(attention_scores.shape) - len(attention_mask.shape)):
                attention_mask = ops.expand_dims(attention_mask, axis=-3)
        # zoo attends over one axis, the keys: the scores' last.
        weights = masked_softmax(attention_scores, attention_mask, axis=-1)
        return ops.cast(weights, self.compute_dtype)
