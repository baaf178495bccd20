import keras
from keras import ops

from zoo.layers.attention import Attention


@keras.saving.register_keras_serializable(package="zoo")
class BahdanauAttention(Attention):
    """Additive attention (Bahdanau et al. 2015): score = v . tanh(W_q q + W_k h), where the
    keys W_k h are projected once per source (`project_keys`).

    Args:
        units: int, size of the hidden layer of the scoring network.

    Example:
    >>> context, weights = zoo.layers.BahdanauAttention(64)(query, encoder_outputs, mask)
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        projection = {"use_bias": False, "dtype": self.dtype_policy}
        self.query_projection = keras.layers.Dense(units, name="query_projection", **projection)
        self.key_projection = keras.layers.Dense(units, name="key_projection", **projection)
        self.score_vector = keras.layers.Dense(1, name="score_vector", **projection)

    def build(self, query_shape, values_shape, padding_mask_shape=None):
        self.query_projection.build(query_shape)
        self.key_projection.build(values_shape)
        self.score_vector.build((None, None, None, self.units))

    def project_keys(self, values):
        return self.key_projection(values)

    def score(self, query, keys):
        hidden = ops.tanh(
            ops.expand_dims(self.query_projection(query), 2) + ops.expand_dims(keys, 1)
        )
        return ops.squeeze(self.score_vector(hidden), -1)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
