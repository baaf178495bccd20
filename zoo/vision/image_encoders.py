"""Convolutional image encoders: images in, a grid of feature vectors out."""

from pathlib import Path

import keras

from zoo import checks

# keras.applications backbones by name: (constructor, the normalization it was trained with).
APPLICATIONS = {
    "mobilenet": (keras.applications.MobileNet, "tf"),
    "mobilenet_v2": (keras.applications.MobileNetV2, "tf"),
    "efficientnet_b0": (keras.applications.EfficientNetB0, None),
    "resnet50": (keras.applications.ResNet50, "caffe"),
}
ENCODERS = ("small-cnn", *APPLICATIONS)


@keras.saving.register_keras_serializable(package="zoo")
class SmallCNN(keras.layers.Layer):
    """A small convolutional stack, trained from scratch: each block is a 3x3 convolution,
    optionally batch normalisation, ReLU and a 2x2 max-pooling, so the feature grid is the
    image halved once per block.

    Args:
        filters: list of ints, the channels of each block.
        batch_norm: bool, whether each convolution's output is batch-normalised (before the
            ReLU, without a convolution bias, as in Ioffe and Szegedy 2015). It lets the
            decoders train the CNN from scratch in fewer epochs.

    Call args:
        images: float [batch, height, width, 3].
        training: bool, whether batch normalisation uses the batch's statistics.

    Returns:
        float [batch, height / 2**len(filters), width / 2**len(filters), filters[-1]].

    Example:
    >>> zoo.vision.SmallCNN([16, 32])(np.zeros((1, 32, 32, 3))).shape
    TensorShape([1, 8, 8, 32])
    """

    def __init__(self, filters=(32, 64, 128), batch_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.filters = list(filters)
        if not self.filters or not all(isinstance(f, int) and f > 0 for f in self.filters):
            raise ValueError(
                f"`filters` must be a non-empty list of positive ints, got {filters!r}."
            )
        self.batch_norm = batch_norm
        self.convolutions = [
            keras.layers.Conv2D(
                f,
                3,
                padding="same",
                use_bias=not batch_norm,
                dtype=self.dtype_policy,
                name=f"conv_{i}",
            )
            for i, f in enumerate(self.filters)
        ]
        # Momentum 0.9, not Keras' 0.99: trained from scratch for a few hundred steps, the
        # convolutions change fast, and inference-time statistics averaged over ~100 steps
        # lag far behind them (measured: predictions fall apart at 0.99 on shapes).
        # Synchronized: under tf.distribute, the statistics of the global batch.
        self.normalizations = [
            keras.layers.BatchNormalization(
                momentum=0.9, synchronized=True, dtype=self.dtype_policy, name=f"batch_norm_{i}"
            )
            for i in range(len(self.filters) if batch_norm else 0)
        ]
        self.pooling = keras.layers.MaxPooling2D(2, dtype=self.dtype_policy, name="pooling")

    def build(self, images_shape):
        channels = images_shape[-1]
        for index, convolution in enumerate(self.convolutions):
            convolution.build((None, None, None, channels))
            channels = convolution.filters
            if self.batch_norm:
                self.normalizations[index].build((None, None, None, channels))

    def call(self, images, training=None):
        x = images
        for index, convolution in enumerate(self.convolutions):
            x = convolution(x)
            if self.batch_norm:
                x = self.normalizations[index](x, training=training)
            x = self.pooling(keras.ops.relu(x))
        return x

    def compute_output_shape(self, images_shape):
        scale = 2 ** len(self.filters)
        batch, height, width, _ = images_shape
        return (batch, height // scale, width // scale, self.filters[-1])

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "batch_norm": self.batch_norm}


def image_encoder(
    name,
    image_shape,
    filters=(32, 64, 128),
    weights=None,
    alpha=1.0,
    batch_norm=False,
    dtype=None,
):
    """Builds the encoder called `name`, images [batch, *image_shape] -> a feature grid.

    Args:
        name: one of `ENCODERS`: "small-cnn" (`SmallCNN`) or a keras.applications
            backbone ("mobilenet", "mobilenet_v2", "efficientnet_b0", "resnet50") without its
            classification top.
        image_shape: (height, width, 3), the input size.
        filters: the small CNN's channels per block.
        weights: None (random initialisation) or the path of a local weights file for a
            keras.applications backbone (e.g. a "..._notop.h5" file). Nothing is downloaded.
        alpha: float, the width multiplier of "mobilenet" and "mobilenet_v2".
        batch_norm: bool, whether the small CNN batch-normalises its convolutions (the
            keras.applications backbones have their own normalisation).
        dtype: the small CNN's dtype policy (None: the global one). The keras.applications
            backbones take no policy: they are built under the global one.

    Returns:
        A layer from float images to float [batch, grid_height, grid_width, channels].

    Raises:
        ValueError: an unknown name, `weights="imagenet"` or weights for the small CNN.
        FileNotFoundError: `weights` is not an existing file.
    """
    checks.one_of(name, ENCODERS, "encoder")
    if weights is not None:
        _check_weights_file(name, weights)
    if name == "small-cnn":
        return SmallCNN(filters, batch_norm, dtype=dtype, name="small_cnn")
    constructor, _ = APPLICATIONS[name]
    options = {"alpha": alpha} if name.startswith("mobilenet") else {}
    return constructor(
        include_top=False,
        weights=None if weights is None else str(weights),
        input_shape=tuple(image_shape),
        **options,
    )


def encoder_normalization(name):
    """The `ImagePreprocessor` normalization the encoder called `name` expects."""
    checks.one_of(name, ENCODERS, "encoder")
    return "unit" if name == "small-cnn" else APPLICATIONS[name][1]


def _check_weights_file(name, weights):
    if name == "small-cnn":
        raise ValueError(
            "`encoder_weights` is for keras.applications encoders; the small CNN is trained "
            f"from scratch, got encoder_weights={weights!r}."
        )
    if weights == "imagenet":
        raise ValueError(
            "`encoder_weights='imagenet'` would download the weights, and zoo downloads "
            "nothing. Download them once yourself (e.g. the keras.applications "
            f"'{name}' ..._notop.h5 file) and pass its path: "
            "encoder_weights='/path/to/weights_notop.h5'."
        )
    if not Path(weights).is_file():
        raise FileNotFoundError(f"`encoder_weights` is {str(weights)!r}, not an existing file.")
