"""Image segmentation data: synthetic shapes on textured backgrounds, and a folder of images
with their masks."""

import pathlib

import numpy as np

from zoo import checks
from zoo.datasets.shapes import shape_mask

# Class ids: a mask pixel holds the index of its class here.
SEGMENTATION_CLASSES = ("background", "circle", "square", "triangle")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")

_MIN_IMAGE_SIZE = 16


def shapes_segmentation(n, seed=0, image_size=64):
    """Images of overlapping shapes on textured backgrounds, with masks of the shape kinds.

    Each image has a background of random stripes and noise, and 2-4 shapes (circle, square
    or triangle, 25-45% of the image side), each filled with a random colour plus noise,
    drawn one over another: a pixel's class is that of the shape drawn last there. Colours
    and textures say nothing of the class: only the outline does.

    Images are generated one after another from `numpy.random.default_rng(seed)`: a call
    returns the same data every time. Take held-out data from another seed.

    Args:
        n: int >= 1, the number of images.
        seed: int, the random seed.
        image_size: int >= 16, or a (height, width) pair of them: the images' size.

    Returns:
        `(images, masks)`: uint8 arrays [n, height, width, 3] (RGB) and [n, height, width]
        of class ids, indices into `SEGMENTATION_CLASSES` (0 is the background).

    Example:
    >>> images, masks = shapes_segmentation(2, seed=0, image_size=(48, 63))
    >>> images.shape, masks.shape, set(masks.ravel().tolist()) <= {0, 1, 2, 3}
    ((2, 48, 63, 3), (2, 48, 63), True)
    """
    checks.int_at_least(n, "n", 1)
    height, width = _image_size(image_size)
    rng = np.random.default_rng(seed)
    images = np.empty((n, height, width, 3), dtype=np.uint8)
    masks = np.zeros((n, height, width), dtype=np.uint8)
    for i in range(n):
        images[i] = _textured_background(rng, height, width)
        for _ in range(rng.integers(2, 5)):
            _draw_shape(rng, images[i], masks[i])
    return images, masks


def _image_size(image_size):
    size = (image_size, image_size) if checks.is_int(image_size) else image_size
    if not (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(checks.is_int(side) and side >= _MIN_IMAGE_SIZE for side in size)
    ):
        raise ValueError(
            f"`image_size` must be an int of at least {_MIN_IMAGE_SIZE} or a (height, width) "
            f"pair of them, got image_size={image_size!r}."
        )
    return tuple(int(side) for side in size)


def _textured_background(rng, height, width):
    """Stripes of a random angle and period in two random colours, plus pixel noise."""
    rows, columns = np.mgrid[0:height, 0:width]
    angle, period = rng.uniform(0, np.pi), rng.uniform(4, 16)
    stripes = np.sin((columns * np.cos(angle) + rows * np.sin(angle)) * 2 * np.pi / period)
    low, high = rng.uniform(0, 255, size=(2, 3))
    blend = (stripes[..., None] + 1) / 2
    background = low + (high - low) * blend + rng.normal(0, 12, size=(height, width, 3))
    return np.clip(background, 0, 255).astype(np.uint8)


def _draw_shape(rng, image, mask):
    height, width = mask.shape
    kind = rng.integers(1, len(SEGMENTATION_CLASSES))
    side = int(rng.integers(round(0.25 * min(height, width)), round(0.45 * min(height, width))))
    top, left = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
    inside = shape_mask(SEGMENTATION_CLASSES[kind], side)
    colour = rng.uniform(0, 255, size=3) + rng.normal(0, 12, size=(side, side, 3))
    window = image[top : top + side, left : left + side]
    window[inside] = np.clip(colour, 0, 255).astype(np.uint8)[inside]
    mask[top : top + side, left : left + side][inside] = kind


def load_segmentation(directory):
    """The image files of `directory/images` paired with the mask files of
    `directory/masks` that have the same stem (`images/cat.jpg` with `masks/cat.png`).

    Masks are single-channel PNG files of class ids (0, 1, 2, ... per pixel), the size of
    their images. Nothing is decoded here: `fit`, `evaluate` and `predict` take the paths.

    Args:
        directory: str or path-like, the folder holding `images/` and `masks/`.

    Returns:
        `(image_paths, mask_paths)`: two lists of str, sorted by stem, paired.

    Raises:
        FileNotFoundError: `directory`, `images/` or `masks/` is missing, or an image has
            no mask or a mask no image (the first few of them are named).
    """
    root = pathlib.Path(directory)
    folders = [root / "images", root / "masks"]
    for folder in folders:
        if not folder.is_dir():
            raise FileNotFoundError(
                f"`directory` must hold the folders images/ and masks/: {folder} is missing."
            )
    images, masks = (
        {path.stem: path for path in folder.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES}
        for folder in folders
    )
    for found, other, kind in ((images, masks, "mask"), (masks, images, "image")):
        missing = sorted(set(found) - set(other))
        if missing:
            raise FileNotFoundError(
                f"{len(missing)} file(s) in {root} have no {kind} of the same stem: "
                f"{', '.join(str(found[stem].name) for stem in missing[:5])}."
            )
    if not images:
        raise FileNotFoundError(f"{root / 'images'} holds no image files {IMAGE_SUFFIXES}.")
    stems = sorted(images)
    return [str(images[stem]) for stem in stems], [str(masks[stem]) for stem in stems]
