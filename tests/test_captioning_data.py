"""Tests for the captioning data: shapes_captions read back from its pixels, and
load_flickr8k on shared/data/flickr8k and on small layouts written here."""

import doctest
import re
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

import zoo.datasets.shapes as shapes_captions_module
from zoo.datasets.flickr8k import FLICKR8K_SPLITS, load_flickr8k
from zoo.datasets.shapes import (
    BACKGROUND_VALUE,
    COLOR_VALUES,
    COLORS,
    RELATIONS,
    SHAPES,
    SHAPES_CAPTIONS_VOCABULARY,
    shapes_captions,
)
from zoo.vision.image_preprocessor import ImagePreprocessor

FLICKR8K = Path(__file__).resolve().parents[2] / "shared" / "data" / "flickr8k"
requires_flickr8k = pytest.mark.skipif(
    not FLICKR8K.is_dir(), reason=f"Flickr8k is not at {FLICKR8K} (../shared beside the repo)."
)

CAPTION = re.compile(
    rf"a ({'|'.join(COLORS)}) ({'|'.join(SHAPES)}) ({'|'.join(RELATIONS)}) "
    rf"a ({'|'.join(COLORS)}) ({'|'.join(SHAPES)})"
)


def raises(error, message):
    return pytest.raises(error, match=re.escape(message))


# === shapes_captions ===


def read_shapes(image):
    """Reads each coloured shape from the pixels alone: {colour: (shape, top, left, bottom,
    right)}, the box inclusive. The shape is told by how much of its box it fills."""
    known = np.zeros(image.shape[:2], dtype=bool)
    shapes = {}
    for color, value in COLOR_VALUES.items():
        mask = (image == value).all(axis=-1)
        known |= mask
        if not mask.any():
            continue
        rows, columns = np.nonzero(mask)
        top, bottom, left, right = rows.min(), rows.max(), columns.min(), columns.max()
        fill = mask.sum() / ((bottom - top + 1) * (right - left + 1))
        # A square fills its box, a circle about pi/4 of it, an upward triangle about half
        # (up to 0.63 for the smallest, 7 pixels wide).
        shape = "square" if fill == 1 else "circle" if 0.72 < fill < 0.9 else "triangle"
        if shape == "triangle":
            assert 0.5 < fill < 0.66, f"a {color} shape fills {fill:.2f} of its box"
        shapes[color] = (shape, top, left, bottom, right)
    background = (image == BACKGROUND_VALUE).all(axis=-1)
    assert (known | background).all(), "a pixel is neither a palette colour nor background"
    return shapes


def read_relation(subject_box, object_box):
    """Where the subject is from the object, read along the axis on which their centres are
    further apart; and how many times further apart they are along it than across it."""
    subject_top, subject_left, subject_bottom, subject_right = subject_box
    object_top, object_left, object_bottom, object_right = object_box
    down = (object_top + object_bottom) / 2 - (subject_top + subject_bottom) / 2
    right = (object_left + object_right) / 2 - (subject_left + subject_right) / 2
    if abs(down) > abs(right):
        # The boxes are apart along that axis, not only their centres.
        assert subject_bottom < object_top or object_bottom < subject_top
        relation = "above" if down > 0 else "below"
    else:
        assert subject_right < object_left or object_right < subject_left
        relation = "left of" if right > 0 else "right of"
    along, across = sorted([abs(down), abs(right)], reverse=True)
    return relation, along / max(across, 1e-9)


@pytest.mark.parametrize(("image_size", "n"), [(64, 300), (32, 100), (96, 60)])
def test_every_caption_is_what_the_pixels_show(image_size, n):
    images, captions = shapes_captions(n, seed=7, image_size=image_size)
    assert images.shape == (n, image_size, image_size, 3) and images.dtype == np.uint8
    assert len(captions) == n
    for image, caption in zip(images, captions, strict=True):
        match = CAPTION.fullmatch(caption)
        assert match, caption
        subject_color, subject_shape, relation, object_color, object_shape = match.groups()
        shapes = read_shapes(image)
        assert set(shapes) == {subject_color, object_color}, caption
        assert shapes[subject_color][0] == subject_shape, caption
        assert shapes[object_color][0] == object_shape, caption
        # The shape named first is the one whose colour comes first in COLORS.
        assert COLORS.index(subject_color) < COLORS.index(object_color), caption
        for color in shapes:
            _, top, left, bottom, right = shapes[color]
            centre = image[(top + bottom) // 2, (left + right) // 2]
            assert tuple(centre) == COLOR_VALUES[color], caption
        read, along_over_across = read_relation(shapes[subject_color][1:], shapes[object_color][1:])
        assert read == relation, caption
        assert along_over_across >= 2, caption


def shape_boxes(n, seed):
    """Per image of shapes_captions(n, seed), the (top, left, bottom, right) of each shape."""
    images, _ = shapes_captions(n, seed=seed)
    return [[box for _, *box in read_shapes(image).values()] for image in images]


def test_shapes_are_big_enough():
    for boxes in shape_boxes(100, seed=3):
        sides = [bottom - top + 1 for top, _, bottom, _ in boxes]
        assert all(14 <= side <= 20 for side in sides)


def test_shapes_are_apart():
    for boxes in shape_boxes(100, seed=3):
        (top_a, left_a, bottom_a, right_a), (top_b, left_b, bottom_b, right_b) = boxes
        vertical_gap = max(top_b - bottom_a, top_a - bottom_b) - 1
        horizontal_gap = max(left_b - right_a, left_a - right_b) - 1
        assert max(vertical_gap, horizontal_gap) >= 4


@pytest.fixture(scope="module")
def parsed_captions():
    """300 captions, each with its parts: (colour, shape, relation, colour, shape)."""
    _, captions = shapes_captions(300, seed=0)
    return captions, [CAPTION.fullmatch(caption).groups() for caption in captions]


def test_every_colour_shape_relation_and_word_occurs(parsed_captions):
    captions, parsed = parsed_captions
    assert {groups[2] for groups in parsed} == set(RELATIONS)
    assert {groups[1] for groups in parsed} == set(SHAPES)
    assert {groups[4] for groups in parsed} == set(SHAPES)
    assert {groups[0] for groups in parsed} | {groups[3] for groups in parsed} == set(COLORS)
    # Both shapes the same kind happens too.
    assert any(groups[1] == groups[4] for groups in parsed)
    words = {word for caption in captions for word in caption.split()}
    assert words == set(SHAPES_CAPTIONS_VOCABULARY)


def test_relations_are_drawn_uniformly(parsed_captions):
    _, parsed = parsed_captions
    counts = [sum(groups[2] == relation for groups in parsed) for relation in RELATIONS]
    assert min(counts) > 50


def test_shapes_captions_is_deterministic():
    images, captions = shapes_captions(20, seed=5)
    again_images, again_captions = shapes_captions(20, seed=5)
    np.testing.assert_array_equal(images, again_images)
    assert captions == again_captions
    other_images, other_captions = shapes_captions(20, seed=6)
    assert other_captions != captions and not np.array_equal(other_images, images)


def test_shapes_captions_is_prefix_stable():
    images, captions = shapes_captions(20, seed=5)
    prefix_images, prefix_captions = shapes_captions(8, seed=5)
    np.testing.assert_array_equal(prefix_images, images[:8])
    assert prefix_captions == captions[:8]


def test_shapes_captions_images_go_through_the_preprocessor_unchanged():
    images, _ = shapes_captions(4)
    pixels = ImagePreprocessor(64, normalization=None)(images).numpy()
    np.testing.assert_array_equal(pixels, images.astype(np.float32))
    encoded = [tf.io.encode_png(image).numpy() for image in images]
    np.testing.assert_array_equal(ImagePreprocessor(64, normalization=None)(encoded), pixels)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"n": 0}, "`n` must be an int of at least 1, got 0."),
        ({"n": 2.5}, "`n` must be an int of at least 1, got 2.5."),
        ({"n": True}, "`n` must be an int of at least 1, got True."),
        ({"n": 2, "image_size": 16}, "`image_size` must be an int of at least 32, got 16."),
        ({"n": 2, "image_size": 64.0}, "`image_size` must be an int of at least 32, got 64.0."),
    ],
)
def test_shapes_captions_bad_arguments_are_named(arguments, message):
    with raises(ValueError, message):
        shapes_captions(**arguments)


def test_shapes_captions_docstring_examples_run():
    results = doctest.testmod(shapes_captions_module)
    assert results.attempted > 0 and results.failed == 0


# === load_flickr8k on shared/data/flickr8k ===

# Present in shared/data/flickr8k: all dev and test images, the first 3,000 of 6,000 train.
FLICKR8K_PRESENT = {"train": 3_000, "validation": 1_000, "test": 1_000}


@requires_flickr8k
@pytest.mark.parametrize("split", FLICKR8K_SPLITS)
def test_flickr8k_split_sizes(split):
    image_paths, captions = load_flickr8k(FLICKR8K, split)
    assert len(image_paths) == len(captions) == FLICKR8K_PRESENT[split]
    assert len(set(image_paths)) == len(image_paths)
    assert all(Path(path).is_file() for path in image_paths[:50])


@requires_flickr8k
@pytest.mark.parametrize("split", FLICKR8K_SPLITS)
def test_flickr8k_has_five_captions_for_each_image(split):
    _, captions = load_flickr8k(FLICKR8K, split)
    assert all(len(image_captions) == 5 for image_captions in captions)
    assert all(isinstance(caption, str) and caption for group in captions for caption in group)


@requires_flickr8k
def test_flickr8k_first_images_and_captions_are_pinned():
    image_paths, captions = load_flickr8k(str(FLICKR8K))
    assert Path(image_paths[0]) == FLICKR8K / "images" / "2513260012_03d33305cf.jpg"
    assert captions[0][0] == "A black dog is running after a white dog in the snow ."
    assert captions[0][4] == "Two dogs running through a low lying body of water ."
    test_paths, test_captions = load_flickr8k(FLICKR8K, "test")
    assert Path(test_paths[0]).name == "3385593926_d3e9c21170.jpg"
    assert test_captions[0][0] == "The dogs are in the snow in front of a fence ."


@requires_flickr8k
def test_flickr8k_train_is_the_staged_prefix_of_the_official_list():
    image_paths, _ = load_flickr8k(FLICKR8K, "train")
    official = (FLICKR8K / "Flickr_8k.trainImages.txt").read_text(encoding="utf-8").split()
    assert len(official) == 6_000
    assert [Path(path).name for path in image_paths] == official[:3_000]
    with raises(FileNotFoundError, "3000 of the 6000 images of split 'train' are not in"):
        load_flickr8k(FLICKR8K, "train", skip_missing=False)
    assert len(load_flickr8k(FLICKR8K, "test", skip_missing=False)[0]) == 1_000


@requires_flickr8k
def test_flickr8k_splits_are_disjoint():
    names = {
        split: {Path(path).name for path in load_flickr8k(FLICKR8K, split)[0]}
        for split in FLICKR8K_SPLITS
    }
    assert not names["train"] & names["validation"]
    assert not names["train"] & names["test"]
    assert not names["validation"] & names["test"]


@requires_flickr8k
def test_flickr8k_dev_means_validation():
    assert load_flickr8k(FLICKR8K, "dev") == load_flickr8k(FLICKR8K, "validation")


@requires_flickr8k
def test_flickr8k_images_are_224_rgb():
    image_paths, _ = load_flickr8k(FLICKR8K, "test")
    decoded = tf.io.decode_jpeg(tf.io.read_file(image_paths[1])).numpy()
    assert decoded.shape == (224, 224, 3)


@requires_flickr8k
def test_flickr8k_images_go_through_the_preprocessor_unchanged():
    image_paths, _ = load_flickr8k(FLICKR8K, "test")
    pixels = ImagePreprocessor(224, normalization=None)(image_paths[:2]).numpy()
    decoded = tf.io.decode_jpeg(tf.io.read_file(image_paths[1])).numpy()
    np.testing.assert_array_equal(pixels[1], decoded.astype(np.float32))


@requires_flickr8k
def test_flickr8k_unknown_split_names_the_argument():
    with raises(ValueError, "split='val'") as info:
        load_flickr8k(FLICKR8K, "val")
    assert "'train', 'validation', 'dev', 'test'" in str(info.value)


# === load_flickr8k on layouts written here ===

PNG_BYTES = tf.io.encode_png(np.zeros((2, 2, 3), np.uint8)).numpy()


def write_flickr8k(root, images, token_lines, splits, text_directory=".", image_directory="images"):
    (root / text_directory).mkdir(parents=True, exist_ok=True)
    (root / image_directory).mkdir(parents=True, exist_ok=True)
    for name in images:
        (root / image_directory / name).write_bytes(PNG_BYTES)
    (root / text_directory / "Flickr8k.token.txt").write_text(
        "".join(line + "\n" for line in token_lines), encoding="utf-8"
    )
    files = {"train": "trainImages", "dev": "devImages", "test": "testImages"}
    for split, file_stem in files.items():
        names = "".join(name + "\n" for name in splits.get(split, []))
        (root / text_directory / f"Flickr_8k.{file_stem}.txt").write_text(names, encoding="utf-8")


def write_upstream_flickr8k(root):
    # Caption lines out of order, a blank line and a key with no image: as upstream can be.
    token_lines = ["b.jpg#1\tB one", "a.jpg#1\tA one", "a.jpg#0\tA zero", "", "b.jpg#0\tB zero"]
    token_lines.append("z.jpg.1#0\tno image")
    write_flickr8k(
        root,
        ["a.jpg", "b.jpg"],
        token_lines,
        {"train": ["b.jpg", "a.jpg"], "test": ["a.jpg"]},
        text_directory="Flickr8k_text",
        image_directory="Flicker8k_Dataset",
    )


def test_flickr8k_reads_the_upstream_layout(tmp_path):
    write_upstream_flickr8k(tmp_path)
    image_paths, _ = load_flickr8k(tmp_path)
    assert image_paths == [
        str(tmp_path / "Flicker8k_Dataset" / name) for name in ("b.jpg", "a.jpg")
    ]


def test_flickr8k_orders_the_captions_of_an_image_by_their_number(tmp_path):
    write_upstream_flickr8k(tmp_path)
    _, captions = load_flickr8k(tmp_path)
    assert captions == [["B zero", "B one"], ["A zero", "A one"]]
    assert load_flickr8k(tmp_path, "test")[1] == [["A zero", "A one"]]


def test_flickr8k_missing_images_are_skipped_unless_asked(tmp_path):
    token_lines = ["a.jpg#0\tA", "b.jpg#0\tB"]
    write_flickr8k(
        tmp_path, ["b.jpg"], token_lines, {"train": ["a.jpg", "b.jpg"], "dev": ["a.jpg"]}
    )
    assert load_flickr8k(tmp_path) == ([str(tmp_path / "images" / "b.jpg")], [["B"]])
    with raises(FileNotFoundError, "1 of the 2 images of split 'train' are not in"):
        load_flickr8k(tmp_path, skip_missing=False)
    # A split with none of its images fails even when skipping.
    with raises(FileNotFoundError, "the first is 'a.jpg'"):
        load_flickr8k(tmp_path, "validation")


def test_flickr8k_bad_path(tmp_path):
    with raises(TypeError, "path=3"):
        load_flickr8k(3)
    missing = tmp_path / "nowhere"
    with raises(FileNotFoundError, f"path={str(missing)!r} is not an existing directory"):
        load_flickr8k(missing)
    with raises(FileNotFoundError, "has no file 'Flickr_8k.trainImages.txt'"):
        load_flickr8k(tmp_path)


def test_flickr8k_layout_errors_name_what_is_wrong(tmp_path):
    write_flickr8k(tmp_path, ["a.jpg"], ["a.jpg#0\tA"], {"train": ["a.jpg"], "test": ["a.jpg"]})
    (tmp_path / "Flickr_8k.devImages.txt").write_text("c.jpg\n", encoding="utf-8")
    (tmp_path / "images" / "c.jpg").write_bytes(PNG_BYTES)
    with raises(ValueError, "image 'c.jpg' of split 'validation' has no caption"):
        load_flickr8k(tmp_path, "validation")
    (tmp_path / "Flickr8k.token.txt").write_text("a.jpg A without a tab\n", encoding="utf-8")
    with raises(ValueError, "Flickr8k.token.txt' line 1 is not"):
        load_flickr8k(tmp_path, "test")
    (tmp_path / "Flickr8k.token.txt").write_text("a.jpg#0\tA\n", encoding="utf-8")
    (tmp_path / "images" / "a.jpg").unlink()
    (tmp_path / "images" / "c.jpg").unlink()
    (tmp_path / "images").rmdir()
    with raises(FileNotFoundError, "has no image directory"):
        load_flickr8k(tmp_path, "test")
