"""The Transformer: the text-to-text contract (cached decoding equal to teacher forcing,
causal, padding-blind, it learns) over every option, and what is the Transformer's own."""

import keras
import numpy as np
import pytest

import zoo
from tests import learning
from tests.test_case import MEMORY_OUTPUTS, MEMORY_SOURCES, MEMORY_TARGETS
from tests.text_to_text_contract import TextToTextContract


class TestTransformer(TextToTextContract):
    build = staticmethod(zoo.transformer)
    tiny = {
        "vocabulary_size": 300,
        "hidden_dim": 32,
        "num_heads": 4,
        "intermediate_dim": 64,
        "num_layers": 2,
        "dropout": 0.0,
    }
    options = {
        "default": {},
        "norm-first": {"norm_first": True},
        "learned-positions": {"positions": "learned"},
        "shared-vocabulary": {"shared_vocabulary": True},
        "untied-output": {"tie_embeddings": False},
        "three-encoder-one-decoder-layer": {"num_encoder_layers": 3, "num_decoder_layers": 1},
        "two-heads-wide-ffn": {"num_heads": 2, "intermediate_dim": 128, "hidden_dim": 48},
    }
    causal_options = ("default", "norm-first", "learned-positions")
    padding_options = ("default", "learned-positions")
    bad_options = (
        ({"num_heads": 5}, "`num_heads` must divide `hidden_dim` (32)"),
        ({"positions": "rotary"}, "`positions` must be one of"),
        ({"dropout": 1.5}, "`dropout` must be a number in [0, 1)"),
        ({"num_layers": 0}, "`num_layers` must be a positive int"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
        ({"warmup_steps": 0}, "warmup_steps"),
    )
    misspelt_option = {"tie_embedding": False}


random_model, tiny_transformer = TestTransformer.random_model, TestTransformer.tiny_model


def test_options_shape_the_graph():
    def layers_named(model, prefix):
        return [layer.name for layer in model.backbone.layers if layer.name.startswith(prefix)]

    model = random_model("three-encoder-one-decoder-layer")
    assert len(layers_named(model, "encoder_layer")) == 3
    assert len(layers_named(model, "decoder_layer")) == 1
    model = random_model("shared-vocabulary")
    assert model.source_vectorizer is model.target_vectorizer
    assert model.backbone.source_embedding is model.backbone.target_embedding
    tied, untied = random_model("default").backbone, random_model("untied-output").backbone
    assert len(untied.target_embedding.weights) == len(tied.target_embedding.weights) + 1
    learned = random_model("learned-positions").backbone
    assert learned.source_positions.position_embeddings.shape == (64, 32)
    assert random_model("norm-first").backbone.decoder_norm.name == "decoder_final_norm"
    wide = random_model("two-heads-wide-ffn").backbone.decoder_layers[0]
    assert (wide.num_heads, wide.head_dim, wide.intermediate_dense.units) == (2, 24, 128)


def test_the_former_name_tied_embeddings_still_unties_with_a_warning():
    with pytest.warns(DeprecationWarning, match="`tied_embeddings` is renamed `tie_embeddings`"):
        model = tiny_transformer(tied_embeddings=False)
    assert model.backbone.tie_embeddings is False
    with pytest.raises(TypeError, match="Pass `tie_embeddings` or `tied_embeddings`, not both"):
        tiny_transformer(tied_embeddings=False, tie_embeddings=False)


def test_learned_positions_bound_the_decoded_length():
    model = random_model("learned-positions")
    with pytest.raises(ValueError, match="`max_length` must be at most 64"):
        model.predict("x", max_length=100)


def test_trains_with_label_smoothing_by_default():
    loss = random_model("default").loss
    assert isinstance(loss, zoo.losses.LabelSmoothedCrossentropy)
    assert loss.label_smoothing == 0.1


def test_trains_on_the_warm_up_schedule_by_default():
    learning_rate = random_model("default").optimizer.get_config()["learning_rate"]
    schedule = keras.saving.deserialize_keras_object(learning_rate)
    assert isinstance(schedule, zoo.schedules.InverseSquareRootSchedule)
    assert (schedule.hidden_dim, schedule.warmup_steps) == (32, 4000)


def test_zero_label_smoothing_trains_on_plain_cross_entropy():
    model = tiny_transformer(label_smoothing=0.0)
    assert model.loss.label_smoothing == 0.0


# === A trained model: memorises a corpus, then saves, exports and shows its attention ===
@pytest.fixture(scope="module")
def trained():
    learning.set_seed()
    # Pre-LN: with post-LN this fast schedule memorises the corpus, then becomes unstable.
    model = zoo.transformer(
        MEMORY_SOURCES,
        MEMORY_TARGETS,
        **{**TestTransformer.tiny, "hidden_dim": 64},
        norm_first=True,
        warmup_steps=100,
    )
    learning.fit_to_memorise(
        model,
        MEMORY_SOURCES,
        MEMORY_TARGETS,
        MEMORY_OUTPUTS,
        name="transformer: memorises 40 pairs",
        max_epochs=300,
        samplers=("greedy", "beam"),
    )
    return model


def test_attention_rows_are_distributions_up_to_the_end_token(trained):
    _, attention = trained.predict(MEMORY_SOURCES[:4], return_attention=True)
    for weights in attention:
        assert weights["translation"][-1] == "[END]"
        np.testing.assert_allclose(weights["weights"].sum(-1), 1.0, atol=1e-5)
