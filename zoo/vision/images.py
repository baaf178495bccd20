"""Images in, float pixels out: decoding, resizing and normalisation inside the graph.

Users hand captioners images in one of three forms: uint8 pixel arrays, file paths, or
encoded JPEG/PNG bytes. `as_image_batch` checks them in Python, where an error can still
name the argument, and reduces them to two tensor kinds: uint8 pixels or encoded bytes.
`ImagePreprocessor` turns either kind into the float32 batch a vision encoder takes, with
TensorFlow ops only, so the same code runs in `fit`, `predict` and an exported SavedModel
whose signature is `tf.string[None]`.
"""

import os
import re
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

# None keeps pixel values in [0, 255], for encoders that rescale inside themselves.
NORMALIZATIONS = ("unit", "tf", "torch", "caffe", None)
# The tf.image.resize methods that leave an image already at the target size unchanged.
INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area")

# keras.applications.imagenet_utils constants ("torch" in RGB on [0, 1], "caffe" in BGR).
_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)

_DECODABLE = "JPEG, PNG, GIF, BMP or WebP"


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
        # Eagerly, map_fn would loop in Python; one traced graph decodes a batch ~5x faster.
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
        return self._normalize(self._resize(_to_rgb(_as_pixel_batch(images, "images"))))

    def _decode_and_resize(self, encoded):
        if encoded.shape.rank == 0:
            encoded = encoded[tf.newaxis]
        elif encoded.shape.rank != 1:
            raise ValueError(
                "`images` given as encoded bytes must be a tf.string tensor of shape [batch] "
                f"or a scalar, got shape {encoded.shape}."
            )

        def decode_and_resize_one(one_encoded):
            pixels = tf.io.decode_image(one_encoded, channels=3, expand_animations=False)
            return self._resize(pixels)

        # Encoded images may differ in size, so each is resized before they are stacked.
        return tf.map_fn(
            decode_and_resize_one,
            encoded,
            fn_output_signature=tf.TensorSpec(self.image_shape, tf.float32),
        )

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


def as_image_batch(images, name="images"):
    """Checks images given as pixels, file paths or encoded bytes; returns a tensor batch.

    Accepted forms:
    - uint8 pixels: a NumPy array or tensor [batch, height, width, channels] or one image
      [height, width, channels], or a list of equally shaped [height, width, channels]
      arrays. 1 (grayscale), 2 (grayscale + alpha), 3 (RGB) or 4 (RGBA) channels.
    - file paths: a str or path-like, or a list of them (or a NumPy array of str).
      The files are read here; their contents are checked as encoded bytes.
    - encoded JPEG, PNG, GIF, BMP or WebP bytes: a bytes object, a list of them, or a
      tf.string tensor [batch] / scalar. Each is decoded once here to check it.

    Args:
        images: the images, in one of the forms above.
        name: str, the argument's name, used in error messages.

    Returns:
        `(batch, is_single)`. `batch` is a uint8 tensor [batch, height, width, 3] with
        channels converted to RGB (for pixels), or a tf.string tensor [batch] of encoded
        images (for paths and bytes), ready for `ImagePreprocessor`. `is_single` says
        whether one image was given without a batch (one array [h, w, c], str, path or bytes).

    Raises:
        TypeError: `images` is of no accepted form, mixes forms, or pixels are not uint8.
        ValueError: empty, of the wrong rank, with 0 or more than 4 channels, arrays of
            different shapes in one list, or bytes that do not decode as an image.
        FileNotFoundError: a path that is not an existing file.

    Example:
    >>> batch, is_single = as_image_batch(np.zeros((4, 5, 3), dtype="uint8"), "x")
    >>> batch.shape, batch.dtype.name, is_single
    (TensorShape([1, 4, 5, 3]), 'uint8', True)
    >>> as_image_batch(np.zeros((4, 5), dtype="uint8"), "x")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: `x` must be one image [height, width, channels] or a batch ... shape (4, 5).
    """
    if isinstance(images, (str, os.PathLike)):
        return _read_files([images], [f"`{name}`"]), True
    if isinstance(images, bytes):
        return _check_encoded([images], [f"`{name}`"]), True
    if isinstance(images, tf.Tensor):
        # A scalar string tensor gives bytes, any other tensor an array.
        return as_image_batch(images.numpy(), name)
    if isinstance(images, np.ndarray):
        if images.dtype.kind not in "OSU":
            return _check_pixels(images, name)
        if images.ndim == 0:
            return as_image_batch(images.item(), name)
        if images.ndim != 1:
            raise ValueError(
                f"`{name}` given as paths or encoded bytes must be one-dimensional, "
                f"got shape {images.shape}."
            )
        images = images.tolist()
    if not isinstance(images, (list, tuple)):
        raise TypeError(
            f"`{name}` must be uint8 pixels, file paths or encoded image bytes, got "
            f"{type(images).__name__}: {_preview(images)}."
        )
    if not images:
        raise ValueError(f"`{name}` is empty: pass at least one image.")
    labels = [f"`{name}[{i}]`" for i in range(len(images))]
    if all(isinstance(image, (str, os.PathLike)) for image in images):
        return _read_files(images, labels), False
    if all(isinstance(image, bytes) for image in images):
        return _check_encoded(images, labels), False
    if all(isinstance(image, (np.ndarray, tf.Tensor)) for image in images):
        return _stack_pixels(images, name), False
    kinds = sorted({type(image).__name__ for image in images})
    raise TypeError(
        f"`{name}` must be a list of file paths, of encoded image bytes or of pixel arrays, "
        f"one kind only; got a list of {', '.join(kinds)}."
    )


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


def _as_pixel_batch(pixels, name):
    """Static checks of a uint8 tensor in a graph; returns it as a batch (rank 4)."""
    if pixels.dtype != tf.uint8:
        raise TypeError(
            f"`{name}` must be uint8 pixels or tf.string encoded images, got dtype "
            f"{pixels.dtype.name}."
        )
    if pixels.shape.rank == 3:
        pixels = pixels[tf.newaxis]
    elif pixels.shape.rank != 4:
        raise ValueError(
            f"`{name}` must be one image [height, width, channels] or a batch "
            f"[batch, height, width, channels] of uint8 pixels, got shape {pixels.shape}."
        )
    if pixels.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(
            f"`{name}` must have 1 (grayscale), 2 (grayscale + alpha), 3 (RGB) or 4 (RGBA) "
            f"channels in its last axis, got shape {pixels.shape}."
        )
    return pixels


def _to_rgb(pixels):
    """[..., 1-4 channels] -> [..., 3]: grayscale repeated, alpha dropped."""
    channels = pixels.shape[-1]
    if channels in (1, 2):
        return tf.repeat(pixels[..., :1], 3, axis=-1)
    return pixels[..., :3]


def _check_pixels(pixels, name):
    if pixels.dtype != np.uint8:
        raise TypeError(
            f"`{name}` must hold uint8 pixel values in [0, 255], got dtype {pixels.dtype}; "
            "convert floats in [0, 1] with (x * 255).round().astype('uint8')."
        )
    is_single = pixels.ndim == 3
    batch = _as_pixel_batch(tf.constant(pixels), name)
    if 0 in batch.shape[:3]:
        raise ValueError(f"`{name}` holds no pixels: got shape {pixels.shape}.")
    return _to_rgb(batch), is_single


def _stack_pixels(arrays, name):
    arrays = [np.asarray(array) for array in arrays]
    for i, array in enumerate(arrays):
        if array.ndim != 3:
            raise ValueError(
                f"`{name}[{i}]` must be one image [height, width, channels], got shape "
                f"{array.shape}."
            )
        if array.shape != arrays[0].shape:
            raise ValueError(
                f"`{name}` is a list of arrays of different shapes: {name}[0] is "
                f"{arrays[0].shape} but {name}[{i}] is {array.shape}; pass equally sized "
                "arrays, or file paths or encoded bytes, which may differ in size."
            )
    batch, _ = _check_pixels(np.stack(arrays), name)
    return batch


def _read_files(paths, labels):
    contents = []
    for path, label in zip(paths, labels, strict=True):
        if not Path(path).is_file():
            raise FileNotFoundError(f"{label} is {str(path)!r}, which is not an existing file.")
        contents.append(Path(path).read_bytes())
    labels = [f"{label} ({str(path)!r})" for path, label in zip(paths, labels, strict=True)]
    return _check_encoded(contents, labels)


def _check_encoded(contents, labels):
    encoded = tf.constant(contents, dtype=tf.string)
    try:
        _decoded_sizes(encoded)
    except tf.errors.InvalidArgumentError:
        # Decode one at a time only on failure, to name the first image that does not decode.
        for content, label in zip(contents, labels, strict=True):
            try:
                tf.io.decode_image(content, channels=3, expand_animations=False)
            except tf.errors.InvalidArgumentError as error:
                raise ValueError(
                    f"{label} is not a decodable {_DECODABLE} image ({len(content)} bytes "
                    f"starting {content[:12]!r}): {_op_message(error)}{_path_hint(content)}"
                ) from None
        raise
    return encoded


@tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
def _decoded_sizes(encoded):
    """Decodes every image in one graph call; raises InvalidArgumentError if one fails."""

    def decoded_size(one_encoded):
        # tf.size rather than tf.shape: map_fn's type inference logs an error for shapes.
        return tf.size(tf.io.decode_image(one_encoded, channels=3, expand_animations=False))

    return tf.map_fn(decoded_size, encoded, fn_output_signature=tf.TensorSpec([], tf.int32))


def _op_message(error):
    # Drop TensorFlow's "{{function_node ...}}" prefix and "[Op:...]" suffix.
    message = re.sub(r"\{\{[^}]*\}\}", "", error.message)
    return re.sub(r"\s*\[Op:\w+\]", "", message).strip().rstrip(".")


def _path_hint(content):
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return "."
    if len(text) < 4096 and os.path.exists(text):
        return f"; it is the path {text!r}: pass file paths as str, not bytes or tf.string."
    return "."


def _preview(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
