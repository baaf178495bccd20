"""Images as users pass them, checked in Python, where an error can still name the argument.

Users hand captioners images in one of three forms: uint8 pixel arrays, file paths, or
encoded JPEG/PNG bytes. `as_image_batch` checks them and reduces them to two tensor kinds,
uint8 pixels or encoded bytes, which `zoo.vision.ImagePreprocessor` takes in the graph.
"""

import os
import re
from pathlib import Path

import numpy as np
import tensorflow as tf

_DECODABLE = "JPEG, PNG, GIF, BMP or WebP"


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


def as_pixel_batch(pixels, name):
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


def to_rgb(pixels):
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
    batch = as_pixel_batch(tf.constant(pixels), name)
    if 0 in batch.shape[:3]:
        raise ValueError(f"`{name}` holds no pixels: got shape {pixels.shape}.")
    return to_rgb(batch), is_single


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
