import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="zoo")
class ReversePaddedSequence(keras.layers.Layer):
    """Reverses each sequence's real tokens in place, leaving its padding at the end.

    Sutskever et al. (2014) feed the source backwards so the first source words sit
    next to the first target words. Reversing the whole padded tensor would move padding
    to the front; this keeps `[a, b, c, pad]` -> `[c, b, a, pad]`.

    Call args:
        inputs: tensor [batch, length, ...].
        padding_mask: bool tensor [batch, length], True at real tokens (a prefix).

    Example:
    >>> layer = zoo.layers.ReversePaddedSequence()
    >>> layer([[1, 2, 3, 0]], padding_mask=[[True, True, True, False]])  # [[3, 2, 1, 0]]
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True  # the real tokens stay a prefix: the mask still holds

    def call(self, inputs, padding_mask):
        lengths = tf.reduce_sum(tf.cast(padding_mask, tf.int32), axis=1)
        return tf.reverse_sequence(inputs, lengths, seq_axis=1, batch_axis=0)

    def compute_output_shape(self, input_shape):
        return input_shape
