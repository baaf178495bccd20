"""Segmentation masks: checked and decoded from arrays or PNG files, resized by nearest
neighbour (class ids are not interpolated)."""

import numpy as np
import tensorflow as tf

from zoo.vision.image_inputs import as_image_batch


def as_mask_list(masks, name="masks"):
    """Checks masks of class ids given as arrays, PNG file paths or PNG bytes.

    Accepted forms: an integer array [batch, height, width] (or [batch, height, width, 1]),
    a list of integer arrays [height, width] (sizes may differ), or file paths / encoded
    bytes of single-channel PNG images whose pixel values are the class ids (a PNG with
    more channels is read by its first).

    Returns:
        A list of uint8 arrays [height, width], one per mask.

    Raises:
        TypeError: a form not listed, or arrays that do not hold integers.
        ValueError: empty, of the wrong rank, negative or above 255, or files that do not
            decode.
        FileNotFoundError: a path that is not an existing file.
    """
    if isinstance(masks, np.ndarray) and masks.dtype.kind in "fc":
        raise TypeError(f"`{name}` must hold integer class ids, got dtype {masks.dtype}.")
    if isinstance(masks, np.ndarray) and masks.dtype.kind in "iub":
        masks = list(masks[..., 0] if masks.ndim == 4 and masks.shape[-1] == 1 else masks)
        if not masks or masks[0].ndim != 2:
            raise ValueError(
                f"`{name}` must be class ids [batch, height, width], got shape {np.shape(masks)}."
            )
    if isinstance(masks, (list, tuple)) and masks and isinstance(masks[0], np.ndarray):
        return [_checked_array(mask, f"{name}[{i}]") for i, mask in enumerate(masks)]
    encoded, _ = as_image_batch(masks, name)
    if encoded.dtype != tf.string:
        raise TypeError(
            f"`{name}` must hold integer class ids, got a uint8 image batch of shape "
            f"{tuple(encoded.shape)}: pass masks as [batch, height, width] arrays or PNG files."
        )
    return [tf.io.decode_png(one, channels=1).numpy()[..., 0] for one in encoded]


def _checked_array(mask, name):
    if mask.dtype.kind not in "iub":
        raise TypeError(f"`{name}` must hold integer class ids, got dtype {mask.dtype}.")
    if mask.ndim != 2 or 0 in mask.shape:
        raise ValueError(f"`{name}` must be class ids [height, width], got shape {mask.shape}.")
    if mask.min() < 0 or mask.max() > 255:
        raise ValueError(
            f"`{name}` must hold class ids in [0, 255], got values from {mask.min()} to "
            f"{mask.max()}."
        )
    return mask.astype(np.uint8)


def resize_masks(masks, size):
    """A list of uint8 masks [height, width] -> uint8 array [batch, *size], nearest."""
    return np.stack(
        [tf.image.resize(mask[..., None], size, method="nearest").numpy()[..., 0] for mask in masks]
    )
