"""`zoo.unet`: builds a U-Net image segmenter from images and their masks."""

import numpy as np
import tensorflow as tf

from zoo import checks
from zoo.models.unet_backbone import (
    ENCODER_DEPTH,
    ENCODER_SKIPS,
    UNetBackbone,
    check_image_size,
)
from zoo.precision import dtype_policy
from zoo.tasks.image_segmenter import ImageSegmenter
from zoo.vision.image_encoders import encoder_normalization
from zoo.vision.image_inputs import as_image_batch
from zoo.vision.image_preprocessor import ImagePreprocessor
from zoo.vision.segmentation_masks import as_mask_list

# The options of `UNetBackbone` that `unet` forwards; the data gives the others.
BACKBONE_OPTIONS = checks.keyword_options(
    UNetBackbone, excluded=("num_classes", "image_shape", "dtype")
)


def unet(
    images=None,
    masks=None,
    num_classes=None,
    *,
    image_size=None,
    class_names=None,
    augmentation=None,
    depth=None,
    dtype=None,
    **backbone_options,
):
    """Builds a compiled U-Net (Ronneberger et al. 2015) image segmenter.

    The images are resized to `image_size` for the network, and the masks it predicts are
    resized back to each image's own size: any image size goes in, odd ones included.

    Args:
        images: training images (uint8 pixels, paths or encoded bytes), whose first image
            gives the default `image_size`; or None with `image_size` given.
        masks: their masks of class ids (arrays or PNG files), whose highest id gives the
            default `num_classes`; or None with `num_classes` or `class_names` given.
        num_classes: int >= 2, the classes a pixel can take, the background included.
        image_size: int or (height, width), the size the network works at; each side a
            multiple of `2**depth`. None: the first image's size rounded to the nearest
            such multiple.
        class_names: None or a list of str, one per class.
        augmentation: None or a list of Keras random preprocessing layers applied in `fit`
            to each image and its mask alike (e.g. `[keras.layers.RandomFlip()]`).
        depth: int, the down-samplings; None: 4, or 5 with an `encoder`.
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or "auto" (see `zoo.dtype_policy`). The logits and the loss
            stay float32.
        **backbone_options: `UNetBackbone`'s options, with its defaults: `filters` (64),
            `dropout` (0), `upsampling` ("transpose"), and a pretrained contracting path:
            `encoder` (None, or a keras.applications name such as "mobilenet"),
            `encoder_weights` (the path of a local weights file), `encoder_alpha`,
            `trainable_encoder`.

    Returns:
        A compiled `zoo.tasks.ImageSegmenter`.

    Example:
    >>> images, masks = zoo.datasets.shapes_segmentation(1000, image_size=64)
    >>> model = zoo.unet(images, masks, depth=3, filters=16)
    >>> model.fit(images, masks, epochs=20)
    >>> model.predict(images[:4])
    """
    checks.known_options(backbone_options, BACKBONE_OPTIONS, "unet")
    encoder = backbone_options.get("encoder")
    if encoder is not None and encoder not in ENCODER_SKIPS:
        raise ValueError(
            f"`encoder` must be None or one of {tuple(ENCODER_SKIPS)}, got {encoder!r}."
        )
    if depth is None:
        depth = 4 if encoder is None else ENCODER_DEPTH
    checks.positive_int(depth, "depth")
    if class_names is not None:
        num_classes = num_classes or len(class_names)
    elif num_classes is None:
        if masks is None:
            raise ValueError("Pass `masks`, `num_classes` or `class_names` to `unet`.")
        num_classes = max(2, max(int(mask.max()) for mask in as_mask_list(masks)) + 1)
    if image_size is None:
        if images is None:
            raise ValueError("Pass `images` or `image_size` to `unet`.")
        image_size = _rounded_size(_first_image_size(images), 2**depth)
    normalization = "unit" if encoder is None else encoder_normalization(encoder)
    preprocessor = ImagePreprocessor(image_size, normalization)  # checks both
    check_image_size(preprocessor.image_size, depth, "image_size")
    backbone = UNetBackbone(
        num_classes,
        preprocessor.image_shape,
        depth=depth,
        dtype=dtype_policy(dtype),
        **backbone_options,
    )
    model = ImageSegmenter(
        backbone, preprocessor, augmentation=augmentation, class_names=class_names
    )
    model.compile()
    return model


def _first_image_size(images):
    # Only the first image is read: `fit` reads and checks them all.
    first = images[:1] if isinstance(images, (list, tuple, np.ndarray)) else images
    batch, _ = as_image_batch(first, "images")
    if batch.dtype == tf.string:
        return tuple(tf.io.decode_image(batch[0], channels=3, expand_animations=False).shape[:2])
    return tuple(batch.shape[1:3])


def _rounded_size(size, multiple):
    return tuple(max(multiple, round(side / multiple) * multiple) for side in size)
