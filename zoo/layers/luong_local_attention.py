import keras
from keras import ops

from zoo import checks
from zoo.layers.luong_attention import LuongAttention
from zoo.layers.masked_softmax import masked_softmax


@keras.saving.register_keras_serializable(package="zoo")
class LuongLocalAttention(LuongAttention):
    """Local attention of Luong et al. (2015): attend only to a window around an aligned
    source position p_t.

    Query i sits at target position t = query_start + i. With S_b real (unpadded) source
    positions in batch row b, the aligned position is, 0-based:
    local-m (`predictive=False`): p_t = min(t, S_b - 1);
    local-p (`predictive=True`): p_t = (S_b - 1) * sigmoid(v_p . tanh(W_p q_t)) (eq. 9).
    The weights are the softmax of the scores (as in `LuongAttention`) over the real source
    positions s with |s - p_t| <= window; every other position gets exactly zero weight.
    For local-p they are then multiplied by exp(-(s - p_t)^2 / (2 sigma^2)), sigma =
    window / 2, and not renormalised, as in the paper. With window=0 the window is the single
    source position nearest p_t, and it gets weight 1.

    The scores are computed for every source position and then masked, so that shapes stay
    static: the layer runs under `jit_compile=True` and inside a `tf.while_loop`.

    Args:
        score: "dot", "general" or "concat".
        units: int, hidden size of the "concat" scoring network (unused otherwise).
        window: int >= 0, the half-width D of the window.
        predictive: bool, True for local-p (learned p_t, Gaussian-weighted window), False
            for local-m (monotonic p_t = t).

    Call args:
        query: [batch, query_length, query_dim], the decoder states asking.
        values: [batch, source_length, value_dim], the encoder states attended to.
        padding_mask: bool [batch, source_length], True at real source tokens, which form a
            prefix of each row.
        keys: `project_keys(values)`, computed once beforehand; None projects the values
            here.
        query_start: int or int32 scalar tensor, the target position of the first query:
            the step index when decoding one step at a time, 0 for a whole sequence.

    Returns:
        (context, weights): [batch, query_length, value_dim] and
        [batch, query_length, source_length].

    Example:
    >>> attention = zoo.layers.LuongLocalAttention("general", window=5, predictive=True)
    >>> context, weights = attention(query, encoder_outputs, mask, query_start=step)
    """

    def __init__(self, score="general", units=None, window=10, predictive=True, **kwargs):
        super().__init__(score=score, units=units, **kwargs)
        checks.int_at_least(window, "window", 0)
        if not isinstance(predictive, bool):
            raise ValueError(f"`predictive` must be a bool, got {predictive!r}.")
        self.window = window
        self.predictive = predictive

    def build(self, query_shape, values_shape, padding_mask_shape=None):
        super().build(query_shape, values_shape, padding_mask_shape)
        if self.predictive:
            query_dim = query_shape[-1]
            # W_p and v_p of eq. 9: a one-hidden-layer network from q_t to a scalar.
            self.position_kernel = self.add_weight((query_dim, query_dim), name="position_kernel")
            self.position_vector = self.add_weight((query_dim,), name="position_vector")

    def call(self, query, values, padding_mask=None, keys=None, query_start=0):
        scores = self.score(query, self.project_keys(values) if keys is None else keys)
        # Positions in float32 whatever the compute dtype: bfloat16 holds the integers only
        # up to 256, and p_t would move in steps of up to 2 positions past it.
        dtype = "float32"
        source_length = ops.shape(values)[1]
        if padding_mask is None:
            padding_mask = ops.ones((ops.shape(values)[0], source_length), dtype="bool")
        padding_mask = ops.cast(padding_mask, "bool")
        # The last real position; 0 for an all-padding row, which then gets no weight at all.
        last_position = ops.maximum(ops.sum(ops.cast(padding_mask, dtype), axis=-1) - 1, 0)
        last_position = ops.expand_dims(last_position, -1)  # [batch, 1]

        if self.predictive:
            hidden = ops.tanh(ops.matmul(query, self.position_kernel))
            alignment = ops.cast(ops.matmul(hidden, self.position_vector), dtype)
            aligned = last_position * ops.sigmoid(alignment)
        else:
            targets = ops.cast(query_start, "int32") + ops.arange(ops.shape(query)[1])
            aligned = ops.minimum(ops.cast(targets, dtype)[None, :], last_position)
        aligned = ops.expand_dims(aligned, -1)  # [batch, query_length, 1]

        positions = ops.cast(ops.arange(source_length), dtype)[None, None, :]
        distance = positions - aligned
        # The nearest position is always in the window: it matters only for window=0 with
        # a fractional local-p p_t, whose window would otherwise hold no position at all.
        in_window = (ops.abs(distance) <= self.window) | (positions == ops.round(aligned))
        attended = in_window & ops.expand_dims(padding_mask, 1)

        weights = masked_softmax(scores, attended)
        weights = ops.where(attended, weights, ops.zeros_like(weights))
        if self.predictive and self.window > 0:
            sigma = self.window / 2
            weights = weights * ops.exp(-ops.square(distance) / (2 * sigma**2))
        weights = ops.cast(weights, self.compute_dtype)
        return ops.matmul(weights, values), weights

    def get_config(self):
        return {**super().get_config(), "window": self.window, "predictive": self.predictive}
