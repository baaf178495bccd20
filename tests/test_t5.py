"""T5: the text-to-text contract (cached decoding equal to teacher forcing, causal,
padding-blind, it learns) over every option, one model for two tasks by their prefixes, one
position bias per stack, no bias terms."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests import learning
from tests.test_case import (
    MEMORY_SOURCES,
    MEMORY_TARGETS,
    normalized,
    step_by_step_logits,
    teacher_forced_batch,
)
from tests.text_to_text_contract import SOURCES, TARGETS, TextToTextContract
from zoo.layers import RelativePositionBias, T5Attention
from zoo.models import t5

RNG = np.random.default_rng(0)
# Text-to-text: both directions of 20 pairs in one corpus, told apart by the task prefix.
TASKS = zoo.datasets.translation_tasks(
    MEMORY_SOURCES[:20], MEMORY_TARGETS[:20], "English", "French"
)
MIXTURE_INPUTS, MIXTURE_TARGETS = zoo.datasets.text_to_text(TASKS)


class TestT5(TextToTextContract):
    build = staticmethod(t5)
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
        "gated-gelu": {"feed_forward": "gated-gelu"},
        "untied-output": {"tie_embeddings": False},
        "three-encoder-one-decoder-layer": {"num_encoder_layers": 3, "num_decoder_layers": 1},
        "three-heads-of-eight": {"num_heads": 3, "key_value_dim": 8},  # 24 != hidden_dim
    }
    causal_options = ("default", "gated-gelu")
    bad_options = (
        ({"num_heads": 5}, "`num_heads` must divide `hidden_dim` (32)"),
        ({"key_value_dim": 0, "num_heads": 5}, "`key_value_dim` must be a positive int, got 0"),
        (
            {"feed_forward": "swiglu"},
            "`feed_forward` must be one of ('relu', 'gated-gelu', 'gated-gelu-exact')",
        ),
        ({"dropout": 1.5}, "`dropout` must be a number in [0, 1), got 1.5"),
        ({"num_layers": 0}, "`num_layers` must be a positive int, got 0"),
        ({"num_decoder_layers": 0}, "`num_decoder_layers` must be a positive int, got 0"),
        ({"tie_embeddings": "yes"}, "`tie_embeddings` must be a bool, got 'yes'"),
        ({"num_buckets": 2}, "`num_buckets` must be at least 4"),
        ({"max_distance": 8}, "`max_distance` must exceed the 8 exact buckets"),
        ({"label_smoothing": 1.0}, "label_smoothing"),
        ({"learning_rate": 0}, "`learning_rate` must be a positive number, got 0"),
        ({"sentinels": 1}, "`sentinels` must be 0 or an int of at least 2, got 1"),
    )
    misspelt_option = {"heads": 2}
    # The trained model memorises both directions of 20 pairs.
    memorised_sources, memorised_outputs = MIXTURE_INPUTS, normalized(MIXTURE_TARGETS)


random_model, tiny_t5, TINY = TestT5.random_model, TestT5.tiny_model, TestT5.tiny


def numpy_t5_attention(layer, query, value, position_bias, mask):
    kernels = {w.path.split("/")[-2]: w.numpy().astype("float64") for w in layer.weights}
    heads, head_dim = layer.num_heads, layer.key_value_dim

    def split(x):
        return x.reshape(*x.shape[:2], heads, head_dim)

    queries = split(query @ kernels["query"])
    keys, values = split(value @ kernels["key"]), split(value @ kernels["value"])
    scores = np.einsum("bqhd,bkhd->bhqk", queries, keys) + position_bias  # no 1/sqrt(d)
    scores = np.where(mask[:, None], scores, -np.inf)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    outputs = np.einsum("bhqk,bkhd->bqhd", weights, values).reshape(*query.shape[:2], -1)
    return outputs @ kernels["attention_output"], weights


def test_t5_attention_matches_numpy_without_scaling_or_biases():
    layer = T5Attention(num_heads=3, key_value_dim=5, dropout=0.5)
    query = RNG.normal(size=(2, 4, 8)).astype("float32")
    value = RNG.normal(size=(2, 6, 8)).astype("float32")
    position_bias = RNG.normal(size=(1, 3, 4, 6)).astype("float32")
    mask = np.ones((2, 4, 6), bool)
    mask[1, :, 4:] = False
    outputs, weights = layer(query, value, position_bias=position_bias, attention_mask=mask)
    expected_outputs, expected_weights = numpy_t5_attention(
        layer, query, value, position_bias, mask
    )
    assert outputs.shape == (2, 4, 8) and weights.shape == (2, 3, 4, 6)
    np.testing.assert_allclose(outputs, expected_outputs, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-4, atol=1e-6)
    assert (np.asarray(weights)[1, :, :, 4:] == 0).all()
    assert sorted(w.path.split("/")[-1] for w in layer.weights) == ["kernel"] * 4
    assert not np.allclose(layer(query, value, training=True)[0], layer(query, value)[0])


def test_t5_attention_initialisation_folds_in_the_scaling():
    layer = T5Attention(num_heads=4, key_value_dim=16)
    layer.build((None, None, 64))
    stddevs = {w.path.split("/")[-2]: np.std(w.numpy()) for w in layer.weights}
    # Query (hidden_dim * key_value_dim)^-1/2, key and value hidden_dim^-1/2, output
    # (num_heads * key_value_dim)^-1/2: Mesh TensorFlow's and Hugging Face's.
    expected = {"query": 1 / 32, "key": 1 / 8, "value": 1 / 8, "attention_output": 1 / 8}
    for name, stddev in expected.items():
        assert stddevs[name] == pytest.approx(stddev, rel=0.05), name


def test_t5_attention_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"`key_value_dim`.*0"):
        T5Attention(2, 0)
    with pytest.raises(ValueError, match=r"`dropout`.*1\.5"):
        T5Attention(2, 4, dropout=1.5)


def test_t5_attention_survives_serialization():
    layer = T5Attention(2, 4, dropout=0.1)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert restored.get_config() == layer.get_config()


# === The model ===
def test_each_stack_computes_one_position_bias_per_pass(monkeypatch):
    backbone = random_model("three-encoder-one-decoder-layer").backbone
    biases = [layer for layer in backbone.layers if isinstance(layer, RelativePositionBias)]
    assert [(bias.name, bias.bidirectional) for bias in biases] == [
        ("encoder_position_bias", True),
        ("decoder_position_bias", False),
    ]
    # No layer keeps a bias table of its own: these are the only [num_buckets, heads] weights.
    assert [w.path for w in backbone.weights if w.shape == (32, 4)] == [
        "encoder_position_bias/embeddings",
        "decoder_position_bias/embeddings",
    ]
    # The decoder's is causal: every later key shares the bucket of distance 0.
    causal = backbone.decoder_position_bias(query_length=6, key_length=6).numpy()[0]
    for query in range(6):
        assert (causal[:, query, query:] == causal[:, query, query, None]).all()
    both_ways = backbone.encoder_position_bias(query_length=6, key_length=6).numpy()[0]
    assert not np.allclose(both_ways[:, 0, 1], both_ways[:, 1, 0])

    calls = []

    def counted(bias):
        call = bias.call

        def counting_call(*args, **kwargs):
            calls.append(bias.name)
            return call(*args, **kwargs)

        return counting_call

    for bias in biases:
        monkeypatch.setattr(bias, "call", counted(bias))
    x, _, _ = teacher_forced_batch(random_model("default"), SOURCES, TARGETS)
    logits = backbone(x).numpy()
    assert sorted(calls) == ["decoder_position_bias", "encoder_position_bias"]
    calls.clear()
    step_by_step_logits(backbone, x)
    length = x["decoder_token_ids"].shape[1]
    assert calls == ["encoder_position_bias"] + ["decoder_position_bias"] * length
    # And both are used: zeroing either table changes the logits.
    for bias in biases:
        table = bias.embeddings.numpy()
        bias.embeddings.assign(np.zeros_like(table))
        try:
            assert not np.allclose(backbone(x).numpy(), logits, atol=1e-3), bias.name
        finally:
            bias.embeddings.assign(table)


@pytest.mark.parametrize("option", ["default", "gated-gelu", "untied-output"])
def test_no_bias_terms_anywhere(option):
    backbone = random_model(option).backbone
    for weight in backbone.weights:
        *_, owner, name = weight.path.split("/")
        if len(weight.shape) == 1:  # only the RMS norms' scales
            assert (name, owner.endswith("norm")) == ("scale", True), weight.path
        else:
            assert (len(weight.shape), name) in {(2, "kernel"), (2, "embeddings")}, weight.path
    scales = [w for w in backbone.weights if len(w.shape) == 1]
    assert len(scales) == 2 * 2 + 3 * 2 + 2  # per encoder and decoder layer, per stack


def test_options_shape_the_graph():
    def layers_named(model, prefix):
        return [layer.name for layer in model.backbone.layers if layer.name.startswith(prefix)]

    model = random_model("three-encoder-one-decoder-layer")
    assert len(layers_named(model, "encoder_layer")) == 3
    assert len(layers_named(model, "decoder_layer")) == 1
    tied, untied = random_model("default").backbone, random_model("untied-output").backbone
    vocabulary_size = tied.vocabulary_size
    assert tied.output_projection is None and len(tied.token_embedding.weights) == 1
    assert [w.shape for w in untied.output_projection.weights] == [(32, untied.vocabulary_size)]
    assert tied.decoder_layers[0].feed_forward.activation == "relu"
    gated = random_model("gated-gelu").backbone.decoder_layers[0].feed_forward
    assert (gated.activation, gated.gated) == ("gelu_approximate", True)
    narrow = random_model("three-heads-of-eight").backbone.decoder_layers[0]
    assert narrow.self_attention.query_dense.kernel.shape == (32, 24)
    assert narrow.cross_attention.output_dense.kernel.shape == (24, 32)
    # One vocabulary, learned from both sides, for the encoder, the decoder and the output.
    model = random_model("default")
    assert model.source_vectorizer is model.target_vectorizer
    assert vocabulary_size == model.source_vectorizer.vocabulary_size
    for texts in (SOURCES, TARGETS):
        token_ids = model.source_vectorizer.tokenize(tf.constant(texts)).flat_values.numpy()
        assert (token_ids != model.source_vectorizer.unk_token_id).all()
    given = t5(vectorizer=model.source_vectorizer, **TINY)
    assert given.source_vectorizer is given.target_vectorizer is model.source_vectorizer


def test_tied_output_is_the_embedding_transposed_on_rescaled_outputs():
    backbone = random_model("default").backbone
    x, _, _ = teacher_forced_batch(random_model("default"), SOURCES, TARGETS)
    features = keras.Model(backbone.input, backbone.get_layer("decoder_final_norm").output)(x)
    expected = (features.numpy() * 32**-0.5) @ backbone.token_embedding.embeddings.numpy().T
    np.testing.assert_allclose(backbone(x).numpy(), expected, rtol=1e-4, atol=1e-4)


def test_decoding_is_not_bounded_by_the_training_length():
    # Relative positions: nothing was learned per absolute position.
    model = random_model("default")
    output = model.predict(SOURCES[0], max_length=80)
    assert isinstance(output, str)


def test_trains_with_adafactor_by_default():
    optimizer = random_model("default").optimizer
    assert isinstance(optimizer, keras.optimizers.Adafactor)
    assert optimizer.get_config()["learning_rate"] == pytest.approx(0.01)


def test_trains_without_label_smoothing_by_default():
    assert random_model("default").loss.label_smoothing == 0.0


def test_options_override_the_training_defaults():
    model = tiny_t5(label_smoothing=0.1, learning_rate=0.05)
    assert model.loss.label_smoothing == 0.1
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(0.05)


# === A trained model: learns two tasks from their prefixes ===
@pytest.fixture(scope="module")
def trained():
    learning.set_seed()
    model = t5(MIXTURE_INPUTS, MIXTURE_TARGETS, **{**TINY, "hidden_dim": 64})
    learning.fit_to_memorise(
        model,
        MIXTURE_INPUTS,
        MIXTURE_TARGETS,
        normalized(MIXTURE_TARGETS),
        name="t5: memorises 20 pairs in both directions",
        max_epochs=300,
        samplers=("greedy", "beam"),
    )
    return model


def test_attention_rows_are_distributions_up_to_the_end_token(trained):
    translations, attention = trained.predict(MIXTURE_INPUTS[:4], return_attention=True)
    assert translations == normalized(MIXTURE_TARGETS[:4])
    for weights in attention:
        assert weights["translation"][-1] == "[END]"
        np.testing.assert_allclose(weights["weights"].sum(-1), 1.0, atol=1e-5)


def test_missing_texts_raise_errors_naming_them():
    with pytest.raises(TypeError, match="`texts` must be a string or a list of strings"):
        t5(None, TARGETS, **TINY)
    with pytest.raises(ValueError, match="`targets` is empty"):
        t5(SOURCES, [], **TINY)
