"""U-Net segmentation: masks at every input's size, skip connections that carry the image,
images and masks augmented alike, a model that learns held-out shapes, saved and exported."""

import functools
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests import learning
from zoo.datasets import SEGMENTATION_CLASSES, load_segmentation, shapes_segmentation
from zoo.export import serve_in_fresh_process
from zoo.metrics import confusion_matrix, segmentation_scores

IMAGES, MASKS = shapes_segmentation(24, seed=0, image_size=32)
TINY = {"depth": 2, "filters": 4}
MOBILENET = {"encoder": "mobilenet", "encoder_alpha": 0.25, "depth": None}  # depth 5


def tiny_unet(images=IMAGES, masks=MASKS, **options):
    keras.utils.set_random_seed(0)
    return zoo.unet(images, masks, **{**TINY, **options})


@functools.cache
def random_model():
    return tiny_unet()


def png(array):
    return tf.io.encode_png(array if array.ndim == 3 else array[..., None]).numpy()


# === Data ===
@pytest.fixture(scope="module")
def shapes():
    return shapes_segmentation(6, seed=3, image_size=(40, 52))


def test_shapes_segmentation_is_repeatable(shapes):
    images, _ = shapes
    again, _ = shapes_segmentation(6, seed=3, image_size=(40, 52))
    np.testing.assert_array_equal(images, again)


def test_shapes_segmentation_masks_name_the_shapes(shapes):
    images, masks = shapes
    assert images.shape == (6, 40, 52, 3) and images.dtype == np.uint8
    assert masks.shape == (6, 40, 52) and set(np.unique(masks)) <= {0, 1, 2, 3}
    assert len(SEGMENTATION_CLASSES) == 4 and SEGMENTATION_CLASSES[0] == "background"


def test_shapes_segmentation_background_is_textured(shapes):
    # Not a flat colour a model could threshold.
    images, masks = shapes
    assert images[0][masks[0] == 0].std(axis=0).min() > 10


def segmentation_folder(directory):
    """`directory` with images/ and masks/ holding the pairs b and a, written out of order."""
    (directory / "images").mkdir()
    (directory / "masks").mkdir()
    for stem, index in (("b", 1), ("a", 0)):
        (directory / "images" / f"{stem}.png").write_bytes(png(IMAGES[index]))
        (directory / "masks" / f"{stem}.png").write_bytes(png(MASKS[index]))
    return directory


def test_load_segmentation_pairs_images_and_masks_by_stem(tmp_path):
    image_paths, mask_paths = load_segmentation(segmentation_folder(tmp_path))
    assert image_paths == [str(tmp_path / "images" / name) for name in ("a.png", "b.png")]
    assert mask_paths == [str(tmp_path / "masks" / name) for name in ("a.png", "b.png")]


def test_load_segmentation_names_an_image_without_a_mask(tmp_path):
    (segmentation_folder(tmp_path) / "images" / "c.jpg").write_bytes(png(IMAGES[2]))
    with pytest.raises(FileNotFoundError, match="have no mask of the same stem: c.jpg"):
        load_segmentation(tmp_path)


def test_load_segmentation_names_the_folders_it_needs(tmp_path):
    with pytest.raises(FileNotFoundError, match="must hold the folders images/ and masks/"):
        load_segmentation(segmentation_folder(tmp_path) / "images")


def test_segmentation_scores_match_a_hand_count():
    true = [np.array([[0, 0, 1], [1, 2, 2]])]
    predicted = [np.array([[0, 1, 1], [1, 2, 0]])]
    confusion = confusion_matrix(true, predicted, num_classes=4)
    np.testing.assert_array_equal(confusion[:3, :3], [[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    scores = segmentation_scores(confusion)
    # IoU: class 0 1/3, class 1 2/3, class 2 1/2; Dice 2/4, 4/5, 2/3; class 3 absent.
    assert scores["mean_iou"] == pytest.approx((1 / 3 + 2 / 3 + 1 / 2) / 3)
    assert scores["dice"] == pytest.approx((2 / 4 + 4 / 5 + 2 / 3) / 3)
    assert scores["pixel_accuracy"] == pytest.approx(4 / 6)


# === The network ===
@pytest.mark.parametrize("upsampling", ["transpose", "bilinear"])
def test_logits_have_the_images_size(upsampling):
    backbone = zoo.models.UNetBackbone(4, (48, 80, 3), depth=3, filters=4, upsampling=upsampling)
    logits = backbone({"images": np.zeros((2, 48, 80, 3), "float32")})
    assert logits.shape == (2, 48, 80, 4) and logits.dtype == "float32"


@pytest.mark.parametrize("level", [0, 1])
def test_every_skip_connection_carries_the_image(level):
    backbone = tiny_unet().backbone
    skip_channels = TINY["filters"] * 2**level
    # The convolution after the skip reads the contracting path's output of this level first,
    # then as many upsampled channels.
    contracting, upsampled = backbone.get_layer(f"up_{level}_skip").input
    assert contracting is backbone.get_layer(f"down_{level}_relu_1").output
    assert contracting.shape[-1] == upsampled.shape[-1] == skip_channels
    kernel = backbone.skip_kernel(level)
    assert kernel.shape[2] == 2 * skip_channels
    x = {"images": IMAGES[:2].astype("float32") / 255}
    before = backbone(x).numpy()
    weights = kernel.numpy()
    kernel.assign(
        np.concatenate([0 * weights[:, :, :skip_channels], weights[:, :, skip_channels:]], 2)
    )
    assert np.abs(backbone(x).numpy() - before).max() > 1e-3


@pytest.mark.parametrize("size", [(32, 32), (31, 33), (17, 45)])
def test_masks_come_back_at_each_images_size(size):
    model = random_model()
    pixels = np.resize(IMAGES[:2], (2, *size, 3))
    assert model.predict(pixels).shape == (2, *size)
    encoded = [png(pixels[0]), png(np.resize(IMAGES[2], (9, 70, 3)))]
    assert [mask.shape for mask in model.predict(encoded)] == [size, (9, 70)]
    assert model.predict(pixels[0]).shape == size


def test_image_size_must_be_a_multiple_of_two_to_the_depth():
    message = "`image_size` must have a height and width that are multiples of 2**depth = 4"
    with pytest.raises(ValueError, match=re.escape(message)):
        tiny_unet(image_size=(30, 32))
    # Without `image_size`, the first image's size is rounded to the nearest multiple.
    assert tiny_unet(images=IMAGES[:, :30, :27]).preprocessor.image_size == (32, 28)


def test_augmentation_moves_images_and_masks_together():
    flip = keras.layers.RandomFlip("horizontal", seed=1)
    model = tiny_unet(augmentation=[flip])
    x, masks = next(iter(model.training_dataset(IMAGES[:16], MASKS[:16], shuffle=False)))
    images = np.round(x["images"].numpy() * 255).astype(np.uint8)
    flipped = [
        not np.array_equal(image, original)
        for image, original in zip(images, IMAGES[:16], strict=True)
    ]
    assert 0 < sum(flipped) < 16  # some flipped, some not
    for image, mask, original, original_mask, was_flipped in zip(
        images, masks.numpy(), IMAGES[:16], MASKS[:16], flipped, strict=True
    ):
        expected = original[:, ::-1] if was_flipped else original
        np.testing.assert_array_equal(image, expected)
        np.testing.assert_array_equal(
            mask, original_mask[:, ::-1] if was_flipped else original_mask
        )


def test_a_pretrained_encoder_is_the_contracting_path(tmp_path):
    # Its stages give the skip connections, and the image the one at full size.
    model = tiny_unet(**MOBILENET)
    backbone = model.backbone
    assert (backbone.depth, model.preprocessor.normalization) == (5, "tf")
    logits = backbone({"images": np.zeros((1, 32, 32, 3), "float32")})
    assert logits.shape == (1, 32, 32, 4)
    assert backbone.get_layer("up_0_skip").input[0].shape == (None, 32, 32, 3)  # the image
    path = str(tmp_path / "mobilenet.weights.h5")
    backbone.image_encoder.save_weights(path)
    loaded = tiny_unet(**MOBILENET, encoder_weights=path).backbone
    for expected, actual in zip(
        backbone.image_encoder.weights, loaded.image_encoder.weights, strict=True
    ):
        np.testing.assert_array_equal(actual.numpy(), expected.numpy())
    frozen = tiny_unet(**MOBILENET, trainable_encoder=False)
    assert not frozen.backbone.image_encoder.trainable_weights
    assert frozen.backbone.trainable_weights  # the expanding path trains


def test_a_pretrained_encoder_fixes_the_depth():
    with pytest.raises(ValueError, match=re.escape("`depth` must be 5, got 3")):
        tiny_unet(encoder="mobilenet", depth=3)


def test_an_unknown_encoder_is_named_with_the_choices():
    with pytest.raises(ValueError, match=re.escape("`encoder` must be None or one of")):
        tiny_unet(encoder="small-cnn")


# === Errors ===
@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda m: m.fit(IMAGES, MASKS + 4),
            ValueError,
            "`y` holds class id 7, but the model has 4",
        ),
        (lambda m: m.fit(IMAGES, MASKS[:3]), ValueError, "`x` and `y` must have the same length"),
        (
            lambda m: m.fit(IMAGES, MASKS.astype("float32")),
            TypeError,
            "`y` must hold integer class",
        ),
        (lambda m: m.evaluate(IMAGES[:2], MASKS[:2, :16]), ValueError, "`y[0]` must have the size"),
        (lambda m: m.predict(IMAGES, batch_size=0), ValueError, "`batch_size` must be a positive"),
    ],
)
def test_bad_input_is_named_at_the_call(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call(random_model())


def test_unknown_options_are_named():
    with pytest.raises(TypeError, match=re.escape("Unexpected arguments to `unet`: ['filter']")):
        tiny_unet(filter=8)


def test_missing_data_is_named():
    with pytest.raises(ValueError, match="Pass `masks`, `num_classes` or `class_names`"):
        zoo.unet(IMAGES)


# === A trained model ===
@pytest.fixture(scope="module")
def trained():
    images, masks = shapes_segmentation(600, seed=0, image_size=64)
    held_out = shapes_segmentation(100, seed=1, image_size=64)
    learning.set_seed()
    model = zoo.unet(
        images,
        masks,
        depth=3,
        filters=16,
        class_names=SEGMENTATION_CLASSES,
        augmentation=[keras.layers.RandomFlip()],
    )
    learning.fit_to_plateau(
        model,
        images,
        masks,
        batch_size=8,
        name="U-Net segments held-out shapes",
        measure=lambda model: {"mean_iou": model.evaluate(*held_out, verbose=0)["mean_iou"]},
        bars={"mean_iou": 0.9},
        max_epochs=60,
    )
    return model, held_out


@learning.learning
def test_segments_held_out_shapes(trained):
    model, (images, masks) = trained
    assert model.evaluate(images, masks, verbose=0)["mean_iou"] >= 0.9


def test_keras_file_round_trip_predicts_identically(trained, tmp_path):
    model, (images, _) = trained
    model.save(tmp_path / "unet.keras")
    reloaded = zoo.load(tmp_path / "unet.keras")
    assert reloaded.class_names == SEGMENTATION_CLASSES
    np.testing.assert_array_equal(reloaded.predict(images[:8]), model.predict(images[:8]))


def test_export_serves_masks_and_class_fractions_equal_to_predict(trained, tmp_path):
    model, (images, _) = trained
    encoded = [png(images[0]), png(images[1][:45, :37])]
    model.export(tmp_path / "export")
    served = serve_in_fresh_process(tmp_path / "export", encoded)
    (masks, _), (fractions, _) = served["masks"], served["class_fractions"]
    for mask, mask_fractions, expected in zip(
        masks, fractions, model.predict(encoded), strict=True
    ):
        np.testing.assert_array_equal(tf.io.decode_png(mask).numpy()[..., 0], expected)
        counted = np.bincount(expected.ravel(), minlength=4) / expected.size
        np.testing.assert_allclose(mask_fractions, counted, atol=1e-6)


def test_plot_segmentation_colours_the_classes_only(trained):
    model, (images, _) = trained
    mask = model.predict(images[0])
    figure = zoo.plot_segmentation(images[0], mask, class_names=model.class_names)
    overlay = figure.axes[0].images[1].get_array()
    assert (overlay[mask == 0][:, 3] == 0).all() and (overlay[mask > 0][:, 3] > 0).all()
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert legend == [SEGMENTATION_CLASSES[i] for i in np.unique(mask) if i > 0]
