"""Vision: in-graph image decoding, resizing and normalisation."""

from zoo.vision.images import INTERPOLATIONS, NORMALIZATIONS, ImagePreprocessor, as_image_batch

__all__ = ["INTERPOLATIONS", "NORMALIZATIONS", "ImagePreprocessor", "as_image_batch"]
