import keras
from keras import ops

from zoo import checks

INFERENCE_RULES = ("argmax", "expectation")


@keras.saving.register_keras_serializable(package="zoo")
class HardAttention(keras.layers.Layer):
    """Stochastic hard attention (Xu et al. 2015, section 4.1): each query reads one source
    position, chosen from the weights of a scoring attention layer.

    The wrapped `attention` (any `zoo.layers.Attention`) gives the weights alpha
    [batch, query_length, source_length], a distribution over the source positions. With
    `draws` (training), each query reads the one position drawn from its alpha: its
    uniform draw u in [0, 1) picks, by the inverse of alpha's cumulative distribution, the
    first position whose cumulative weight exceeds u. A negative draw reads the expectation
    sum_i alpha_i h_i instead (soft attention), as Xu et al. do for half the captions to
    lower the variance of the estimator (`draw` makes such draws). Without draws
    (inference), each query reads the argmax position, or the expectation
    (`inference="expectation"`).

    The weights returned are alpha, the distribution the position is drawn from: the
    doubly stochastic penalty and attention plots read it, and `read_positions(weights,
    draws)` gives back the position each query read. The chosen value passes gradients to
    the values only: alpha learns from the REINFORCE estimator of
    `zoo.layers.HardAttentionReinforce`.

    Args:
        attention: a `zoo.layers.Attention` layer (e.g. `BahdanauAttention(256)`).
        inference: "argmax" or "expectation": what a query reads without draws.
        expectation_rate: float in [0, 1], the chance that `draw` gives a caption
            expectation draws for all its positions.
        seed: None or int, the seed of `draw`'s random numbers.

    Call args:
        query, values, padding_mask, keys: as for the wrapped `attention`.
        draws: None, or float [batch, query_length] from `draw`.

    Returns:
        (context, weights): [batch, query_length, value_dim] and
        [batch, query_length, source_length].

    Example:
    >>> attention = zoo.layers.HardAttention(zoo.layers.BahdanauAttention(64))
    >>> context, weights = attention(query, values, draws=attention.draw(batch_size, 1))
    """

    def __init__(self, attention, inference="argmax", expectation_rate=0.5, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(attention, dict):
            attention = keras.saving.deserialize_keras_object(attention)
        checks.one_of(inference, INFERENCE_RULES, "inference")
        checks.probability(expectation_rate, "expectation_rate")
        self.attention = attention
        self.inference = inference
        self.expectation_rate = expectation_rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, query_shape, values_shape, padding_mask_shape=None):
        self.attention.build(query_shape, values_shape, padding_mask_shape)

    def project_keys(self, values):
        return self.attention.project_keys(values)

    def draw(self, batch_size, length):
        """Uniform draws [batch_size, length] for training; all of a caption's are -1 (read
        the expectation) with probability `expectation_rate`."""
        uniform = keras.random.uniform((batch_size, length), seed=self.seed_generator)
        expectation = keras.random.uniform((batch_size, 1), seed=self.seed_generator)
        return ops.where(expectation < self.expectation_rate, -1.0, uniform)

    def call(self, query, values, padding_mask=None, keys=None, draws=None):
        expected, weights = self.attention(query, values, padding_mask, keys=keys)
        positions = self.read_positions(weights, draws)
        chosen = ops.take_along_axis(values, ops.maximum(positions, 0)[..., None], axis=1)
        return ops.where((positions < 0)[..., None], expected, chosen), weights

    def read_positions(self, weights, draws=None):
        """The source position each query read, int32 [batch, queries], from the `weights`
        [batch, queries, positions] it returned and the `draws` it was given: the position
        drawn by the inverse cumulative distribution of the weights at a draw in [0, 1),
        -1 where a draw is negative (the expectation was read); without draws, the argmax,
        or -1 everywhere for `inference="expectation"`."""
        if draws is None:
            if self.inference == "expectation":
                return -ops.ones(ops.shape(weights)[:-1], "int32")
            return ops.cast(ops.argmax(weights, axis=-1), "int32")
        cumulative = ops.cumsum(ops.cast(weights, "float32"), axis=-1)
        # Scaled to the total, which rounding leaves a little off 1: a draw below 1 never
        # passes the last position with weight.
        threshold = ops.expand_dims(draws * cumulative[..., -1], -1)
        position = ops.sum(ops.cast(cumulative <= threshold, "int32"), axis=-1)
        position = ops.minimum(position, ops.shape(weights)[-1] - 1)
        return ops.where(draws < 0, -1, position)

    def compute_output_shape(self, query_shape, values_shape, padding_mask_shape=None):
        return self.attention.compute_output_shape(query_shape, values_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "attention": keras.saving.serialize_keras_object(self.attention),
            "inference": self.inference,
            "expectation_rate": self.expectation_rate,
            "seed": self.seed,
        }
