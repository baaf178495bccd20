import keras
from keras import ops

from zoo.layers.masked_softmax import masked_softmax


@keras.saving.register_keras_serializable(package="zoo")
class Attention(keras.layers.Layer):
    """Base class of the attention layers: masked softmax over scores, then the context.

    Subclasses implement `score(query, keys)`, returning raw scores
    [batch, query_length, source_length], and, when their keys are a projection of the
    values (W_k h), `project_keys(values)`. The keys depend on the source alone, so a decoder
    projects them once per source and passes them to every step (`keys=`) instead of
    projecting all encoder states again at each one. Padded source positions get exactly
    zero weight. The softmax runs in float32 (`zoo.layers.masked_softmax`); the weights and
    the context come back in the layer's compute dtype.

    Call args:
        query: [batch, query_length, query_dim], the decoder states asking.
        values: [batch, source_length, value_dim], the encoder states attended to.
        padding_mask: bool [batch, source_length], True at real source tokens.
        keys: `project_keys(values)`, computed once beforehand; None projects the values
            here.

    Returns:
        (context, weights): [batch, query_length, value_dim] and
        [batch, query_length, source_length].
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Each query position keeps its own mask (e.g. the decoder's padding).
        self.supports_masking = True

    def build(self, query_shape, values_shape, padding_mask_shape=None):
        """Creates the scoring weights from the input shapes (here: none)."""

    def call(self, query, values, padding_mask=None, keys=None):
        scores = self.score(query, self.project_keys(values) if keys is None else keys)
        mask = None if padding_mask is None else ops.expand_dims(padding_mask, 1)
        weights = ops.cast(masked_softmax(scores, mask), self.compute_dtype)
        return ops.matmul(weights, values), weights

    def project_keys(self, values):
        """The keys `score` compares the query with, [batch, source_length, key_dim]: here the
        values themselves."""
        return values

    def score(self, query, keys):
        raise NotImplementedError

    def compute_output_shape(self, query_shape, values_shape, padding_mask_shape=None):
        return (
            (*query_shape[:2], values_shape[-1]),
            (*query_shape[:2], values_shape[1]),
        )
