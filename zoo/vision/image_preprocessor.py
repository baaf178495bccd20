"""ImagePreprocessor: decoding, resizing and normalisation inside the graph.

It turns either kind of image batch that `zoo.vision.as_image_batch` gives (uint8 pixels or
encoded bytes) into the float32 batch a vision encoder takes, with TensorFlow ops only, so
the same code runs in `fit`, `predict` and an exported SavedModel whose signature is
`tf.string[None]`.
"""

import keras
import tensorflow as tf

from zoo.vision.image_inputs import as_image_batch, as_pixel_batch, to_rgb

# None keeps pixel values in [0, 255], for encoders that rescale inside themselves.
NORMALIZATIONS = ("unit", "tf", "torch", "caffe", None)
# The tf.image.resize methods that leave an image already at the target size unchanged.
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area")

# keras.applications.imagenet_utils constants ("torch" in RGB on [0, 1], "caffe" in BGR).
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="zoo")
class ImagePreprocessor:
    """Decodes, resizes and normalises a batch of images, in-graph.

    Every image is resized to `image_size` with `tf.image.resize` (bilinear by default,
    half-pixel centres, no antialiasing), stretched to fill it: the aspect ratio is not
    kept and nothing is cropped or padded, as `keras.layers.Resizing` does by default and as
    the 224x224 Flickr8k images were made. An image already of that size passes unchanged.
    Grayscale images are repeated over three channels and an alpha channel is dropped
    (as `tf.io.decode_image(..., channels=3)` does for PNG files).

    Normalisations, applied to the resized pixels `x` in [0, 255]:
    - "unit": `x / 255`, in [0, 1].
    - "tf": `x / 127.5 - 1`, in [-1, 1] (keras.applications MobileNet, Inception, ...).
    - "torch": `(x / 255 - mean) / std` with ImageNet's RGB mean and std (DenseNet, ...).
    - "caffe": channels reversed to BGR, then ImageNet's BGR mean subtracted, not scaled
      (VGG16, ResNet50). The output channels are in BGR order.
    - None: `x` as it is, for encoders that rescale their input themselves
      (keras.applications EfficientNet, MobileNetV3).
    "tf", "torch" and "caffe" equal `keras.applications.imagenet_utils.preprocess_input`
    with that `mode`.

    Calling the preprocessor eagerly accepts any form `as_image_batch` accepts (arrays,
    file paths, encoded bytes) and checks it; inside a `tf.function` or `tf.data` map it
    takes a uint8 tensor [batch, height, width, channels] or [height, width, channels], or a
    tf.string tensor [batch] or scalar of encoded JPEG/PNG/GIF/BMP/WebP images. A string
    tensor always holds encoded images there, never file paths.

    Args:
        image_size: int or (height, width) of positive ints, the size of the output images.
        normalization: one of `NORMALIZATIONS`: "unit" (default), "tf", "torch", "caffe"
            or None.
        interpolation: one of `INTERPOLATIONS`: "bilinear" (default), "nearest", "bicubic"
            or "area". Bicubic results are clipped to [0, 255] before normalisation.

    Example:
    >>> preprocessor = ImagePreprocessor(image_size=(32, 32))
    >>> pixels = np.zeros((2, 48, 64, 3), dtype="uint8")
    >>> preprocessor(pixels).shape
    TensorShape([2, 32, 32, 3])
    >>> encoded = tf.io.encode_png(np.full((8, 8, 3), 255, dtype="uint8"))
    >>> serve = tf.function(preprocessor, input_signature=[tf.TensorSpec([None], tf.string)])
    >>> float(tf.reduce_min(serve(tf.stack([encoded, encoded]))))
    1.0
    """

    def __init__(self, image_size=(224, 224), normalization="unit", interpolation="bilinear"):
        self.image_size = _check_image_size(image_size)
        if normalization not in NORMALIZATIONS:
            raise ValueError(
                f"Unknown normalization={normalization!r}; known normalizations: {NORMALIZATIONS}."
            )
        if interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"Unknown interpolation={interpolation!r}; known interpolations: {INTERPOLATIONS}."
            )
        self.normalization = normalization
        self.interpolation = interpolation
        # Eagerly, map_fn would loop in Python; one traced graph decodes a batch far faster.
        self._decode_and_resize_graph = tf.function(
            self._decode_and_resize, input_signature=[tf.TensorSpec([None], tf.string)]
        )

    @property
    def image_shape(self):
        """(height, width, 3): the shape of one output image."""
        return (*self.image_size, 3)

    def __call__(self, images):
        """Images -> float32 tensor [batch, height, width, 3] (see the class docstring).

        Args:
            images: eagerly, anything `as_image_batch` accepts; in a graph, a uint8 tensor
                of rank 3 or 4 or a tf.string tensor of rank 0 or 1.

        Returns:
            float32 tensor [batch, *image_size, 3]; a single image gives a batch of one.

        Raises:
            TypeError, ValueError, FileNotFoundError: as `as_image_batch` (eagerly), or a
                graph tensor of another dtype, rank or channel count.
        """
        if tf.executing_eagerly():
            images, _ = as_image_batch(images, "images")
            if images.dtype == tf.string:
                return self._normalize(self._decode_and_resize_graph(images))
        if images.dtype == tf.string:
            return self._normalize(self._decode_and_resize(images))
        return self._normalize(self._resize(to_rgb(as_pixel_batch(images, "images"))))

    def _decode_and_resize(self, encoded):
        if encoded.shape.rank == 0:
            encoded = encoded[tf.newaxis]
        elif encoded.shape.rank != 1:
            raise ValueError(
                "`images` given as encoded bytes must be a tf.string tensor of shape [batch] "
                f"or a scalar, got shape {encoded.shape}."
            )

        # Encoded images may differ in size, so each is resized before they are stacked.
        return tf.map_fn(
            self._decode_and_resize_one,
            encoded,
            fn_output_signature=tf.TensorSpec(self.image_shape, tf.float32),
        )

    def _decode_and_resize_one(self, encoded):
        pixels = tf.io.decode_image(encoded, channels=3, expand_animations=False)
        return self._resize(pixels)

    def decode_or_blank(self, encoded):
        """Encoded images, tf.string [batch], in a graph -> `(images, decoded)`: the float32
        batch as `__call__` makes it, and bool [batch], whether each image decoded. One that
        does not (corrupt, cut short, not an image) is left blank (zeros before
        normalisation) rather than failing the batch, so a server answers the others."""
        count = tf.shape(encoded)[0]
        decoded = (
            tf.data.Dataset.from_tensor_slices((tf.range(count), encoded))
            .map(lambda index, one: (index, self._decode_and_resize_one(one)))
            .ignore_errors()
        )

        def place(batch, item):
            images, ok = batch
            index, image = item
            return (
                tf.tensor_scatter_nd_update(images, [[index]], image[tf.newaxis]),
                tf.tensor_scatter_nd_update(ok, [[index]], [True]),
            )

        blank = (tf.zeros([count, *self.image_shape]), tf.zeros([count], tf.bool))
        images, ok = decoded.reduce(blank, place)
        return self._normalize(images), ok

    def _resize(self, pixels):
        resized = tf.image.resize(
            tf.cast(pixels, tf.float32), self.image_size, method=self.interpolation
        )
        if self.interpolation == "bicubic":
            resized = tf.clip_by_value(resized, 0.0, 255.0)
        return resized

    def _normalize(self, pixels):
        if self.normalization == "unit":
            return pixels / 255.0
        if self.normalization == "tf":
            return pixels / 127.5 - 1.0
        if self.normalization == "torch":
            return (pixels / 255.0 - tf.constant(_TORCH_MEAN)) / tf.constant(_TORCH_STD)
        if self.normalization == "caffe":
            return pixels[..., ::-1] - tf.constant(_CAFFE_MEAN_BGR)
        return pixels

    def get_config(self):
        return {
            "image_size": list(self.image_size),
            "normalization": self.normalization,
            "interpolation": self.interpolation,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_image_size(image_size):
    size = (image_size, image_size) if isinstance(image_size, int) else image_size
    valid = (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(side, int) and not isinstance(side, bool) and side > 0 for side in size)
    )
    if not valid:
        raise ValueError(
            f"`image_size` must be a positive int or a (height, width) pair of positive ints, "
            f"got image_size={image_size!r}."
        )
    return tuple(size)
