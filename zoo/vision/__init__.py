"""Vision: in-graph image decoding, resizing and normalisation; convolutional encoders."""

from zoo.vision.image_encoders import (
    APPLICATIONS,
    ENCODERS,
    SmallCNN,
    encoder_normalization,
    image_encoder,
)
from zoo.vision.image_inputs import as_image_batch
from zoo.vision.image_preprocessor import INTERPOLATIONS, NORMALIZATIONS, ImagePreprocessor

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
