import math

import keras
from keras import ops

from zoo import checks


@keras.saving.register_keras_serializable(package="zoo")
class GatedConvolution(keras.layers.Layer):
    """A 1-D convolution with gated linear units (Dauphin et al. 2017), as each layer of
    ConvS2S (Gehring et al. 2017) convolves its input.

    Dropout on the input, a convolution to `2 * channels`, and a gated linear unit: the
    first half of the channels times the sigmoid of the second half. Non-causal (the
    encoder's), the input is padded on both sides so that the output keeps its length; causal
    (the decoder's), on the left by `kernel_size - 1`, so that position t reads positions
    t - kernel_size + 1 ... t only. Initialised as fairseq initialises ConvS2S's
    convolutions: Normal(0, sqrt(4 (1 - dropout) / (kernel_size * input_channels))), zero
    biases (without fairseq's weight normalisation).

    Cached decoding (causal only): with `cache`, the layer's last `kernel_size - 1` inputs
    [batch, kernel_size - 1, input_channels] (zeros before the first token), `inputs` is one
    position [batch, 1, input_channels]; the call returns its output and the cache shifted by
    one, fixed in size, so that a decoding loop keeps static shapes under XLA.

    Args:
        channels: int, output channels.
        kernel_size: int, the convolution's width.
        causal: bool, whether each position reads only itself and earlier ones.
        dropout: float, dropout on the input.

    Call args:
        inputs: [batch, length, input_channels].
        padding_mask: bool [batch, length], True at real positions; padded positions are
            zeroed before the convolution, so that they add nothing to their neighbours.
        cache: None, or the cache described above (causal only).
        training: bool, whether dropout is active.

    Returns:
        [batch, length, channels]; with a `cache`, `(outputs, cache)`.

    Example:
    >>> convolution = zoo.layers.GatedConvolution(256, kernel_size=3, causal=True)
    >>> outputs = convolution(x, padding_mask=mask)
    >>> output, cache = convolution(x_t, cache=cache)  # one decoding step
    """

    def __init__(self, channels, kernel_size, causal=False, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        checks.positive_int(channels, "channels")
        checks.positive_int(kernel_size, "kernel_size")
        checks.fraction(dropout, "dropout")
        self.channels = channels
        self.kernel_size = kernel_size
        self.causal = causal
        self.dropout = dropout

    def build(self, inputs_shape):
        input_channels = inputs_shape[-1]
        stddev = math.sqrt(4 * (1 - self.dropout) / (self.kernel_size * input_channels))
        self.convolution = keras.layers.Conv1D(
            2 * self.channels,
            self.kernel_size,
            kernel_initializer=keras.initializers.RandomNormal(stddev=stddev),
            dtype=self.dtype_policy,
            name="convolution",
        )
        self.convolution.build((None, None, input_channels))
        self.dropout_layer = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def cache_shape(self, batch_size, input_channels):
        """The shape of the decoding cache this layer steps over."""
        return (batch_size, self.kernel_size - 1, input_channels)

    def call(self, inputs, padding_mask=None, cache=None, training=None):
        x = inputs
        if padding_mask is not None:
            x = x * ops.cast(ops.expand_dims(padding_mask, -1), x.dtype)
        x = self.dropout_layer(x, training=training)
        if cache is not None:
            if not self.causal:
                raise ValueError("Only a causal `GatedConvolution` decodes with a `cache`.")
            window = ops.concatenate([ops.cast(cache, x.dtype), x], axis=1)
            return self._gated(self.convolution(window)), window[:, 1:]
        if self.causal:
            left, right = self.kernel_size - 1, 0
        else:
            left, right = (self.kernel_size - 1) // 2, self.kernel_size // 2
        return self._gated(self.convolution(ops.pad(x, ((0, 0), (left, right), (0, 0)))))

    def _gated(self, x):
        values, gates = ops.split(x, 2, axis=-1)
        return values * ops.sigmoid(gates)

    def get_config(self):
        return {
            **super().get_config(),
            "channels": self.channels,
            "kernel_size": self.kernel_size,
            "causal": self.causal,
            "dropout": self.dropout,
        }
