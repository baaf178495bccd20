"""A synthetic captioning task: two coloured shapes, captioned by where one is from the other."""

import numpy as np

from zoo import checks

COLORS = ("red", "green", "blue", "yellow")
SHAPES = ("circle", "square", "triangle")
RELATIONS = ("above", "below", "left of", "right of")
# Pure colours on black: every pixel is exactly one of these or the background.
COLOR_VALUES = {
    "red": (255, 0, 0),
    "green": (0, 255, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
}
BACKGROUND_VALUE = (0, 0, 0)
# Every word a caption can hold.
SHAPES_CAPTIONS_VOCABULARY = ("a", *COLORS, *SHAPES, "above", "below", "left", "right", "of")

_MIN_IMAGE_SIZE = 32


def shapes_captions(n, seed=0, image_size=64):
    """Images of two coloured shapes with captions like "a red circle above a blue square".

    Each image has a black background and two shapes (circle, square or triangle; the two
    may be the same shape) in two different colours of `COLORS`, drawn without
    antialiasing, so every pixel is exactly a `COLOR_VALUES` colour or black. A shape's side
    is 22-31% of the image side; circles fill their square, triangles point up.

    The caption is fully decided by the pixels:
    - The shape named first is the one whose colour comes first in `COLORS`
      (red, green, blue, yellow), so "a blue square below a red circle" is never written;
      "a red circle above a blue square" is.
    - The relation is one of `RELATIONS`, uniformly drawn. The shapes' bounding boxes are
      apart along the relation's axis by a gap of at least 6% of the image side, and their
      centres are at least twice as far apart along that axis as across it.

    Images are generated one after another from `numpy.random.default_rng(seed)`, so a
    call returns the same data every time, and the first k images of `n` are those of
    `shapes_captions(k, seed)`. Take held-out data from another seed.

    Args:
        n: int >= 1, the number of images.
        seed: int, the random seed.
        image_size: int >= 32, the side of the square images in pixels.

    Returns:
        `(images, captions)`: a uint8 array [n, image_size, image_size, 3] (RGB) and a list
        of n str, each "a {colour} {shape} {relation} a {colour} {shape}", every word in
        `SHAPES_CAPTIONS_VOCABULARY`.

    Raises:
        ValueError: `n` or `image_size` is not an int or too small.

    Example:
    >>> images, captions = shapes_captions(3, seed=0)
    >>> images.shape, images.dtype.name
    ((3, 64, 64, 3), 'uint8')
    >>> for caption in captions:
    ...     print(caption)
    a blue circle above a yellow circle
    a green triangle left of a blue square
    a green circle left of a yellow triangle
    """
    checks.int_at_least(n, "n", 1)
    checks.int_at_least(image_size, "image_size", _MIN_IMAGE_SIZE)
    rng = np.random.default_rng(seed)
    images = np.empty((n, image_size, image_size, 3), dtype=np.uint8)
    captions = []
    for i in range(n):
        images[i], caption = _draw_example(rng, image_size)
        captions.append(caption)
    return images, captions


def _draw_example(rng, image_size):
    subject_color, object_color = sorted(rng.choice(len(COLORS), size=2, replace=False))
    subject_shape, object_shape = rng.integers(len(SHAPES), size=2)
    relation = RELATIONS[rng.integers(len(RELATIONS))]
    min_side, max_side = round(0.22 * image_size), round(0.31 * image_size)
    subject_side, object_side = rng.integers(min_side, max_side + 1, size=2)
    gap = max(2, round(0.06 * image_size))
    margin = max(1, round(0.03 * image_size))

    # Place the shape that comes first along the relation's axis (the upper or the left one).
    subject_first = relation in ("above", "left of")
    first_side, second_side = (
        (subject_side, object_side) if subject_first else (object_side, subject_side)
    )
    first_start = rng.integers(margin, image_size - margin - second_side - gap - first_side + 1)
    second_start = rng.integers(
        first_start + first_side + gap, image_size - margin - second_side + 1
    )
    centre_distance = (second_start + second_side / 2) - (first_start + first_side / 2)
    # Across the axis, the second centre is at most half the along-axis distance away.
    first_across = rng.integers(margin, image_size - margin - first_side + 1)
    first_centre = first_across + first_side / 2
    low = max(margin, int(np.ceil(first_centre - centre_distance / 2 - second_side / 2)))
    high = min(
        image_size - margin - second_side,
        int(np.floor(first_centre + centre_distance / 2 - second_side / 2)),
    )
    second_across = rng.integers(low, high + 1)

    first_corner, second_corner = (first_start, first_across), (second_start, second_across)
    if relation in ("left of", "right of"):
        first_corner, second_corner = first_corner[::-1], second_corner[::-1]
    subject_corner, object_corner = (
        (first_corner, second_corner) if subject_first else (second_corner, first_corner)
    )

    image = np.empty((image_size, image_size, 3), dtype=np.uint8)
    image[:] = BACKGROUND_VALUE
    for color, shape, side, (top, left) in (
        (subject_color, subject_shape, subject_side, subject_corner),
        (object_color, object_shape, object_side, object_corner),
    ):
        window = image[top : top + side, left : left + side]
        window[shape_mask(SHAPES[shape], side)] = COLOR_VALUES[COLORS[color]]
    caption = (
        f"a {COLORS[subject_color]} {SHAPES[subject_shape]} {relation} "
        f"a {COLORS[object_color]} {SHAPES[object_shape]}"
    )
    return image, caption


def shape_mask(shape, side):
    """A bool [side, side] mask of the shape, touching all four sides of its square."""
    rows, columns = np.mgrid[0:side, 0:side]
    # Offsets of pixel centres from the square's centre.
    across = columns + 0.5 - side / 2
    down = rows + 0.5 - side / 2
    if shape == "square":
        return np.ones((side, side), dtype=bool)
    if shape == "circle":
        return across**2 + down**2 <= (side / 2) ** 2
    # An upward triangle: row r spans a half-width of (r + 1) / 2, the last row all of it.
    return np.abs(across) <= (rows + 1) / 2
