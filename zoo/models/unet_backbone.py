"""The U-Net of Ronneberger et al. (2015): its backbone, images in, per-pixel class logits out."""

import keras
from keras import ops

from zoo import checks
from zoo.models.backbone import Backbone

UPSAMPLINGS = ("transpose", "bilinear")


@keras.saving.register_keras_serializable(package="zoo")
class UNetBackbone(Backbone):
    """A U-Net: a contracting path that halves the image `depth` times, an expanding path
    that doubles it back, and a skip connection at every level between them.

    Each level of the contracting path is two 3x3 convolutions (batch normalisation, ReLU)
    with `filters * 2**level` channels, then 2x2 max-pooling; the bottom level has
    `filters * 2**depth`. Each level of the expanding path upsamples (a 2x2 transposed
    convolution, or bilinear resizing then a 3x3 convolution), concatenates the contracting
    path's output of the same size (the skip connection), and applies two convolutions; a
    1x1 convolution gives the class logits. Convolutions pad ("same"), so the logits have the
    images' size; the paper's unpadded convolutions crop instead.

    The functional graph maps `images` (float [batch, height, width, 3], preprocessed by the
    task's `zoo.vision.ImagePreprocessor`) to float32 logits [batch, height, width,
    num_classes]. Height and width must be multiples of `2**depth`, so that every
    upsampling meets a skip connection of its size: the task resizes images to that size and
    resizes its masks back to each image's own.

    Args:
        num_classes: int >= 2, the classes a pixel can take (the background is one).
        image_shape: (height, width, 3), each side a multiple of `2**depth`.
        depth: int, the down-samplings (4 in the paper).
        filters: int, channels of the first level, doubled at each level (64 in the paper).
        dropout: float in [0, 1), dropout before the bottom level and after it, as the
            paper's drop-out layers at the end of the contracting path.
        upsampling: "transpose" (the paper's up-convolution) or "bilinear".
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or a `keras.DTypePolicy`. The logits are float32.

    Example:
    >>> backbone = zoo.models.UNetBackbone(4, image_shape=(64, 64, 3), depth=3, filters=16)
    >>> logits = backbone({"images": images})  # [batch, 64, 64, 4]
    """

    def __init__(
        self,
        num_classes,
        image_shape=(128, 128, 3),
        depth=4,
        filters=64,
        dropout=0.0,
        upsampling="transpose",
        dtype=None,
        **kwargs,
    ):
        for value, name in ((depth, "depth"), (filters, "filters")):
            checks.positive_int(value, name)
        if not checks.is_int(num_classes) or num_classes < 2:
            raise ValueError(f"`num_classes` must be an int of at least 2, got {num_classes!r}.")
        checks.fraction(dropout, "dropout")
        if upsampling not in UPSAMPLINGS:
            raise ValueError(f"`upsampling` must be one of {UPSAMPLINGS}, got {upsampling!r}.")
        image_shape = tuple(image_shape)
        check_image_size(image_shape[:2], depth, "image_shape")
        # === Config ===
        self.num_classes = num_classes
        self.image_shape = image_shape
        self.depth = depth
        self.filters = filters
        self.dropout = dropout
        self.upsampling = upsampling

        # === Functional Model ===
        images = keras.Input(image_shape, name="images")
        x, skips = images, []
        for level in range(depth):
            x = _convolutions(x, filters * 2**level, f"down_{level}", dtype)
            skips.append(x)
            x = keras.layers.MaxPooling2D(2, dtype=dtype, name=f"down_{level}_pool")(x)
        x = keras.layers.Dropout(dropout, dtype=dtype, name="bottom_dropout_in")(x)
        x = _convolutions(x, filters * 2**depth, "bottom", dtype)
        x = keras.layers.Dropout(dropout, dtype=dtype, name="bottom_dropout_out")(x)
        for level in reversed(range(depth)):
            x = self._upsample(x, filters * 2**level, f"up_{level}", dtype)
            x = keras.layers.Concatenate(dtype=dtype, name=f"up_{level}_skip")([skips[level], x])
            x = _convolutions(x, filters * 2**level, f"up_{level}", dtype)
        logits = keras.layers.Conv2D(num_classes, 1, dtype=dtype, name="logits")(x)
        # float32 whatever the policy: the loss and the argmax read them.
        logits = ops.cast(logits, "float32")
        super().__init__(inputs={"images": images}, outputs=logits, dtype=dtype, **kwargs)

    def _upsample(self, x, channels, name, dtype):
        if self.upsampling == "transpose":
            return keras.layers.Conv2DTranspose(
                channels, 2, strides=2, dtype=dtype, name=f"{name}_upsample"
            )(x)
        x = keras.layers.UpSampling2D(2, interpolation="bilinear", dtype=dtype)(x)
        return keras.layers.Conv2D(
            channels, 3, padding="same", activation="relu", dtype=dtype, name=f"{name}_upsample"
        )(x)

    def skip_kernel(self, level):
        """The kernel of the first convolution after the skip connection of `level`,
        [3, 3, skip channels + upsampled channels, channels]: the skip's channels first."""
        return self.get_layer(f"up_{level}_conv_0").kernel

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "image_shape": list(self.image_shape),
            "depth": self.depth,
            "filters": self.filters,
            "dropout": self.dropout,
            "upsampling": self.upsampling,
        }


def check_image_size(size, depth, name):
    """Raises unless both sides of `size` are multiples of 2**depth."""
    multiple = 2**depth
    if any(side % multiple for side in size):
        raise ValueError(
            f"`{name}` must have a height and width that are multiples of 2**depth = "
            f"{multiple} (depth {depth}), got {tuple(size)}; e.g. "
            f"{tuple(max(multiple, round(side / multiple) * multiple) for side in size)}."
        )


def _convolutions(x, channels, name, dtype):
    """Two 3x3 convolutions, each batch-normalised and rectified."""
    for index in range(2):
        x = keras.layers.Conv2D(
            channels, 3, padding="same", use_bias=False, dtype=dtype, name=f"{name}_conv_{index}"
        )(x)
        x = keras.layers.BatchNormalization(dtype=dtype, name=f"{name}_norm_{index}")(x)
        x = keras.layers.ReLU(dtype=dtype, name=f"{name}_relu_{index}")(x)
    return x
