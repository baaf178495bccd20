"""Vision: in-graph image decoding, resizing and normalisation; convolutional encoders."""

from zoo.vision.image_encoders import (
    APPLICATIONS,
    ENCODERS,
    SmallCNN,
    encoder_normalization,
    image_encoder,
)
from zoo.vision.images import INTERPOLATIONS, NORMALIZATIONS, ImagePreprocessor, as_image_batch

__all__ = [
    "APPLICATIONS",
    "ENCODERS",
    "INTERPOLATIONS",
    "NORMALIZATIONS",
    "ImagePreprocessor",
    "SmallCNN",
    "as_image_batch",
    "encoder_normalization",
    "image_encoder",
]
