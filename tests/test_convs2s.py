"""ConvS2S: the text-to-text contract (cached decoding equal to teacher forcing, causal,
padding-blind, it learns) over every option, and what is ConvS2S's own."""

import numpy as np
import pytest

import zoo
from tests import learning
from tests.test_case import MEMORY_OUTPUTS, MEMORY_SOURCES, MEMORY_TARGETS
from tests.text_to_text_contract import SOURCES, TARGETS, TextToTextContract


class TestConvS2S(TextToTextContract):
    build = staticmethod(zoo.convs2s)
    tiny = {
        "vocabulary_size": 300,
        "embedding_dim": 16,
        "channels": 24,
        "num_layers": 2,
        "dropout": 0.0,
    }
    options = {
        "default": {},
        "kernel-width-five": {"kernel_size": 5},
        "kernel-width-two": {"kernel_size": 2},
        "three-encoder-one-decoder-layer": {"num_encoder_layers": 3, "num_decoder_layers": 1},
    }
    causal_options = padding_options = ("default", "kernel-width-five")
    bad_options = (
        ({"channels": 0}, "`channels` must be a positive int, got 0"),
        ({"kernel_size": 0}, "`kernel_size` must be a positive int, got 0"),
        ({"dropout": 1.5}, "`dropout` must be a number in [0, 1), got 1.5"),
        ({"num_layers": 0}, "`num_layers` must be a positive int, got 0"),
        ({"learning_rate": 0}, "`learning_rate` must be a positive number, got 0"),
    )
    misspelt_option = {"kernel_width": 3}


random_model = TestConvS2S.random_model


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


# === A trained model: memorises a corpus, then saves, exports and shows its attention ===
@pytest.fixture(scope="module")
def trained():
    learning.set_seed()
    model = zoo.convs2s(MEMORY_SOURCES, MEMORY_TARGETS, **{**TestConvS2S.tiny, "channels": 64})
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


@pytest.fixture(scope="module")
def attention(trained):
    _, attention = trained.predict(MEMORY_SOURCES[:4], return_attention=True)
    return attention


def test_every_decoder_layer_gives_its_attention(trained, attention):
    for weights in attention:
        assert weights["translation"][-1] == "[END]"
        layers = len(trained.backbone.decoder_attentions)
        assert weights["weights"].shape == (
            layers,
            len(weights["translation"]),
            len(weights["source"]),
        )
        np.testing.assert_allclose(weights["weights"].sum(-1), 1.0, atol=1e-5)


def test_the_attention_plot_shows_the_last_layer(attention):
    figure = zoo.plot_attention(**attention[0])
    drawn = figure.axes[0].images[0].get_array()
    np.testing.assert_allclose(drawn, attention[0]["weights"][-1])


def test_catalog_builds_fairseqs_iwslt_sizes():
    backbone = zoo.build("convs2s-small", SOURCES, TARGETS, vocabulary_size=300).backbone
    assert (len(backbone.encoder_convolutions), len(backbone.decoder_convolutions)) == (4, 3)
    assert (backbone.embedding_dim, backbone.channels, backbone.kernel_size) == (256, 256, 3)
