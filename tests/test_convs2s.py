"""ConvS2S: causal, cached decoding equal to teacher forcing, padding-blind, and it learns;
every option is exercised."""

import functools
import re

import keras
import numpy as np
import pytest

import zoo
from tests import learning
from tests.cached_decoding_checks import (
    check_cached_decoding_equals_teacher_forcing,
    check_compiled_and_uncompiled_decoding_agree,
    check_greedy_decoding_equals_repeated_full_passes,
    check_no_future_leak,
    check_source_padding_changes_nothing,
)
from tests.test_case import (
    MEMORY_OUTPUTS,
    MEMORY_SOURCES,
    MEMORY_TARGETS,
    check_export_equals_predict,
    teacher_forced_batch,
    with_moved_weights,
)

SOURCES, TARGETS = MEMORY_SOURCES[:8], MEMORY_TARGETS[:8]
TINY = {
    "vocabulary_size": 300,
    "embedding_dim": 16,
    "channels": 24,
    "num_layers": 2,
    "dropout": 0.0,
}
OPTIONS = {
    "default": {},
    "kernel-width-five": {"kernel_size": 5},
    "kernel-width-two": {"kernel_size": 2},
    "three-encoder-one-decoder-layer": {"num_encoder_layers": 3, "num_decoder_layers": 1},
}


def tiny_convs2s(sources=SOURCES, targets=TARGETS, **options):
    keras.utils.set_random_seed(0)
    return zoo.convs2s(sources, targets, **{**TINY, **options})


@functools.cache
def random_model(option):
    return with_moved_weights(tiny_convs2s(**OPTIONS[option]))


@pytest.mark.parametrize("option", OPTIONS)
def test_cached_decoding_equals_teacher_forcing(option):
    check_cached_decoding_equals_teacher_forcing(random_model(option), SOURCES, TARGETS)


@pytest.mark.parametrize("option", ["default", "kernel-width-five"])
def test_no_future_leak(option):
    check_no_future_leak(random_model(option), SOURCES, TARGETS)


@pytest.mark.parametrize("option", ["default", "kernel-width-five"])
def test_source_padding_changes_nothing(option):
    check_source_padding_changes_nothing(random_model(option), SOURCES, TARGETS)


def test_greedy_decoding_equals_repeated_full_forward_passes():
    check_greedy_decoding_equals_repeated_full_passes(random_model("default"), SOURCES, TARGETS)


def test_compiled_and_uncompiled_decoding_agree():
    check_compiled_and_uncompiled_decoding_agree(random_model("default"), SOURCES)


def test_options_shape_the_graph():
    backbone = random_model("three-encoder-one-decoder-layer").backbone
    assert len(backbone.encoder_convolutions) == 3
    assert len(backbone.decoder_convolutions) == len(backbone.decoder_attentions) == 1
    convolution = random_model("kernel-width-five").backbone.decoder_convolutions[0]
    assert convolution.convolution.kernel.shape == (5, 24, 48)  # 2 x channels: the GLU's gates
    assert convolution.causal
    assert random_model("default").backbone.source_positions.position_embeddings.shape == (64, 16)


def test_the_decoded_length_is_bounded_by_the_learned_positions():
    with pytest.raises(ValueError, match="`max_length` must be at most 64"):
        random_model("default").predict("x", max_length=100)


def test_dropout_is_active_in_training_only():
    model = tiny_convs2s(dropout=0.3)
    x, _, _ = teacher_forced_batch(model, SOURCES, TARGETS)
    inference = [model.backbone(x, training=False).numpy() for _ in range(2)]
    training = [model.backbone(x, training=True).numpy() for _ in range(2)]
    np.testing.assert_array_equal(inference[0], inference[1])
    assert not np.allclose(training[0], training[1])


def test_backbone_config_round_trips():
    backbone = random_model("kernel-width-five").backbone
    restored = zoo.models.ConvS2SBackbone.from_config(backbone.get_config())
    assert restored.get_config() == backbone.get_config()
    assert restored.count_params() == backbone.count_params()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"channels": 0}, "`channels` must be a positive int, got 0"),
        ({"kernel_size": 0}, "`kernel_size` must be a positive int, got 0"),
        ({"dropout": 1.5}, "`dropout` must be a number in [0, 1), got 1.5"),
        ({"num_layers": 0}, "`num_layers` must be a positive int, got 0"),
        ({"learning_rate": 0}, "`learning_rate` must be a positive number, got 0"),
    ],
)
def test_bad_options_raise_errors_naming_them(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        tiny_convs2s(**options)


def test_an_unknown_option_names_the_builder_and_its_options():
    message = "Unexpected arguments to `convs2s`: ['kernel_width']; its options are"
    with pytest.raises(TypeError, match=re.escape(message)):
        tiny_convs2s(kernel_width=3)


# === A trained model: memorises a corpus, then saves, exports and shows its attention ===
@pytest.fixture(scope="module")
def trained():
    learning.set_seed()
    model = zoo.convs2s(MEMORY_SOURCES, MEMORY_TARGETS, **{**TINY, "channels": 64})
    learning.fit_to_memorise(
        model,
        MEMORY_SOURCES,
        MEMORY_TARGETS,
        MEMORY_OUTPUTS,
        name="convs2s: memorises 40 pairs",
        max_epochs=300,
        samplers=("greedy", "beam"),
    )
    return model


@learning.learning
def test_memorises_the_corpus_under_greedy_and_beam_decoding(trained):
    assert trained.predict(MEMORY_SOURCES) == MEMORY_OUTPUTS
    assert trained.predict(MEMORY_SOURCES, sampler="beam") == MEMORY_OUTPUTS


def test_keras_file_round_trip_predicts_identically(trained, tmp_path):
    path = tmp_path / "convs2s.keras"
    trained.save(path)
    assert zoo.load(path).predict(MEMORY_SOURCES) == MEMORY_OUTPUTS


@pytest.mark.parametrize("sampler", [None, zoo.decoding.BeamSampler(num_beams=3)])
def test_export_equals_predict_in_every_signature(trained, sampler, tmp_path):
    check_export_equals_predict(trained, tmp_path / "export", MEMORY_SOURCES[:4], sampler)


def test_every_decoder_layer_gives_its_attention_and_the_plot_shows_the_last(trained):
    _, attention = trained.predict(MEMORY_SOURCES[:4], return_attention=True)
    for weights in attention:
        assert weights["translation"][-1] == "[END]"
        layers = len(trained.backbone.decoder_attentions)
        assert weights["weights"].shape == (
            layers,
            len(weights["translation"]),
            len(weights["source"]),
        )
        np.testing.assert_allclose(weights["weights"].sum(-1), 1.0, atol=1e-5)
    figure = zoo.plot_attention(**attention[0])
    drawn = figure.axes[0].images[0].get_array()
    np.testing.assert_allclose(drawn, attention[0]["weights"][-1])


def test_catalog_builds_fairseqs_iwslt_sizes():
    backbone = zoo.build("convs2s-small", SOURCES, TARGETS, vocabulary_size=300).backbone
    assert (len(backbone.encoder_convolutions), len(backbone.decoder_convolutions)) == (4, 3)
    assert (backbone.embedding_dim, backbone.channels, backbone.kernel_size) == (256, 256, 3)
