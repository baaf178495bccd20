"""Tests for zoo.image_captioner: each decoder learns the shapes captions, cached decoding
equals teacher forcing, attention over the grid, the doubly stochastic penalty, export,
saving, and clear errors."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests import learning
from tests.test_case import (
    check_steps_read_the_keys_projected_once,
    step_by_step_logits,
    with_moved_weights,
)
from zoo.datasets.shapes import COLOR_VALUES
from zoo.export import serve_in_fresh_process
from zoo.layers import DoublyStochasticRegularization

IMAGE_SIZE = 32
TRAIN_IMAGES, TRAIN_CAPTIONS = zoo.datasets.shapes_captions(3000, seed=0, image_size=IMAGE_SIZE)
TEST_IMAGES, TEST_CAPTIONS = zoo.datasets.shapes_captions(200, seed=1, image_size=IMAGE_SIZE)
# The most epochs each trained captioner may take to hold 95% exact on held-out images.
MAX_EPOCHS = {"show-and-tell": 40, "show-attend-tell": 20, "hard attention": 30, "transformer": 20}
# The trained captioners that are not a decoder with its defaults: (decoder, options). Hard
# attention reads the expectation at inference: reading the argmax cell, fewer captions come
# out exact, and how many varies from epoch to epoch (see the argmax test). Its grid cells
# know where they are (`grid_positions`), so the cell a word reads can be the one it names.
HARD_ATTENTION = {"attention": "hard", "attention_inference": "expectation", "grid_positions": True}
VARIANTS = {"hard attention": ("show-attend-tell", HARD_ATTENTION)}
DECODER_OPTIONS = {
    "show-and-tell": {"embedding_dim": 32, "units": 128, "learning_rate": 2e-3},
    "show-attend-tell": {"embedding_dim": 32, "units": 128, "learning_rate": 3e-3},
    "transformer": {"hidden_dim": 64, "intermediate_dim": 128, "learning_rate": 1e-3},
}


def tiny_captioner(decoder, **options):
    options = {
        "image_size": IMAGE_SIZE,
        "encoder_filters": (16, 32, 64),
        **DECODER_OPTIONS.get(decoder, {}),
        **options,
    }
    return zoo.image_captioner(TRAIN_IMAGES, TRAIN_CAPTIONS, decoder=decoder, **options)


def png(images):
    return [tf.io.encode_png(image).numpy() for image in images]


def raises(error, message):
    return pytest.raises(error, match=re.escape(message))


def exact_on_held_out_images(model):
    return {"exact": learning.exact_match(model, TEST_IMAGES, TEST_CAPTIONS, batch_size=100)}


@pytest.fixture(scope="module", params=list(MAX_EPOCHS))
def trained(request):
    """(name, model, held-out captions): each captioner of `MAX_EPOCHS` trained once."""
    learning.set_seed()
    decoder, options = VARIANTS.get(request.param, (request.param, {}))
    model = tiny_captioner(decoder, **options)
    learning.fit_to_plateau(
        model,
        TRAIN_IMAGES,
        TRAIN_CAPTIONS,
        name=f"image captioner: {request.param} on shapes",
        measure=exact_on_held_out_images,
        bars={"exact": 0.95},
        max_epochs=MAX_EPOCHS[request.param],
    )
    return request.param, model, model.predict(TEST_IMAGES, batch_size=100)


# === Learning ===


@learning.learning
def test_each_decoder_learns_shapes_captions_on_held_out_images(trained):
    _, _, predicted = trained
    exact = np.mean([p == c for p, c in zip(predicted, TEST_CAPTIONS, strict=True)])
    assert exact >= 0.95, [(p, c) for p, c in zip(predicted, TEST_CAPTIONS, strict=True) if p != c][
        :5
    ]


def test_cached_step_logits_equal_teacher_forced_logits(trained):
    _, model, _ = trained
    x, _, _ = model.preprocess(TEST_IMAGES[:4], tf.constant(TEST_CAPTIONS[:4]))
    teacher_forced = model.backbone(x, training=False).numpy()
    np.testing.assert_allclose(step_by_step_logits(model.backbone, x), teacher_forced, atol=1e-5)


def test_show_attend_tell_steps_read_the_grid_keys_projected_once():
    model = with_moved_weights(tiny_captioner("show-attend-tell"))
    x, _, _ = model.preprocess(TEST_IMAGES[:4], tf.constant(TEST_CAPTIONS[:4]))
    check_steps_read_the_keys_projected_once(model.backbone, x)


def test_paths_bytes_and_pixels_give_the_same_captions(trained, tmp_path):
    _, model, predicted = trained
    encoded = png(TEST_IMAGES[:6])
    paths = []
    for i, content in enumerate(encoded):
        paths.append(str(tmp_path / f"{i}.png"))
        (tmp_path / f"{i}.png").write_bytes(content)
    assert model.predict(encoded) == predicted[:6]
    assert model.predict(paths) == predicted[:6]
    assert model.predict(TEST_IMAGES[0]) == predicted[0]


@learning.learning
def test_evaluate_reports_loss_and_bleu_against_every_reference(trained):
    _, model, _ = trained
    references = [[caption, "a picture of shapes"] for caption in TEST_CAPTIONS[:50]]
    metrics = model.evaluate(TEST_IMAGES[:50], references, verbose=0)
    assert set(metrics) >= {"loss", "token_accuracy", "bleu_1", "bleu_2", "bleu_3", "bleu_4"}
    assert metrics["bleu_1"] >= metrics["bleu_2"] >= metrics["bleu_3"] >= metrics["bleu_4"]
    # The loss and token accuracy also count the wrong second reference; BLEU does not lose
    # from it, as it scores against the closest references.
    assert metrics["bleu_4"] > 90


# === Attention ===


def attention_on_three_held_out_images(trained):
    """(model, captions, attention) as `predict(..., return_attention=True)` gives them for
    three held-out images; skips show-and-tell, which has no attention (a bad input test
    checks that it says so)."""
    _, model, _ = trained
    if not model.has_attention:
        pytest.skip("show-and-tell has no attention")
    return model, *model.predict(TEST_IMAGES[:3], return_attention=True)


def test_returning_attention_keeps_the_captions(trained):
    _, _, predicted = trained
    _, captions, attention = attention_on_three_held_out_images(trained)
    assert captions == predicted[:3]
    for caption, one in zip(captions, attention, strict=True):
        assert one["caption"] == [*caption.split(), "[END]"]


def test_attention_rows_sum_to_one_over_the_grid(trained):
    model, _, attention = attention_on_three_held_out_images(trained)
    for one in attention:
        assert one["weights"].shape == (len(one["caption"]), *model.backbone.grid_shape)
        np.testing.assert_allclose(one["weights"].sum(axis=(1, 2)), 1.0, atol=1e-5)


def share_of_reads_on_the_named_shape(model, images, captions):
    """The share of the colour and shape words, over the captions `model` writes exactly,
    whose most attended grid cell (the cell hard attention reads) holds a pixel of the shape
    they name, and the share of all grid cells that do (what a random cell would give)."""
    written, attention = model.predict(images, return_attention=True)
    grid_height, grid_width = model.backbone.grid_shape
    rows, columns = IMAGE_SIZE // grid_height, IMAGE_SIZE // grid_width
    reads, cells = [], []
    for image, caption, written_caption, one in zip(
        images, captions, written, attention, strict=True
    ):
        if written_caption != caption:
            continue
        words = caption.split()  # "a {colour} {shape} {relation} a {colour} {shape}"
        for position, colour in ((1, words[1]), (2, words[1]), (-2, words[-2]), (-1, words[-2])):
            on_shape = (image == COLOR_VALUES[colour]).all(axis=-1)
            grid = on_shape.reshape(grid_height, rows, grid_width, columns).any(axis=(1, 3))
            position %= len(words)
            weights = one["weights"][position]
            reads.append(grid.flat[np.argmax(weights)])
            cells.append(grid.mean())
    return np.mean(reads), np.mean(cells)


@learning.learning
def test_hard_attention_reads_a_cell_of_the_shape_a_word_names(trained):
    name, model, _ = trained
    if name != "hard attention":
        pytest.skip("hard attention only")
    argmax = tiny_captioner("show-attend-tell", attention="hard", grid_positions=True)
    argmax.set_weights(model.get_weights())
    assert learning.exact_match(argmax, TEST_IMAGES, TEST_CAPTIONS, batch_size=100) >= 0.85
    # Most words read a cell of the shape they name, where a random cell would for 22%.
    on_shape, chance = share_of_reads_on_the_named_shape(argmax, TEST_IMAGES, TEST_CAPTIONS)
    assert on_shape > 0.5 > 2 * chance, (on_shape, chance)


def test_attention_plot_titles_each_panel_with_its_token(trained):
    _, _, attention = attention_on_three_held_out_images(trained)
    figure = zoo.plot_caption_attention(TEST_IMAGES[0], **attention[0])
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert titles == attention[0]["caption"]


def test_doubly_stochastic_penalty_equals_numpy():
    rng = np.random.default_rng(0)
    weights = rng.random((3, 5, 6)).astype("float32")
    weights /= weights.sum(-1, keepdims=True)
    mask = np.arange(5)[None] < np.array([[5], [3], [1]])
    layer = DoublyStochasticRegularization(0.7)
    inputs = rng.random((3, 5, 2)).astype("float32")
    np.testing.assert_array_equal(layer(inputs, weights, mask).numpy(), inputs)
    coverage = (weights * mask[:, :, None]).sum(1)
    expected = 0.7 * ((1 - coverage) ** 2).sum() / mask.sum()  # per real token, as the loss
    np.testing.assert_allclose(float(layer.losses[-1]), expected, rtol=1e-6)


# === Export and saving ===


def test_export_of_encoded_bytes_reloads_without_zoo_and_equals_predict(trained, tmp_path):
    _, model, predicted = trained
    model.export(tmp_path / "export")
    images = png(TEST_IMAGES[:8])
    # Two unreadable items, not an image and a PNG cut short: the others are answered.
    sent = [*images[:3], b"not an image", images[3][:40], *images[3:]]
    served = serve_in_fresh_process(tmp_path / "export", sent)
    readable = [0, 1, 2, 5, 6, 7, 8, 9]
    assert served["status"] == (["ok"] * 3 + ["unreadable input"] * 2 + ["ok"] * 5, "string")
    outputs, scores = served["outputs"][0], served["scores"][0]
    assert [outputs[i] for i in readable] == predicted[:8]
    assert outputs[3:5] == ["", ""] and scores[3:5] == [-np.inf, -np.inf]
    _, predicted_scores = model.predict(TEST_IMAGES[:8], return_scores=True)
    np.testing.assert_allclose([scores[i] for i in readable], predicted_scores, atol=1e-5)
    if model.has_attention:
        captions, attention = model.predict(TEST_IMAGES[:2], return_attention=True)
        served = serve_in_fresh_process(
            tmp_path / "export", png(TEST_IMAGES[:2]), "caption_with_attention"
        )
        assert served["outputs"][0] == captions
        for one, served_weights in zip(attention, served["attention"][0], strict=True):
            words = len(one["caption"])
            np.testing.assert_allclose(
                np.array(served_weights)[:words], one["weights"].reshape(words, -1), atol=1e-5
            )


def test_export_with_a_beam_default_equals_predict_with_it(trained, tmp_path):
    _, model, _ = trained
    beam = zoo.decoding.BeamSampler(num_beams=3)
    model.export(tmp_path / "export", sampler=beam)
    captions, scores = model.predict(TEST_IMAGES[:4], sampler=beam, return_scores=True)
    served = serve_in_fresh_process(tmp_path / "export", png(TEST_IMAGES[:4]))
    assert served["outputs"][0] == captions
    np.testing.assert_allclose(served["scores"][0], scores, atol=1e-4)
    assert served["status"][0] == ["ok"] * 4


def test_keras_file_round_trip_predicts_identically(trained, tmp_path):
    _, model, predicted = trained
    model.save(tmp_path / "captioner.keras")
    loaded = zoo.load(tmp_path / "captioner.keras")
    assert isinstance(loaded, zoo.ImageCaptioner)
    assert loaded.predict(TEST_IMAGES[:8]) == predicted[:8]


# === Captions, encoders and bad input ===


def test_several_captions_per_image_are_one_example_each():
    model = tiny_captioner("show-and-tell")
    first, second, third = TRAIN_CAPTIONS[:3]
    pairs = list(model.preprocessor.training_pairs(TRAIN_IMAGES[:2], [[first, second], third]))
    np.testing.assert_array_equal([image for image, _ in pairs], TRAIN_IMAGES[[0, 0, 1]])
    captions = tf.ragged.stack([caption for _, caption in pairs]).to_tensor()
    written = model.target_vectorizer.detokenize(captions).numpy()
    assert [caption.decode() for caption in written] == [first, second, third]


@pytest.mark.parametrize("decoder", ["show-attend-tell", "transformer"])
def test_a_frozen_encoder_runs_once_per_image_and_trains_as_the_full_graph(decoder):
    keras.utils.set_random_seed(0)
    model = with_moved_weights(tiny_captioner(decoder, trainable_encoder=False, dropout=0.0))
    assert model.backbone.has_fixed_features
    assert not tiny_captioner(decoder).backbone.has_fixed_features
    images, captions = TRAIN_IMAGES[:6], TRAIN_CAPTIONS[:6]
    # The training pairs hold each image's feature grid, as inference computes it.
    grids = np.stack([grid for grid, _ in model.preprocessor.training_pairs(images, captions)])
    x, y, weight = model.preprocess(images, tf.constant(captions))
    np.testing.assert_allclose(grids, model.backbone.image_features(x["images"]), atol=1e-6)
    # Trained on those grids, the model computes what its full graph computes.
    cached = {**x, "image_features": tf.constant(grids)}
    del cached["images"]
    for training in (False, True):
        np.testing.assert_allclose(
            model(cached, training=training), model(x, training=training), atol=1e-5
        )
    losses = [model.test_on_batch(inputs, y, weight) for inputs in (cached, x)]
    assert losses[0] == pytest.approx(losses[1], abs=1e-5)
    history = model.fit(TRAIN_IMAGES[:64], TRAIN_CAPTIONS[:64], epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_small_cnn_batch_norm_is_the_default():
    backbone = tiny_captioner("show-and-tell").backbone
    cnn = backbone.image_encoder
    assert backbone.get_config()["encoder_batch_norm"] is True
    assert [layer.momentum for layer in cnn.normalizations] == [0.9, 0.9, 0.9]
    assert not any(convolution.use_bias for convolution in cnn.convolutions)


def test_small_cnn_batch_norm_can_be_turned_off():
    backbone = tiny_captioner("show-and-tell").backbone
    cnn = backbone.image_encoder
    plain = tiny_captioner("show-and-tell", encoder_batch_norm=False).backbone
    assert plain.image_encoder.normalizations == []
    assert all(convolution.use_bias for convolution in plain.image_encoder.convolutions)
    # Per channel: batch norm's gamma, beta, moving mean and variance against a bias.
    channels = sum(cnn.filters)
    assert plain.count_params() == backbone.count_params() - 4 * channels + channels


@pytest.mark.parametrize(
    "pooling, reference",
    [
        ("max", lambda grid: grid.max(axis=1)),
        ("mean", lambda grid: grid.mean(axis=1)),
        ("flatten", lambda grid: grid.reshape(len(grid), -1)),
    ],
)
def test_show_and_tell_embeds_the_pooled_feature_grid(pooling, reference):
    backbone = tiny_captioner("show-and-tell", image_pooling=pooling).backbone
    grid_shape = (2, np.prod(backbone.grid_shape), backbone.encoder_filters[-1])
    grid = np.random.default_rng(0).normal(size=grid_shape).astype("float32")
    kernel, bias = (weight.numpy() for weight in backbone.image_embedding.weights)
    np.testing.assert_allclose(
        backbone._image_embedding(grid).numpy(), reference(grid) @ kernel + bias, atol=1e-5
    )


def test_max_pooling_is_the_default():
    backbone = tiny_captioner("show-and-tell").backbone
    assert backbone.get_config()["image_pooling"] == "max"
    channels = backbone.encoder_filters[-1]
    assert backbone.image_embedding.kernel.shape == (channels, backbone.embedding_dim)


@pytest.mark.parametrize(
    ("decoder", "option"),
    [
        ("show-and-tell", "attention_units"),
        ("show-attend-tell", "image_pooling"),
        ("transformer", "units"),
    ],
)
def test_an_option_of_another_decoder_is_refused(decoder, option):
    message = f"Unexpected arguments to `image_captioner(decoder='{decoder}')`: ['{option}']"
    with pytest.raises(TypeError, match=re.escape(message)):
        zoo.image_captioner(
            TRAIN_IMAGES[:4], TRAIN_CAPTIONS[:4], decoder=decoder, image_size=32, **{option: 8}
        )


def mobilenet_captioner(**options):
    return tiny_captioner("show-attend-tell", encoder="mobilenet", encoder_alpha=0.25, **options)


def test_keras_applications_encoder_builds_without_download():
    model = mobilenet_captioner()
    assert model.image_preprocessor.normalization == "tf"
    assert isinstance(model.predict(TEST_IMAGES[0]), str)
    with raises(ValueError, "would download the weights, and zoo downloads nothing"):
        tiny_captioner("show-attend-tell", encoder="mobilenet", encoder_weights="imagenet")


def test_keras_applications_encoder_loads_local_weights(tmp_path):
    model = mobilenet_captioner()
    path = str(tmp_path / "mobilenet.weights.h5")
    model.backbone.image_encoder.save_weights(path)
    loaded = mobilenet_captioner(encoder_weights=path)
    for expected, actual in zip(
        model.backbone.image_encoder.weights, loaded.backbone.image_encoder.weights, strict=True
    ):
        np.testing.assert_array_equal(actual.numpy(), expected.numpy())


def test_fine_tuning_the_last_layers_keeps_the_rest_and_batch_norm_frozen(tmp_path):
    model = tiny_captioner("transformer", encoder="mobilenet", encoder_alpha=0.25)

    def trainable_layers(model):
        encoder = model.backbone.image_encoder
        return [layer.name for layer in encoder.layers if layer.weights and layer.trainable]

    model.backbone.set_trainable_encoder(4)
    # MobileNet ends in depthwise conv, batch norm, pointwise conv, batch norm.
    assert trainable_layers(model) == ["conv_dw_13", "conv_pw_13"]
    assert model.backbone.get_config()["trainable_encoder"] == 4
    model.save(tmp_path / "fine_tuned.keras")
    assert trainable_layers(zoo.load(tmp_path / "fine_tuned.keras")) == trainable_layers(model)
    with raises(ValueError, "the small CNN trains whole or not at all"):
        tiny_captioner("transformer", trainable_encoder=2)
    with raises(ValueError, "`trainable_encoder` must be True, False or the number"):
        model.backbone.set_trainable_encoder(-1)


def augmented_captioner():
    """(model, x, inference outputs on x): a captioner that translates its training images."""
    # Without batch norm, whose batch statistics would also change the training outputs
    # (and whose moving statistics a training call updates).
    model = tiny_captioner(
        "transformer",
        augmentation=[keras.layers.RandomTranslation(0.25, 0.25, seed=1)],
        encoder_batch_norm=False,
    )
    x, _, _ = model.preprocess(TEST_IMAGES[:4], tf.constant(TEST_CAPTIONS[:4]))
    return model, x, model.backbone(x, training=False).numpy()


def test_augmentation_changes_training_images_only():
    model, x, inference = augmented_captioner()
    np.testing.assert_array_equal(model.backbone(x, training=False).numpy(), inference)
    assert not np.allclose(model.backbone(x, training=True).numpy(), inference, atol=1e-3)


def test_augmentation_is_saved(tmp_path):
    model, x, inference = augmented_captioner()
    model.save(tmp_path / "augmented.keras")
    loaded = zoo.load(tmp_path / "augmented.keras")
    assert isinstance(loaded.backbone.augmentation[0], keras.layers.RandomTranslation)
    np.testing.assert_allclose(loaded.backbone(x, training=False).numpy(), inference, atol=1e-6)


BAD_INPUTS = [
    (
        "float images",
        lambda model: model.fit(TRAIN_IMAGES[:4] / 255.0, TRAIN_CAPTIONS[:4]),
        TypeError,
        "`x` must hold uint8 pixel values",
    ),
    (
        "mismatched lengths",
        lambda model: model.fit(TRAIN_IMAGES[:4], TRAIN_CAPTIONS[:3]),
        ValueError,
        "`x` and `y` must have the same length (one entry of captions per image), got 4 and 3.",
    ),
    (
        "empty caption list",
        lambda model: model.fit(TRAIN_IMAGES[:2], [["a red circle"], []]),
        ValueError,
        "`y[1]` is an empty list",
    ),
    (
        "non-string caption",
        lambda model: model.fit(TRAIN_IMAGES[:2], ["a red circle", 3]),
        TypeError,
        "`y[1]` must be a caption (str) or a list of captions",
    ),
    (
        "images of the wrong rank",
        lambda model: model.predict(TRAIN_IMAGES[0, :, :, 0]),
        ValueError,
        "`x` must be one image [height, width, channels] or a batch",
    ),
    (
        "attention from a decoder without it",
        lambda model: model.predict(TEST_IMAGES[:1], return_attention=True),
        ValueError,
        "`return_attention=True` needs a model with attention",
    ),
    (
        "unknown decoder",
        lambda model: tiny_captioner("show-and-look"),
        ValueError,
        "`decoder` must be one of ('show-and-tell', 'show-attend-tell', 'transformer')",
    ),
    (
        "unknown encoder",
        lambda model: tiny_captioner("show-and-tell", encoder="vgg99"),
        ValueError,
        "`encoder` must be one of",
    ),
    (
        "unknown image pooling",
        lambda model: tiny_captioner("show-and-tell", image_pooling="avg"),
        ValueError,
        "`image_pooling` must be one of ('max', 'mean', 'flatten'), got 'avg'",
    ),
    (
        "unknown attention",
        lambda model: tiny_captioner("show-attend-tell", attention="medium"),
        ValueError,
        "`attention` must be one of ('soft', 'hard'), got 'medium'",
    ),
    (
        "unknown hard attention inference",
        lambda model: tiny_captioner("show-attend-tell", attention_inference="sample"),
        ValueError,
        "`attention_inference` must be one of ('argmax', 'expectation'), got 'sample'",
    ),
    (
        "grid positions not a bool",
        lambda model: tiny_captioner("show-attend-tell", grid_positions="yes"),
        ValueError,
        "`grid_positions` must be a bool, got 'yes'.",
    ),
    (
        "hard attention for show-and-tell",
        lambda model: tiny_captioner("show-and-tell", attention="hard"),
        TypeError,
        "Unexpected arguments to `image_captioner(decoder='show-and-tell')`: ['attention']",
    ),
]


@pytest.fixture(scope="module")
def untrained():
    return tiny_captioner("show-and-tell")


@pytest.mark.parametrize(
    "call, error, message", [case[1:] for case in BAD_INPUTS], ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_raises_clear_errors_at_the_public_verb(untrained, call, error, message):
    with raises(error, message):
        call(untrained)


def test_catalog_builds_the_captioner_configurations():
    for decoder, backbone in (
        ("show-and-tell", zoo.models.ShowAndTellBackbone),
        ("show-attend-tell", zoo.models.ShowAttendTellBackbone),
    ):
        model = zoo.build(
            f"captioner-{decoder}", TRAIN_IMAGES, TRAIN_CAPTIONS, image_size=IMAGE_SIZE, units=16
        )
        assert (type(model.backbone), model.backbone.units) == (backbone, 16)
    model = zoo.build(
        "captioner-transformer", TRAIN_IMAGES, TRAIN_CAPTIONS, image_size=IMAGE_SIZE, hidden_dim=32
    )
    assert isinstance(model.backbone, zoo.models.TransformerCaptionerBackbone)
    assert model.backbone.hidden_dim == 32
