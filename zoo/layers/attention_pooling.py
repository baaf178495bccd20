import keras
from keras import ops

from zoo import checks
from zoo.layers.attention import Attention


@keras.saving.register_keras_serializable(package="zoo")
class AttentionPooling(Attention):
    """Attention with a learned context vector (Yang et al. 2016): pools a sequence to a vector.

    Each position h_i is scored against a trained context vector u:
    score_i = u . tanh(W h_i + b); the weights are the softmax of the scores over the real
    positions, and the pooled vector is the weighted sum of the h_i. It is the `Attention`
    base with `u` as the one query, so padded positions get exactly zero weight. A row with
    no real position at all pools to zeros, with all-zero weights.

    Args:
        units: int, size of the hidden layer of the scoring network (W h + b).

    Call args:
        values: [batch, length, dim], the sequence to pool.
        padding_mask: bool [batch, length], True at real positions; None for all real.

    Returns:
        (pooled, weights): [batch, dim] and [batch, length].

    Example:
    >>> pooled, weights = zoo.layers.AttentionPooling(100)(encoder_outputs, padding_mask)
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        checks.positive_int(units, "units")
        self.units = units
        # Masks of the values (e.g. from a masked RNN) are consumed, not passed on: the
        # pooled output has no positions left to mask (see `compute_mask`).
        self.supports_masking = True
        self.projection = keras.layers.Dense(
            units, activation="tanh", dtype=self.dtype_policy, name="projection"
        )

    def build(self, values_shape, padding_mask_shape=None):
        self.projection.build(values_shape)
        self.context_vector = self.add_weight(
            (self.units,), initializer="glorot_uniform", name="context_vector"
        )

    def call(self, values, padding_mask=None):
        batch_size = ops.shape(values)[0]
        query = ops.broadcast_to(
            ops.reshape(self.context_vector, (1, 1, self.units)), (batch_size, 1, self.units)
        )
        if padding_mask is not None:
            padding_mask = ops.cast(padding_mask, "bool")
        pooled, weights = super().call(query, values, padding_mask)
        pooled, weights = pooled[:, 0, :], weights[:, 0, :]
        if padding_mask is not None:
            # The base spreads an all-padding row evenly over its padding; zero it instead.
            has_real = ops.any(padding_mask, axis=-1, keepdims=True)
            weights = ops.where(has_real, weights, ops.zeros_like(weights))
            pooled = ops.where(has_real, pooled, ops.zeros_like(pooled))
        return pooled, weights

    def score(self, query, keys):
        hidden = self.projection(keys)  # [batch, length, units]
        return ops.matmul(query, ops.swapaxes(hidden, 1, 2))

    def compute_mask(self, values, previous_mask=None):
        return None

    def compute_output_shape(self, values_shape, padding_mask_shape=None):
        return (values_shape[0], values_shape[-1]), (values_shape[0], values_shape[1])

    def get_config(self):
        return {**super().get_config(), "units": self.units}
