import keras
from keras import ops

from zoo import checks
from zoo.layers.attention import Attention

SCORES = ("dot", "general", "concat")


@keras.saving.register_keras_serializable(package="zoo")
class LuongAttention(Attention):
    """Multiplicative and concat attention of Luong et al. (2015).

    Scores of the decoder state q against each encoder state h:
    "dot": q . h; "general": q . (W h); "concat": v . tanh(W [q; h]). The keys W h of
    "general" and "concat" (of its h half) are projected once per source (`project_keys`).

    Args:
        score: "dot", "general" or "concat".
        units: int, hidden size of the "concat" scoring network (unused otherwise).

    Example:
    >>> context, weights = zoo.layers.LuongAttention("general")(query, encoder_outputs, mask)
    """

    def __init__(self, score="general", units=None, **kwargs):
        super().__init__(**kwargs)
        checks.one_of(score, SCORES, "score")
        if score == "concat":  # the only score with a hidden layer of its own
            checks.positive_int(units, "units")
        self.score_name = score
        self.units = units

    def build(self, query_shape, values_shape, padding_mask_shape=None):
        query_dim, key_dim = query_shape[-1], values_shape[-1]
        if self.score_name == "dot" and query_dim != key_dim:
            raise ValueError(
                f"score='dot' needs equal query and value sizes, got {query_dim} and {key_dim}."
            )
        if self.score_name == "general":
            self.key_kernel = self.add_weight((key_dim, query_dim), name="key_kernel")
        if self.score_name == "concat":
            self.query_kernel = self.add_weight((query_dim, self.units), name="query_kernel")
            self.key_kernel = self.add_weight((key_dim, self.units), name="key_kernel")
            self.score_vector = self.add_weight((self.units,), name="score_vector")

    def project_keys(self, values):
        if self.score_name == "dot":
            return values
        # Cast by hand: a decoding cache projects its keys outside the layer's call, where
        # Keras does not cast the weights to a mixed precision policy's compute dtype.
        return ops.matmul(values, ops.cast(self.key_kernel, self.compute_dtype))

    def score(self, query, keys):
        if self.score_name != "concat":
            return ops.matmul(query, ops.swapaxes(keys, 1, 2))
        # W [q; h] = W_q q + W_k h: the concatenation split into its two halves.
        hidden = ops.tanh(
            ops.expand_dims(ops.matmul(query, self.query_kernel), 2) + ops.expand_dims(keys, 1)
        )
        return ops.matmul(hidden, self.score_vector)

    def get_config(self):
        return {**super().get_config(), "score": self.score_name, "units": self.units}
