"""Tests for zoo.vision's images: pixels, paths and bytes agree; in-graph decoding, resizing
and normalisation against NumPy and keras.applications; errors that name the argument."""

import doctest
import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras.applications import imagenet_utils

from zoo.vision import (
    INTERPOLATIONS,
    NORMALIZATIONS,
    ImagePreprocessor,
    as_image_batch,
    image_inputs,
    image_preprocessor,
)


def random_pixels(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def smooth_pixels(height, width):
    """Gradients, which JPEG keeps within a few levels."""
    rows, columns = np.mgrid[0:height, 0:width]
    red = 255 * rows / (height - 1)
    green = 255 * columns / (width - 1)
    blue = 128 + 60 * np.sin(rows / 5.0) * np.cos(columns / 7.0)
    return np.stack([red, green, blue], axis=-1).round().astype(np.uint8)


def png(pixels):
    return tf.io.encode_png(pixels).numpy()


def jpeg(pixels):
    return tf.io.encode_jpeg(pixels, quality=95).numpy()


def write_files(directory, contents, suffix):
    paths = []
    for i, content in enumerate(contents):
        path = Path(directory) / f"image_{i}{suffix}"
        path.write_bytes(content)
        paths.append(str(path))
    return paths


def numpy_bilinear(pixels, height, width):
    """Bilinear resize with half-pixel centres and edge clamping, as tf.image.resize does."""

    def axis_weights(in_size, out_size):
        position = np.maximum((np.arange(out_size) + 0.5) * in_size / out_size - 0.5, 0.0)
        lower = np.floor(position).astype(int)
        upper = np.minimum(lower + 1, in_size - 1)
        return lower, upper, position - lower

    top, bottom, row_fraction = axis_weights(pixels.shape[0], height)
    left, right, column_fraction = axis_weights(pixels.shape[1], width)
    pixels = pixels.astype(np.float64)
    row_fraction = row_fraction[:, None, None]
    rows = pixels[top] * (1 - row_fraction) + pixels[bottom] * row_fraction
    column_fraction = column_fraction[None, :, None]
    return rows[:, left] * (1 - column_fraction) + rows[:, right] * column_fraction


# === Three input kinds, one result ===


@pytest.mark.parametrize("normalization", ["unit", "caffe"])
def test_png_bytes_file_paths_and_pixels_give_the_same_tensor(tmp_path, normalization):
    pixels = random_pixels((2, 20, 30, 3))
    preprocessor = ImagePreprocessor(image_size=(16, 24), normalization=normalization)
    encoded = [png(image) for image in pixels]
    from_pixels = preprocessor(pixels).numpy()
    assert from_pixels.shape == (2, 16, 24, 3) and from_pixels.dtype == np.float32
    np.testing.assert_array_equal(preprocessor(encoded).numpy(), from_pixels)
    np.testing.assert_array_equal(preprocessor(tf.constant(encoded)).numpy(), from_pixels)
    paths = write_files(tmp_path, encoded, ".png")
    np.testing.assert_array_equal(preprocessor(paths).numpy(), from_pixels)
    np.testing.assert_array_equal(preprocessor([Path(p) for p in paths]).numpy(), from_pixels)


def test_jpeg_bytes_and_paths_match_the_pixels_within_jpeg_loss(tmp_path):
    pixels = smooth_pixels(32, 48)
    encoded = jpeg(pixels)
    preprocessor = ImagePreprocessor(image_size=(16, 16))
    from_pixels = preprocessor(pixels).numpy()
    from_bytes = preprocessor(encoded).numpy()
    (path,) = write_files(tmp_path, [encoded], ".jpg")
    np.testing.assert_array_equal(preprocessor(path).numpy(), from_bytes)
    # The loss is JPEG's alone: the decoded pixels through the array path give the same.
    np.testing.assert_array_equal(preprocessor(tf.io.decode_jpeg(encoded)).numpy(), from_bytes)
    difference = np.abs(from_bytes - from_pixels)
    # Within 13 of 255 levels anywhere, 2.5 on average: JPEG at quality 95 on gradients.
    assert 0 < difference.max() < 0.05 and difference.mean() < 0.01


def test_as_image_batch_returns_rgb_pixels_or_encoded_bytes(tmp_path):
    pixels = random_pixels((2, 5, 7, 3))
    batch, is_single = as_image_batch(pixels, "x")
    assert batch.dtype == tf.uint8 and not is_single
    np.testing.assert_array_equal(batch.numpy(), pixels)
    stacked, _ = as_image_batch([pixels[0], tf.constant(pixels[1])], "x")
    np.testing.assert_array_equal(stacked.numpy(), pixels)
    encoded = [png(image) for image in pixels]
    paths = write_files(tmp_path, encoded, ".png")
    for given in (paths, np.array(paths), encoded, tf.constant(encoded), np.array(encoded)):
        batch, is_single = as_image_batch(given, "x")
        assert batch.dtype == tf.string and not is_single
        assert batch.numpy().tolist() == encoded


def test_single_images_give_a_batch_of_one(tmp_path):
    pixels = random_pixels((6, 9, 3))
    encoded = png(pixels)
    (path,) = write_files(tmp_path, [encoded], ".png")
    preprocessor = ImagePreprocessor(image_size=6)
    expected = preprocessor(pixels[np.newaxis]).numpy()
    for single in (pixels, tf.constant(pixels), encoded, tf.constant(encoded), path, Path(path)):
        batch, is_single = as_image_batch(single, "x")
        assert is_single and batch.shape[0] == 1
        np.testing.assert_array_equal(preprocessor(single).numpy(), expected)
    assert expected.shape == (1, 6, 6, 3)


@pytest.mark.parametrize(
    ("channels", "to_rgb"),
    [
        (1, lambda pixels: np.repeat(pixels, 3, axis=-1)),
        (2, lambda pixels: np.repeat(pixels[..., :1], 3, axis=-1)),
        (4, lambda pixels: pixels[..., :3]),
    ],
)
def test_grayscale_and_alpha_become_rgb_the_same_way_for_arrays_and_png(channels, to_rgb):
    pixels = random_pixels((5, 7, channels))
    batch, _ = as_image_batch(pixels, "x")
    np.testing.assert_array_equal(batch.numpy()[0], to_rgb(pixels))
    preprocessor = ImagePreprocessor(image_size=(5, 7), normalization=None)
    expected = to_rgb(pixels).astype(np.float32)
    np.testing.assert_array_equal(preprocessor(pixels).numpy()[0], expected)
    np.testing.assert_array_equal(preprocessor(png(pixels)).numpy()[0], expected)
    in_graph = tf.function(preprocessor)(tf.constant(pixels[np.newaxis]))
    np.testing.assert_array_equal(in_graph.numpy()[0], expected)


# === In the graph, for export ===


def test_encoded_images_of_different_sizes_in_a_string_signature(tmp_path):
    images = [random_pixels((20, 30, 3), 1), smooth_pixels(40, 10), random_pixels((9, 9, 1), 2)]
    encoded = [png(images[0]), jpeg(images[1]), png(images[2])]
    preprocessor = ImagePreprocessor(image_size=(12, 14), normalization="tf")
    serve = tf.function(preprocessor, input_signature=[tf.TensorSpec([None], tf.string)])
    assert serve.get_concrete_function().structured_outputs.shape.as_list() == [None, 12, 14, 3]
    served = serve(tf.constant(encoded)).numpy()
    assert served.shape == (3, 12, 14, 3)
    for i, one in enumerate(encoded):
        np.testing.assert_allclose(served[i], preprocessor(one).numpy()[0], atol=1e-6)
    assert serve(tf.constant(encoded[:1])).shape == (1, 12, 14, 3)
    assert serve.experimental_get_tracing_count() == 1

    module = tf.Module()
    module.serve = serve
    tf.saved_model.save(module, str(tmp_path / "saved"))
    reloaded = tf.saved_model.load(str(tmp_path / "saved"))
    np.testing.assert_array_equal(reloaded.serve(tf.constant(encoded)).numpy(), served)


def test_pixels_in_a_graph_equal_pixels_eagerly():
    pixels = random_pixels((3, 10, 12, 3))
    preprocessor = ImagePreprocessor(image_size=(8, 8), normalization="torch")
    in_graph = tf.function(preprocessor)(tf.constant(pixels))
    np.testing.assert_allclose(in_graph.numpy(), preprocessor(pixels).numpy(), atol=1e-6)


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        (tf.TensorSpec([None, None], tf.string), ValueError, "shape [batch] or a scalar"),
        (tf.TensorSpec([None, 4, 4, 3], tf.float32), TypeError, "got dtype float32"),
        (tf.TensorSpec([None, 4], tf.uint8), ValueError, "got shape (None, 4)"),
        (tf.TensorSpec([None, 4, 4, None], tf.uint8), ValueError, "channels in its last axis"),
    ],
)
def test_graph_tensors_of_the_wrong_kind_fail_when_traced(spec, error, message):
    serve = tf.function(ImagePreprocessor(image_size=4), input_signature=[spec])
    with pytest.raises(error, match=re.escape(message)):
        serve.get_concrete_function()


# === Resizing ===


@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_an_image_of_the_target_size_passes_unchanged(interpolation):
    pixels = random_pixels((2, 9, 11, 3))
    preprocessor = ImagePreprocessor((9, 11), normalization=None, interpolation=interpolation)
    np.testing.assert_array_equal(preprocessor(pixels).numpy(), pixels.astype(np.float32))


def test_bilinear_halving_averages_two_by_two_blocks():
    pixels = random_pixels((1, 4, 6, 3))
    resized = ImagePreprocessor((2, 3), normalization=None)(pixels).numpy()[0]
    blocks = pixels[0].astype(np.float64).reshape(2, 2, 3, 2, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(resized, blocks, atol=1e-4)


@pytest.mark.parametrize(("height", "width"), [(5, 7), (2, 9)])
def test_bilinear_matches_numpy_with_half_pixel_centres(height, width):
    pixels = random_pixels((3, 4, 3))
    resized = ImagePreprocessor((height, width), normalization=None)(pixels).numpy()[0]
    np.testing.assert_allclose(resized, numpy_bilinear(pixels, height, width), atol=1e-3)


def test_resizing_stretches_without_cropping_or_padding():
    # A 10x40 image, red on the left half and blue on the right, squeezed into 16x16.
    pixels = np.zeros((10, 40, 3), dtype=np.uint8)
    pixels[:, :20, 0] = 255
    pixels[:, 20:, 2] = 255
    resized = ImagePreprocessor(16, normalization=None)(pixels).numpy()[0]
    np.testing.assert_array_equal(resized[:, :8], np.broadcast_to([255, 0, 0], (16, 8, 3)))
    np.testing.assert_array_equal(resized[:, 8:], np.broadcast_to([0, 0, 255], (16, 8, 3)))


def test_bicubic_overshoot_is_clipped_to_the_pixel_range():
    pixels = np.zeros((1, 6, 6, 3), dtype=np.uint8)
    pixels[:, ::2] = 255
    unclipped = tf.image.resize(pixels.astype(np.float32), (17, 17), method="bicubic").numpy()
    assert unclipped.max() > 255 and unclipped.min() < 0
    resized = ImagePreprocessor(17, normalization="unit", interpolation="bicubic")(pixels)
    assert float(tf.reduce_min(resized)) == 0.0 and float(tf.reduce_max(resized)) == 1.0


# === Normalisation ===

IMAGENET_RGB_MEAN = np.array([0.485, 0.456, 0.406])
IMAGENET_RGB_STD = np.array([0.229, 0.224, 0.225])
CAFFE_BGR_MEAN = np.array([103.939, 116.779, 123.68])
EXPECTED_NORMALIZATIONS = {
    "unit": lambda x: x / 255,
    "tf": lambda x: x / 127.5 - 1,
    "torch": lambda x: (x / 255 - IMAGENET_RGB_MEAN) / IMAGENET_RGB_STD,
    "caffe": lambda x: x[..., ::-1] - CAFFE_BGR_MEAN,
    None: lambda x: x,
}


@pytest.mark.parametrize("normalization", NORMALIZATIONS)
def test_normalization_matches_numpy(normalization):
    pixels = random_pixels((2, 6, 5, 3))
    normalized = ImagePreprocessor((6, 5), normalization=normalization)(pixels).numpy()
    expected = EXPECTED_NORMALIZATIONS[normalization](pixels.astype(np.float64))
    np.testing.assert_allclose(normalized, expected, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("mode", ["tf", "torch", "caffe"])
def test_imagenet_modes_equal_keras_applications_preprocess_input(mode):
    pixels = random_pixels((2, 6, 5, 3))
    normalized = ImagePreprocessor((6, 5), normalization=mode)(pixels).numpy()
    expected = imagenet_utils.preprocess_input(pixels.astype(np.float32), mode=mode)
    np.testing.assert_allclose(normalized, expected, rtol=1e-6, atol=1e-4)


def test_unit_normalization_spans_zero_to_one():
    pixels = np.array([[[[0, 128, 255]]]], dtype=np.uint8)
    normalized = ImagePreprocessor(1)(pixels).numpy().ravel()
    np.testing.assert_allclose(normalized, [0.0, 128 / 255, 1.0], rtol=1e-6)


# === Configuration and serialization ===


def test_config_round_trips_through_keras_serialization():
    preprocessor = ImagePreprocessor((10, 12), normalization="caffe", interpolation="area")
    config = keras.saving.serialize_keras_object(preprocessor)
    restored = keras.saving.deserialize_keras_object(json.loads(json.dumps(config)))
    assert isinstance(restored, ImagePreprocessor)
    assert restored.get_config() == preprocessor.get_config()
    assert restored.image_shape == (10, 12, 3)
    pixels = random_pixels((1, 20, 20, 3))
    np.testing.assert_array_equal(restored(pixels).numpy(), preprocessor(pixels).numpy())


def test_an_int_image_size_means_a_square():
    assert ImagePreprocessor(7).image_size == (7, 7)
    assert ImagePreprocessor([3, 5]).get_config()["image_size"] == [3, 5]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"image_size": 0}, "image_size=0"),
        ({"image_size": (3,)}, "image_size=(3,)"),
        ({"image_size": (2.0, 3)}, "image_size=(2.0, 3)"),
        ({"image_size": (True, 3)}, "image_size=(True, 3)"),
        ({"normalization": "imagenet"}, "normalization='imagenet'"),
        ({"interpolation": "lanczos3"}, "interpolation='lanczos3'"),
    ],
)
def test_bad_configuration_names_the_argument(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ImagePreprocessor(**options)


# === Bad input ===


@pytest.mark.parametrize(
    ("images", "error", "message"),
    [
        (np.zeros((4, 5), np.uint8), ValueError, "`x` must be one image"),
        (np.zeros((1, 1, 4, 5, 3), np.uint8), ValueError, "got shape (1, 1, 4, 5, 3)"),
        (np.zeros((4, 5, 3), np.float32), TypeError, "got dtype float32"),
        (np.zeros((1, 4, 5, 3), np.int64), TypeError, "got dtype int64"),
        (np.zeros((1, 4, 5, 5), np.uint8), ValueError, "got shape (1, 4, 5, 5)"),
        (np.zeros((4, 5, 0), np.uint8), ValueError, "channels in its last axis"),
        (np.zeros((0, 4, 5, 3), np.uint8), ValueError, "`x` holds no pixels"),
        ([], ValueError, "`x` is empty"),
        (3, TypeError, "got int: 3"),
        (None, TypeError, "got NoneType"),
        (["a.png", b"\x89PNG"], TypeError, "got a list of bytes, str"),
        ([np.zeros((4, 5, 3), np.uint8), 7], TypeError, "got a list of int, ndarray"),
        (
            [np.zeros((4, 5, 3), np.uint8), np.zeros((5, 4, 3), np.uint8)],
            ValueError,
            "x[0] is (4, 5, 3) but x[1] is (5, 4, 3)",
        ),
        ([np.zeros((1, 4, 5, 3), np.uint8)], ValueError, "`x[0]` must be one image"),
        (np.array([[b"a"], [b"b"]]), ValueError, "got shape (2, 1)"),
    ],
)
def test_bad_images_name_the_argument(images, error, message):
    with pytest.raises(error, match=re.escape(message)):
        as_image_batch(images, "x")


def test_undecodable_bytes_name_the_first_bad_image():
    good = png(random_pixels((4, 4, 3)))
    with pytest.raises(ValueError, match=re.escape("`x[1]` is not a decodable")) as info:
        as_image_batch([good, b"not an image", good[:40]], "x")
    assert "b'not an image'" in str(info.value) and "Unknown image file format" in str(info.value)
    with pytest.raises(ValueError, match=re.escape("`x[1]` is not a decodable")):
        as_image_batch(tf.constant([good, good[: len(good) // 2]]), "x")
    with pytest.raises(ValueError, match=re.escape("`x` is not a decodable")):
        as_image_batch(b"", "x")


def test_missing_files_name_the_argument_and_path(tmp_path):
    (good,) = write_files(tmp_path, [png(random_pixels((4, 4, 3)))], ".png")
    missing = str(tmp_path / "missing.png")
    with pytest.raises(FileNotFoundError, match=re.escape(f"`x[1]` is {missing!r}")):
        as_image_batch([good, missing], "x")
    with pytest.raises(FileNotFoundError, match=re.escape(f"`x` is {str(tmp_path)!r}")):
        as_image_batch(tmp_path, "x")


def test_files_that_are_not_images_name_the_argument_and_path(tmp_path):
    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello", encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(f"`x[0]` ({str(text_file)!r}) is not a")):
        as_image_batch([str(text_file)], "x")


def test_paths_given_as_a_string_tensor_get_a_hint(tmp_path):
    (path,) = write_files(tmp_path, [png(random_pixels((4, 4, 3)))], ".png")
    with pytest.raises(ValueError, match="pass file paths as str, not bytes or tf.string"):
        as_image_batch(tf.constant([path]), "x")


def test_the_preprocessor_names_images_when_called_eagerly():
    with pytest.raises(TypeError, match=re.escape("`images` must hold uint8 pixel values")):
        ImagePreprocessor(8)(np.zeros((1, 8, 8, 3), np.float32))


@pytest.mark.parametrize("module", [image_inputs, image_preprocessor])
def test_docstring_examples_run(module):
    results = doctest.testmod(module, extraglobs={"np": np})
    assert results.attempted > 0 and results.failed == 0
