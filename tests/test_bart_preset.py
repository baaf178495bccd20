"""bart_from_preset: a keras-hub BART preset written here loads into zoo's BART, packs and
tokenizes as keras-hub does, computes its logits, decodes as a greedy loop over keras-hub's
model does, and saves, reloads, exports and pre-trains like any zoo model."""

import functools
import json
import shutil

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf
from tokenizers import ByteLevelBPETokenizer

import zoo
from tests.test_case import (
    MEMORY_SOURCES,
    MEMORY_TARGETS,
    check_export_equals_predict,
    reference_greedy_decoding,
)
from zoo.models import BartBackbone
from zoo.models.bart_preset import copy_weights
from zoo.tasks import TextInfilling
from zoo.text import BytePairVectorizer

SOURCES, TARGETS = MEMORY_SOURCES[:8], MEMORY_TARGETS[:8]
TINY = {
    "num_layers": 2,
    "num_heads": 2,
    "hidden_dim": 16,
    "intermediate_dim": 32,
    "dropout": 0.0,
    "max_sequence_length": 32,
}
# predict's default max_length is sequence_length - 1: every test decodes 11 tokens.
SEQUENCE_LENGTH = 12
BEGIN, PAD, END = 0, 1, 2  # "<s>", "<pad>", "</s>", as in BART's vocabulary


def byte_pair_vocabulary():
    """(vocabulary, merges) of BART's conventions, learned from the shipped sentences: the
    reserved tokens first, every byte, the merges, and "<mask>" last."""
    learner = ByteLevelBPETokenizer()
    learner.train_from_iterator(
        MEMORY_SOURCES + MEMORY_TARGETS,
        vocab_size=400,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        show_progress=False,
    )
    vocabulary = learner.get_vocab()
    merges = json.loads(learner.to_str())["model"]["merges"]
    merges = [merge if isinstance(merge, str) else " ".join(merge) for merge in merges]
    return {**vocabulary, "<mask>": len(vocabulary)}, merges


def randomize(backbone, rng):
    """Draws every weight afresh so that greedy decoding varies with the source and along
    the output: under BART's initialisation a tiny model writes one token whatever the
    source, and with the tied output projection a decoder whose residual stream is mostly
    its input embedding writes its input again. So: large positions and sub-layers, norm
    scales that differ from one another (a swapped mapping shows), no biases."""
    for weight in backbone.weights:
        if weight.path.endswith("gamma"):
            value = rng.normal(1.0, 0.3, weight.shape)
        elif len(weight.shape) == 1:  # biases and norm offsets
            value = np.zeros(weight.shape)
        elif "position" in weight.path:
            value = rng.normal(0.0, 5.0, weight.shape)
        elif "embedding" in weight.path:
            value = rng.normal(0.0, 1.0, weight.shape)
        else:
            value = rng.normal(0.0, 3.0 * weight.shape[0] ** -0.5, weight.shape)
        weight.assign(value)


@pytest.fixture(scope="module")
def preset(tmp_path_factory):
    """(directory, keras-hub backbone, keras-hub tokenizer); the directory is named like one
    of keras-hub's built-in presets, which keras-hub downloads given the bare name."""
    vocabulary, merges = byte_pair_vocabulary()
    tokenizer = keras_hub.models.BartTokenizer(vocabulary=vocabulary, merges=merges)
    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.BartBackbone(vocabulary_size=len(vocabulary), **TINY)
    randomize(backbone, np.random.default_rng(0))
    directory = tmp_path_factory.mktemp("bart") / "bart_base_en"
    backbone.save_to_preset(str(directory))
    tokenizer.save_to_preset(str(directory))
    return directory, backbone, tokenizer


@pytest.fixture(scope="module")
def model(preset):
    """The zoo model, loaded by the bare directory name: read from disk, or every test that
    compares it with keras-hub's model would fail."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(preset[0].parent)
        return zoo.bart_from_preset(preset[0].name, sequence_length=SEQUENCE_LENGTH)


def hub_logits(backbone, x):
    """keras-hub's logits, as `keras_hub.models.BartSeq2SeqLM` computes them."""
    hidden = backbone({name: np.asarray(value, "int32") for name, value in x.items()})
    hidden = hidden["decoder_sequence_output"]
    return keras.ops.convert_to_numpy(backbone.token_embedding(hidden, reverse=True))


def teacher_forced(model, sources=SOURCES, targets=TARGETS):
    x, y, sample_weight = model.preprocess(tf.constant(sources), tf.constant(targets))
    return {key: value.numpy() for key, value in x.items()}, y.numpy(), sample_weight.numpy()


def test_texts_are_packed_as_keras_hubs_bart_preprocessor_packs_them(model, preset):
    x, y, sample_weight = teacher_forced(model, SOURCES[:1], TARGETS[:1])
    pieces = {
        side: preset[2](text) for side, text in (("source", SOURCES[0]), ("target", TARGETS[0]))
    }
    # Cut to SEQUENCE_LENGTH tokens: the source keeps room for "</s>", the target for both.
    source, target = [BEGIN, *pieces["source"]], [BEGIN, *pieces["target"]]
    assert len(target) > SEQUENCE_LENGTH
    assert x["encoder_token_ids"][0].tolist() == [*source[: SEQUENCE_LENGTH - 1], END]
    assert x["decoder_token_ids"][0].tolist() == [END, *target[: SEQUENCE_LENGTH - 2]]
    assert y[0].tolist() == [*target[: SEQUENCE_LENGTH - 2], END]
    assert sample_weight.all()


def test_logits_equal_keras_hub(model, preset):
    x, _, _ = teacher_forced(model)
    real = x["decoder_padding_mask"]
    assert real.sum() > real.shape[0] and not real.all()  # real tokens and padding
    ours = model.backbone(x).numpy()
    assert np.abs(ours - hub_logits(preset[1], x))[real].max() < 1e-4


def greedy_decoding(model):
    """What the model's greedy sampler decodes for SOURCES (eagerly): (token ids, scores)."""
    token_ids, padding_mask = model.source_vectorizer(tf.constant(SOURCES), add_start=False)
    result = model.generate(token_ids, padding_mask, max_length=SEQUENCE_LENGTH - 1)
    return result.token_ids.numpy(), result.scores.numpy()


def test_greedy_decoding_equals_a_greedy_loop_over_keras_hub(model, preset):
    token_ids, padding_mask = model.source_vectorizer(tf.constant(SOURCES), add_start=False)
    encoder_inputs = {
        "encoder_token_ids": token_ids.numpy(),
        "encoder_padding_mask": padding_mask.numpy(),
    }
    expected, expected_scores = reference_greedy_decoding(
        functools.partial(hub_logits, preset[1]),
        encoder_inputs,
        model.target_vectorizer,
        SEQUENCE_LENGTH - 1,
    )
    # Random BART weights tend to repeat their first token (the tied output projection
    # favours the input's embedding), so the tokens show the source's effect and the
    # scores, summed over every step, the position's.
    assert len({tuple(row) for row in expected}) > 1
    token_ids, scores = greedy_decoding(model)
    np.testing.assert_array_equal(token_ids, expected)
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-4)


def test_tokenization_equals_keras_hub(model, preset):
    vectorizer, hub_tokenizer = model.source_vectorizer, preset[2]
    texts = SOURCES + TARGETS + ["Ünïcödé, \u00a0spaces  and émojis 🙂."]
    expected = [[BEGIN, *hub_tokenizer(text)] for text in texts]
    assert vectorizer.tokenize(tf.constant(texts)).to_list() == expected
    size = hub_tokenizer.vocabulary_size()
    assert vectorizer.vocabulary == [hub_tokenizer.id_to_token(index) for index in range(size)]
    token_ids, _ = BytePairVectorizer(vectorizer.vocabulary, vectorizer.merges, 64)(
        tf.constant(texts), add_start=False
    )
    assert [text.decode() for text in vectorizer.detokenize(token_ids).numpy()] == texts
    assert vectorizer.id_to_token(tf.constant([BEGIN, PAD, END])).numpy().tolist() == [
        b"<s>",
        b"<pad>",
        b"</s>",
    ]


def test_zoo_from_preset_loads_a_keras_hub_bart_preset(model, preset):
    loaded = zoo.from_preset(preset[0], dtype=None)
    assert isinstance(loaded.backbone, BartBackbone)
    x, _, _ = teacher_forced(model)
    np.testing.assert_array_equal(loaded.backbone(x).numpy(), model.backbone(x).numpy())


def test_predict_writes_what_greedy_decoding_writes(model):
    detokenized = model.target_vectorizer.detokenize(greedy_decoding(model)[0]).numpy()
    assert model.predict(SOURCES) == [text.decode() for text in detokenized]


def test_keras_file_round_trip_predicts_identically(model, tmp_path):
    model.save(tmp_path / "bart.keras")
    loaded = zoo.load(tmp_path / "bart.keras")
    assert isinstance(loaded.source_vectorizer, BytePairVectorizer)
    assert loaded.source_vectorizer is loaded.target_vectorizer
    assert loaded.predict(SOURCES) == model.predict(SOURCES)


def test_preset_round_trip_predicts_identically(model, tmp_path):
    model.save_to_preset(tmp_path / "preset")
    loaded = zoo.from_preset(tmp_path / "preset", dtype=None)
    assert loaded.predict(SOURCES) == model.predict(SOURCES)


def test_export_equals_predict(model, tmp_path):
    check_export_equals_predict(model, tmp_path / "export", SOURCES)


PRETRAINING_TEXTS = [f"{source} {target}" for source, target in zip(SOURCES, TARGETS, strict=True)]


@pytest.fixture(scope="module")
def pretraining_batch(model):
    """One text-infilling batch of PRETRAINING_TEXTS: (x, y, sample_weight)."""
    keras.utils.set_random_seed(0)
    batches = TextInfilling().batches(model, PRETRAINING_TEXTS, batch_size=len(PRETRAINING_TEXTS))
    return next(iter(batches))


def test_pretraining_keeps_the_first_token(pretraining_batch):
    x, _, _ = pretraining_batch
    assert (x["encoder_token_ids"].numpy()[:, 0] == BEGIN).all()


def test_pretraining_masks_with_barts_mask(model, pretraining_batch):
    x, _, _ = pretraining_batch
    mask_id = model.target_vectorizer.mask_token_id
    assert (x["encoder_token_ids"].numpy() == mask_id).any(axis=1).all()


def test_pretraining_labels_are_the_texts_as_the_decoder_writes_them(model, pretraining_batch):
    _, y, sample_weight = pretraining_batch
    vectorizer = model.target_vectorizer
    cut = vectorizer.detokenize(vectorizer(tf.constant(PRETRAINING_TEXTS))[0][:, 1:])
    assert sorted(vectorizer.detokenize(y.numpy()).numpy()) == sorted(cut.numpy())
    assert (y.numpy()[:, 0] == BEGIN).all() and sample_weight.numpy()[:, 0].all()


def test_errors_name_the_path_and_what_was_found(preset, tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.*does not exist"):
        zoo.bart_from_preset(tmp_path / "nowhere")

    (tmp_path / "notes.txt").write_text("not a preset")
    with pytest.raises(ValueError, match=r"not a keras-hub Bart preset.*lacks \['config.json'"):
        zoo.bart_from_preset(tmp_path)

    t5 = tmp_path / "t5"
    shutil.copytree(preset[0], t5)
    config = json.loads((t5 / "config.json").read_text())
    (t5 / "config.json").write_text(
        json.dumps({**config, "registered_name": "keras_hub>T5Backbone"})
    )
    with pytest.raises(ValueError, match="t5.*config.json describes 'keras_hub>T5Backbone'"):
        zoo.bart_from_preset(t5)
    (t5 / "config.json").write_text(
        json.dumps({**config, "registered_name": "keras_hub>BertBackbone"})
    )
    with pytest.raises(ValueError, match="config.json names 'keras_hub>BertBackbone'"):
        zoo.from_preset(t5)

    with pytest.raises(ValueError, match="`sequence_length`.*at most the preset's 32.*64"):
        zoo.bart_from_preset(preset[0], sequence_length=64)


def test_weights_that_do_not_match_fail_loudly(preset):
    hub_backbone = preset[1]
    vocabulary_size = hub_backbone.vocabulary_size
    options = {"num_heads": 2, "intermediate_dim": 32, "max_sequence_length": 32}
    with pytest.raises(ValueError, match="embeddings.*has shape"):
        copy_weights(hub_backbone, BartBackbone(vocabulary_size, 2, 2, hidden_dim=8, **options))
    with pytest.raises(ValueError, match="no counterpart"):
        copy_weights(hub_backbone, BartBackbone(vocabulary_size, 1, 1, hidden_dim=16, **options))


@pytest.mark.parametrize(
    ("vocabulary", "merges", "message"),
    [
        (
            {"<s>": 0, "<pad>": 1, "</s>": 2, "a": 3},
            [],
            r"lacks BART's reserved tokens \['<mask>'\]",
        ),
        ({"<s>": 0, "<pad>": 1, "</s>": 2, "<mask>": 5}, [], "ids must be 0 to its size - 1"),
        (["<s>", "<pad>", "</s>", "<mask>"], "a b", "`merges` must be a list of str"),
        ("vocabulary.json", [], "`vocabulary` must be a dict"),
    ],
)
def test_a_bad_byte_pair_vocabulary_is_named(vocabulary, merges, message):
    with pytest.raises(ValueError, match=message):
        BytePairVectorizer(vocabulary, merges)
