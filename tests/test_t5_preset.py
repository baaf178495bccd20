"""t5_from_preset: a keras-hub T5 preset written here loads into zoo's T5, computes the logits
keras-hub computes, decodes as a greedy loop over keras-hub's model does, tokenizes as its
tokenizer does, and saves, reloads and exports like any zoo model."""

import functools
import io
import json
import shutil

import keras
import keras_hub
import numpy as np
import pytest
import sentencepiece
import tensorflow as tf

import zoo
from tests.test_case import (
    MEMORY_SOURCES,
    MEMORY_TARGETS,
    check_export_equals_predict,
    reference_greedy_decoding,
)
from zoo.models import T5Backbone
from zoo.models.t5_preset import _copy_weights
from zoo.text import SentencePieceVectorizer

SOURCES, TARGETS = MEMORY_SOURCES[:8], MEMORY_TARGETS[:8]
TINY = {
    "vocabulary_size": 100,
    "num_layers": 2,
    "hidden_dim": 16,
    "num_heads": 2,
    "intermediate_dim": 32,
    "dropout": 0.0,
}
HUB_CONFIGS = {
    "t5-relu-tied": {
        "activation": "relu",
        "use_gated_activation": False,
        "tie_embedding_weights": True,
    },
    "t5.1.1-gated-gelu-untied": {
        "activation": "gelu",
        "use_gated_activation": True,
        "tie_embedding_weights": False,
        "layer_norm_epsilon": 0.1,  # large enough to change the logits if it were dropped
    },
}
BUILTIN_NAMES = ("t5_small_multi", "t5_1.1_small")
# predict's default max_length is sequence_length - 1: every test decodes 8 tokens.
SEQUENCE_LENGTH = 9


def sentencepiece_proto():
    """A SentencePiece model of T5's conventions, trained on the shipped sentences."""
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(MEMORY_SOURCES + MEMORY_TARGETS),
        model_writer=model,
        vocab_size=TINY["vocabulary_size"],
        character_coverage=1.0,
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        pad_piece="<pad>",
        eos_piece="</s>",
        unk_piece="<unk>",
        minloglevel=2,
    )
    return model.getvalue()


def randomize(backbone, rng):
    """Draws every weight afresh: larger than keras-hub's initialisation, under which a tiny
    T5 decodes one token over and over whatever the source, and with norm scales that differ
    from one another, so that a swapped mapping shows."""
    for weight in backbone.weights:
        if len(weight.shape) == 1:  # a norm's scale
            value = rng.normal(1.0, 0.3, weight.shape)
        elif weight.path.endswith("embeddings"):  # token embeddings and position buckets
            value = rng.normal(0.0, 2.0, weight.shape)
        else:
            value = rng.normal(0.0, 2.0 * weight.shape[0] ** -0.5, weight.shape)
        weight.assign(value)


@pytest.fixture(scope="module")
def presets(tmp_path_factory):
    """name -> (preset directory, keras-hub backbone, keras-hub tokenizer), one per config.

    Each directory is named like one of keras-hub's built-in presets, which keras-hub
    downloads when it is given the bare name.
    """
    tokenizer = keras_hub.models.T5Tokenizer(proto=sentencepiece_proto())
    rng = np.random.default_rng(0)
    presets = {}
    for (name, options), builtin_name in zip(HUB_CONFIGS.items(), BUILTIN_NAMES, strict=True):
        keras.utils.set_random_seed(0)
        backbone = keras_hub.models.T5Backbone(**TINY, **options)
        randomize(backbone, rng)
        directory = tmp_path_factory.mktemp(name) / builtin_name
        backbone.save_to_preset(str(directory))
        tokenizer.save_to_preset(str(directory))
        presets[name] = directory, backbone, tokenizer
    return presets


@pytest.fixture(scope="module")
def models(presets):
    """name -> the zoo model loaded from that preset, by its bare directory name: read from
    disk, or every test that compares it with keras-hub's model would fail."""
    models = {}
    for name, (directory, _, _) in presets.items():
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(directory.parent)
            models[name] = zoo.t5_from_preset(directory.name, sequence_length=SEQUENCE_LENGTH)
    return models


def hub_logits(backbone, x):
    """keras-hub's logits, computed as `keras_hub.models.T5Seq2SeqLM` computes them."""
    hidden = backbone({name: np.asarray(value, "int32") for name, value in x.items()})
    hidden = hidden["decoder_sequence_output"]
    if backbone.tie_embedding_weights:
        hidden = hidden * backbone.hidden_dim**-0.5
    return keras.ops.convert_to_numpy(backbone.token_embedding(hidden, reverse=True))


@pytest.mark.parametrize("name", HUB_CONFIGS)
def test_backbone_config_follows_the_preset(models, name):
    backbone = models[name].backbone
    gated, tied = (
        HUB_CONFIGS[name][key] for key in ("use_gated_activation", "tie_embedding_weights")
    )
    assert isinstance(backbone, T5Backbone)
    assert backbone.feed_forward == ("gated-gelu-exact" if gated else "relu")
    assert backbone.tie_embeddings == tied
    assert backbone.num_decoder_layers == TINY["num_layers"]
    assert backbone.layer_norm_epsilon == HUB_CONFIGS[name].get("layer_norm_epsilon", 1e-6)


@pytest.mark.parametrize("name", HUB_CONFIGS)
def test_logits_equal_keras_hub(models, presets, name):
    model, hub_backbone = models[name], presets[name][1]
    x, _, _ = model.preprocess(tf.constant(SOURCES), tf.constant(TARGETS))
    x = {key: value.numpy() for key, value in x.items()}
    ours = model.backbone(x).numpy()
    theirs = hub_logits(hub_backbone, x)
    real = x["decoder_padding_mask"]
    assert real.sum() > real.shape[0]  # several real positions per row, padding elsewhere
    assert np.abs(ours - theirs)[real].max() < 1e-4


def test_zoo_from_preset_loads_a_keras_hub_t5_preset(models, presets):
    model = models["t5-relu-tied"]
    loaded = zoo.from_preset(presets["t5-relu-tied"][0], dtype=None)
    assert isinstance(loaded.source_vectorizer, SentencePieceVectorizer)
    x, _, _ = model.preprocess(tf.constant(SOURCES), tf.constant(TARGETS))
    x = {key: value.numpy() for key, value in x.items()}
    np.testing.assert_array_equal(loaded.backbone(x).numpy(), model.backbone(x).numpy())


def greedy_decoding(model):
    """What the model's greedy sampler decodes for SOURCES (eagerly): (token ids, scores)."""
    token_ids, padding_mask = model.source_vectorizer(tf.constant(SOURCES), add_start=False)
    result = model.generate(token_ids, padding_mask, max_length=SEQUENCE_LENGTH - 1)
    return result.token_ids.numpy(), result.scores.numpy()


@pytest.mark.parametrize("name", HUB_CONFIGS)
def test_greedy_decoding_equals_a_greedy_loop_over_keras_hub(models, presets, name):
    model, hub_backbone = models[name], presets[name][1]
    token_ids, padding_mask = model.source_vectorizer(tf.constant(SOURCES), add_start=False)
    encoder_inputs = {
        "encoder_token_ids": token_ids.numpy(),
        "encoder_padding_mask": padding_mask.numpy(),
    }
    expected, expected_scores = reference_greedy_decoding(
        functools.partial(hub_logits, hub_backbone),
        encoder_inputs,
        model.target_vectorizer,
        SEQUENCE_LENGTH - 1,
    )
    # A model whose output depends on the source and varies along it.
    assert len({tuple(row) for row in expected}) > 1 and len(set(expected.ravel())) > 3
    token_ids, scores = greedy_decoding(model)
    np.testing.assert_array_equal(token_ids, expected)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-4)


def test_tokenization_equals_keras_hub(models, presets):
    vectorizer = models["t5-relu-tied"].source_vectorizer
    hub_tokenizer = presets["t5-relu-tied"][2]
    texts = tf.constant(SOURCES + TARGETS)
    assert vectorizer.tokenize(texts).to_list() == hub_tokenizer(texts)  # lists, eagerly
    assert vectorizer.vocabulary == hub_tokenizer.get_vocabulary()

    token_ids, padding_mask = SentencePieceVectorizer(vectorizer.proto, sequence_length=64)(
        tf.constant(SOURCES)
    )
    assert [text.decode() for text in vectorizer.detokenize(token_ids).numpy()] == SOURCES
    # T5 starts decoding from the pad token: a real token, where the mask must say so.
    assert (token_ids.numpy()[:, 0] == 0).all() and padding_mask.numpy()[:, 0].all()


def test_teacher_forcing_starts_from_the_pad_token(models):
    x, y, sample_weight = models["t5-relu-tied"].preprocess(
        tf.constant(SOURCES[:2]), tf.constant(TARGETS[:2])
    )
    assert (x["decoder_token_ids"].numpy()[:, 0] == 0).all()
    assert x["decoder_padding_mask"].numpy()[:, 0].all()
    # Each label row ends with the end token, weighted, then padding, unweighted.
    lengths = sample_weight.numpy().sum(axis=1).astype(int)
    assert [row[length - 1] for row, length in zip(y.numpy(), lengths, strict=True)] == [1, 1]


def test_predict_writes_what_greedy_decoding_writes(models):
    model = models["t5.1.1-gated-gelu-untied"]
    # predict's compiled decoding writes what the greedy test compared with keras-hub's.
    detokenized = model.target_vectorizer.detokenize(greedy_decoding(model)[0]).numpy()
    assert model.predict(SOURCES) == [text.decode() for text in detokenized]


def test_keras_file_round_trip_predicts_identically(models, tmp_path):
    model = models["t5.1.1-gated-gelu-untied"]
    model.save(tmp_path / "t5.keras")
    loaded = zoo.load(tmp_path / "t5.keras")
    assert isinstance(loaded.source_vectorizer, SentencePieceVectorizer)
    assert loaded.source_vectorizer is loaded.target_vectorizer
    assert loaded.predict(SOURCES) == model.predict(SOURCES)


def test_export_equals_predict(models, tmp_path):
    check_export_equals_predict(models["t5.1.1-gated-gelu-untied"], tmp_path / "export", SOURCES)


@pytest.fixture(scope="module")
def mixed_bfloat16_models(presets):
    return {
        name: zoo.t5_from_preset(directory, sequence_length=SEQUENCE_LENGTH, dtype="mixed_bfloat16")
        for name, (directory, _, _) in presets.items()
    }


@pytest.mark.parametrize("name", HUB_CONFIGS)
def test_a_mixed_bfloat16_model_takes_the_same_weights(models, mixed_bfloat16_models, name):
    backbone, reference = mixed_bfloat16_models[name].backbone, models[name].backbone
    for weight, reference_weight in zip(backbone.weights, reference.weights, strict=True):
        assert weight.dtype == "float32"
        np.testing.assert_array_equal(weight.numpy(), reference_weight.numpy())


@pytest.mark.parametrize("name", HUB_CONFIGS)
def test_a_mixed_bfloat16_model_computes_in_bfloat16(models, presets, mixed_bfloat16_models, name):
    model = mixed_bfloat16_models[name]
    backbone, reference = model.backbone, models[name].backbone
    assert backbone.dtype_policy.name == "mixed_bfloat16"
    layers = backbone._flatten_layers(include_self=False)
    policies = {layer.dtype_policy.name for layer in layers if layer.weights}
    assert policies == {"mixed_bfloat16"}
    x, _, _ = model.preprocess(tf.constant(SOURCES), tf.constant(TARGETS))
    x = {key: value.numpy() for key, value in x.items()}
    logits = backbone(x)
    assert logits.dtype == "float32"
    real = x["decoder_padding_mask"]
    error = np.abs(logits.numpy() - reference(x).numpy())[real].mean()
    # These large random weights make the logits sensitive to rounding: keras-hub's own
    # model strays as far from its float32 logits under the same policy.
    hub_backbone = keras_hub.models.T5Backbone.from_preset(
        str(presets[name][0]), dtype="mixed_bfloat16"
    )
    hub_bfloat16 = hub_logits(hub_backbone, x).astype("float32")
    hub_error = np.abs(hub_bfloat16 - hub_logits(presets[name][1], x))[real].mean()
    assert 0 < error < 1.5 * hub_error


def test_attention_maps_are_cut_at_the_sentencepiece_reserved_tokens(models):
    model = models["t5-relu-tied"]
    _, attention = model.predict(SOURCES[:2], return_attention=True)
    for text, maps in zip(SOURCES[:2], attention, strict=True):
        source_ids = model.source_vectorizer(tf.constant([text]), add_start=False)[0]
        assert maps["source"] == [
            token.decode() for token in model.source_vectorizer.id_to_token(source_ids[0]).numpy()
        ]
        assert maps["source"][-1] == "</s>" and "<pad>" not in maps["translation"]
        assert maps["weights"].shape == (len(maps["translation"]), len(maps["source"]))


def test_errors_name_the_path_and_what_was_found(presets, tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="nowhere.*does not exist"):
        zoo.t5_from_preset(missing)

    (tmp_path / "notes.txt").write_text("not a preset")
    with pytest.raises(ValueError, match=r"lacks \['config.json'.*holds \['notes.txt'\]"):
        zoo.t5_from_preset(tmp_path)

    bert = tmp_path / "bert"
    shutil.copytree(presets["t5-relu-tied"][0], bert)
    config = json.loads((bert / "config.json").read_text())
    (bert / "config.json").write_text(
        json.dumps({**config, "registered_name": "keras_hub>BertBackbone"})
    )
    with pytest.raises(ValueError, match="bert.*config.json describes 'keras_hub>BertBackbone'"):
        zoo.t5_from_preset(bert)


def test_weights_that_do_not_match_fail_loudly(presets):
    hub_backbone = presets["t5-relu-tied"][1]
    options = {
        "num_encoder_layers": 2,
        "num_decoder_layers": 2,
        "num_heads": 2,
        "intermediate_dim": 32,
    }
    with pytest.raises(ValueError, match="'token_embedding.embeddings' has shape"):
        _copy_weights(hub_backbone, T5Backbone(100, hidden_dim=8, **options))
    with pytest.raises(ValueError, match="'output_projection.kernel'.*no counterpart"):
        _copy_weights(hub_backbone, T5Backbone(100, hidden_dim=16, tie_embeddings=False, **options))
