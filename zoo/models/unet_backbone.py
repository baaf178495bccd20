"""The U-Net of Ronneberger et al. (2015): its backbone, images in, per-pixel class logits out."""

import keras
from keras import ops

from zoo import checks
from zoo.models.backbone import Backbone
from zoo.vision.image_encoders import image_encoder

UPSAMPLINGS = ("transpose", "bilinear")
# The keras.applications encoders a U-Net can start from, by the layers whose outputs are its
# skip connections at 1/2, 1/4, 1/8 and 1/16 of the image's size (its output is at 1/32).
ENCODER_SKIPS = {
    "mobilenet": ("conv_pw_1_relu", "conv_pw_3_relu", "conv_pw_5_relu", "conv_pw_11_relu"),
    "mobilenet_v2": (
        "block_1_expand_relu",
        "block_3_expand_relu",
        "block_6_expand_relu",
        "block_13_expand_relu",
    ),
    "efficientnet_b0": (
        "block2a_expand_activation",
        "block3a_expand_activation",
        "block4a_expand_activation",
        "block6a_expand_activation",
    ),
    "resnet50": ("conv1_relu", "conv2_block3_out", "conv3_block4_out", "conv4_block6_out"),
}
# A pretrained encoder halves the image five times.
ENCODER_DEPTH = 5


@keras.saving.register_keras_serializable(package="zoo")
class UNetBackbone(Backbone):
    """A U-Net: a contracting path that halves the image `depth` times, an expanding path
    that doubles it back, and a skip connection at every level between them.

    Each level of the contracting path is two 3x3 convolutions (batch normalisation, ReLU)
    with `filters * 2**level` channels, then 2x2 max-pooling; the bottom level has
    `filters * 2**depth`. With `encoder`, a keras.applications network is the contracting
    path instead (`depth` 5): the skip connections are the outputs of its stages at 1/2 to
    1/16 of the image's size (`ENCODER_SKIPS`) and, at full size, the image itself.

    Each level of the expanding path upsamples (a 2x2 transposed convolution, or bilinear
    resizing then a 3x3 convolution), concatenates the contracting path's output of the same
    size (the skip connection), and applies two convolutions with `filters * 2**level`
    channels; a 1x1 convolution gives the class logits. Convolutions pad ("same"), so the
    logits have the images' size; the paper's unpadded convolutions crop instead.

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
        encoder: None (the paper's contracting path) or one of `ENCODER_SKIPS`: a
            keras.applications network without its top, whose input normalisation the
            task's preprocessor applies (`zoo.vision.encoder_normalization`).
        encoder_weights: None or the path of a local weights file for `encoder` (e.g.
            "mobilenet_2_5_224_tf_no_top.h5"), loaded when the backbone is built and not
            kept in its config (a saved model holds all its weights). Nothing is downloaded.
        encoder_alpha: float, the width multiplier of "mobilenet" and "mobilenet_v2".
        trainable_encoder: bool, whether training updates the encoder.
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
        encoder=None,
        encoder_weights=None,
        encoder_alpha=1.0,
        trainable_encoder=True,
        dtype=None,
        **kwargs,
    ):
        for value, name in ((depth, "depth"), (filters, "filters")):
            checks.positive_int(value, name)
        checks.int_at_least(num_classes, "num_classes", 2)
        checks.fraction(dropout, "dropout")
        checks.one_of(upsampling, UPSAMPLINGS, "upsampling")
        if encoder is not None:
            if encoder not in ENCODER_SKIPS:
                raise ValueError(
                    f"`encoder` must be None or one of {tuple(ENCODER_SKIPS)}, got {encoder!r}."
                )
            if depth != ENCODER_DEPTH:
                raise ValueError(
                    f"An `encoder` halves the image {ENCODER_DEPTH} times: `depth` must be "
                    f"{ENCODER_DEPTH}, got {depth!r}."
                )
        image_shape = tuple(image_shape)
        check_image_size(image_shape[:2], depth, "image_shape")
        # === Config ===
        self.num_classes = num_classes
        self.image_shape = image_shape
        self.depth = depth
        self.filters = filters
        self.dropout = dropout
        self.upsampling = upsampling
        self.encoder = encoder
        self.encoder_alpha = encoder_alpha
        self.trainable_encoder = trainable_encoder

        # === Functional Model ===
        images = keras.Input(image_shape, name="images")
        if encoder is None:
            x, skips = self._contracting_path(images, dtype)
        else:
            x, skips = self._pretrained_path(images, encoder_weights)
        x = keras.layers.Dropout(dropout, dtype=dtype, name="bottom_dropout_out")(x)
        for level in reversed(range(depth)):
            x = self._upsample(x, filters * 2**level, f"up_{level}", dtype)
            x = keras.layers.Concatenate(dtype=dtype, name=f"up_{level}_skip")([skips[level], x])
            x = _convolutions(x, filters * 2**level, f"up_{level}", dtype)
        logits = keras.layers.Conv2D(num_classes, 1, dtype=dtype, name="logits")(x)
        # float32 whatever the policy: the loss and the argmax read them.
        logits = ops.cast(logits, "float32")
        super().__init__(inputs={"images": images}, outputs=logits, dtype=dtype, **kwargs)

    def _contracting_path(self, images, dtype):
        """The paper's: returns the bottom level's output and the skip connections."""
        x, skips = images, []
        for level in range(self.depth):
            x = _convolutions(x, self.filters * 2**level, f"down_{level}", dtype)
            skips.append(x)
            x = keras.layers.MaxPooling2D(2, dtype=dtype, name=f"down_{level}_pool")(x)
        x = keras.layers.Dropout(self.dropout, dtype=dtype, name="bottom_dropout_in")(x)
        return _convolutions(x, self.filters * 2**self.depth, "bottom", dtype), skips

    def _pretrained_path(self, images, weights):
        """A keras.applications network's: its output, and as skip connections the image
        and its stages' outputs."""
        network = image_encoder(
            self.encoder, self.image_shape, weights=weights, alpha=self.encoder_alpha
        )
        network.trainable = self.trainable_encoder
        stages = [network.get_layer(name).output for name in ENCODER_SKIPS[self.encoder]]
        self.image_encoder = keras.Model(
            network.input, [*stages, network.output], name="image_encoder"
        )
        *skips, x = self.image_encoder(images)
        return x, [images, *skips]

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
            "encoder": self.encoder,
            "encoder_alpha": self.encoder_alpha,
            "trainable_encoder": self.trainable_encoder,
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
    """Two 3x3 convolutions, each batch-normalised (over the global batch under
    tf.distribute) and rectified."""
    for index in range(2):
        x = keras.layers.Conv2D(
            channels, 3, padding="same", use_bias=False, dtype=dtype, name=f"{name}_conv_{index}"
        )(x)
        x = keras.layers.BatchNormalization(
            synchronized=True, dtype=dtype, name=f"{name}_norm_{index}"
        )(x)
        x = keras.layers.ReLU(dtype=dtype, name=f"{name}_relu_{index}")(x)
    return x
