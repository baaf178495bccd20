import keras
from keras import ops

from zoo.layers.attention import Attention


@keras.saving.register_keras_serializable(package="zoo")
class ScaledDotProductAttention(Attention):
    """Scaled dot-product attention (Vaswani et al. 2017): score = q . h / sqrt(d).

    Example:
    >>> context, weights = zoo.layers.ScaledDotProductAttention()(query, encoder_outputs, mask)
    """

    def score(self, query, keys):
        scale = ops.sqrt(ops.cast(ops.shape(keys)[-1], query.dtype))
        return ops.matmul(query, ops.swapaxes(keys, 1, 2)) / scale
