import keras
from keras import ops

from zoo import checks
from zoo.layers.cached_attention import CachedMultiHeadAttention


@keras.saving.register_keras_serializable(package="zoo")
class T5Attention(CachedMultiHeadAttention):
    """T5's multi-head attention (Raffel et al. 2020): no biases, no 1/sqrt(d) scaling.

    A `zoo.layers.CachedMultiHeadAttention` (same call, same caches) whose query, key, value
    and output projections are bias-free and whose scores are plain dot products: T5 folds
    the usual 1/sqrt(head_dim) into the initialisation instead (as Mesh TensorFlow and
    Hugging Face do: query kernels Normal(0, (hidden_dim * key_value_dim)^-1/2), key and
    value kernels Normal(0, input_dim^-1/2), the output kernel
    Normal(0, (num_heads * key_value_dim)^-1/2)). A position bias (T5's relative position
    bias, see `zoo.layers.RelativePositionBias`) is added to the scores. The kernels are
    matrices [input_dim, num_heads * key_value_dim], as T5's and keras-hub's are, so their
    checkpoints map onto them.

    Args:
        num_heads: int, attention heads.
        key_value_dim: int, the size of each head's queries, keys and values (T5's d_kv);
            num_heads * key_value_dim need not equal the hidden size.
        dropout: float, dropout on the attention weights.

    Example:
    >>> attention = zoo.layers.T5Attention(num_heads=8, key_value_dim=64)
    >>> outputs, weights = attention(x, position_bias=bias, attention_mask=mask)
    """

    def __init__(self, num_heads, key_value_dim, dropout=0.0, **kwargs):
        checks.positive_int(key_value_dim, "key_value_dim")
        super().__init__(
            num_heads,
            key_value_dim,
            dropout=dropout,
            use_bias=False,
            scale_queries=False,
            kernel_initializer=None,  # each projection has its own (see `projection`)
            **kwargs,
        )
        self.key_value_dim = key_value_dim

    def projection(self, name, input_dim):
        inner_dim = self.num_heads * self.key_value_dim
        fan_in = input_dim * self.key_value_dim if name == "query" else input_dim
        return self._dense(name, inner_dim, input_dim, stddev=fan_in**-0.5)

    def output_projection(self, output_dim):
        inner_dim = self.num_heads * self.key_value_dim
        return self._dense("attention_output", output_dim, inner_dim, stddev=inner_dim**-0.5)

    def _dense(self, name, units, input_dim, stddev):
        dense = keras.layers.Dense(
            units,
            use_bias=False,
            kernel_initializer=keras.initializers.RandomNormal(stddev=stddev),
            dtype=self.dtype_policy,
            name=name,
        )
        dense.build((None, None, input_dim))
        return dense

    def split_heads(self, projected):
        shape = ops.shape(projected)
        return ops.reshape(projected, (shape[0], shape[1], self.num_heads, self.key_value_dim))

    def merge_heads(self, context):
        shape = ops.shape(context)
        return ops.reshape(context, (shape[0], shape[1], self.num_heads * self.key_value_dim))

    def get_config(self):
        config = super().get_config()
        for derived in ("head_dim", "use_bias", "scale_queries", "kernel_initializer"):
            del config[derived]
        return {**config, "key_value_dim": self.key_value_dim}
