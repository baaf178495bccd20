import keras
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class DoublyStochasticRegularization(keras.layers.Layer):
    """Xu et al. (2015)'s doubly stochastic attention penalty, added as a model loss.

    Each decoder step's attention over the image regions sums to 1; this asks the attention
    of all the steps of a caption to also sum to about 1 at every region, so the decoder
    looks at every part of the image and at none for too long. The loss added is
    `strength * sum over the batch of sum_i (1 - sum_t alpha_ti) ** 2 / real tokens in the
    batch`, where t runs over the real (unpadded) caption positions and i over the regions.
    Xu et al. add `strength` times the penalty to each caption's summed negative
    log-likelihood; the captioners' loss is a mean over the batch's real tokens, so the
    penalty is divided by the same count, and `strength` means what the paper's lambda does.

    Like `keras.layers.ActivityRegularization` it returns its `inputs` unchanged, so that it
    sits on the path to the model's outputs and Keras collects its loss in `fit` and
    `evaluate`.

    Args:
        strength: float >= 0, the weight lambda of the penalty.

    Call args:
        inputs: any tensor, returned unchanged.
        attention_weights: float [batch, length, regions], each row summing to 1.
        padding_mask: bool [batch, length], True at real caption positions; None for all.

    Example:
    >>> outputs = zoo.layers.DoublyStochasticRegularization(1.0)(
    ...     decoder_outputs, attention_weights, decoder_padding_mask)
    """

    def __init__(self, strength=1.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(strength, (int, float)) or strength < 0:
            raise ValueError(f"`strength` must be a number >= 0, got {strength!r}.")
        self.strength = strength

    def call(self, inputs, attention_weights, padding_mask=None):
        if padding_mask is None:
            padding_mask = ops.ones(ops.shape(attention_weights)[:2], "bool")
        # In float32 under any policy: the penalty is part of the loss.
        attention_weights = ops.cast(attention_weights, "float32")
        real = ops.cast(padding_mask, "float32")
        coverage = ops.sum(attention_weights * real[:, :, None], axis=1)
        penalty = ops.sum(ops.square(1.0 - coverage)) / ops.maximum(ops.sum(real), 1.0)
        self.add_loss(self.strength * penalty)
        return inputs

    def compute_output_shape(self, inputs_shape, *args, **kwargs):
        return inputs_shape

    def get_config(self):
        return {**super().get_config(), "strength": self.strength}
