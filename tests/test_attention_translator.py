"""Attention translators: every variant decodes like it trains and learns a known alignment."""

import functools

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests import learning
from tests.cached_decoding_checks import check_cached_decoding_equals_teacher_forcing
from tests.test_case import (
    MEMORY_SOURCES,
    MEMORY_TARGETS,
    check_export_equals_predict,
    check_steps_read_the_keys_projected_once,
    teacher_forced_batch,
    tiny_translator,
    with_moved_weights,
    without_keys,
)
from zoo.models.recurrent_translator_backbone import ATTENTIONS

SOURCES, TARGETS = MEMORY_SOURCES[:8], MEMORY_TARGETS[:8]

DECODING_VARIANTS = {
    **{name: {"attention": name} for name in ATTENTIONS},
    "luong-general-input-feeding": {"attention": "luong-general", "input_feeding": True},
    "luong-local-m-input-feeding": {"attention": "luong-local-m", "input_feeding": True},
    "bahdanau-everything": {
        "attention": "bahdanau",
        "cell": "gru",
        "num_layers": 2,
        "bidirectional": True,
        "residual": True,
        "layer_norm": True,
        "dropout": 0.1,
        "reverse_source": True,
    },
}


@pytest.mark.parametrize("options", DECODING_VARIANTS.values(), ids=DECODING_VARIANTS.keys())
def test_cached_decoding_equals_teacher_forcing_with_its_attention(options):
    model = with_moved_weights(tiny_translator(SOURCES, TARGETS, **options))
    # Each row is a distribution except under local-p attention, whose Gaussian window
    # scales the weights down (Luong et al. 2015, eq. 10).
    check_cached_decoding_equals_teacher_forcing(
        model,
        SOURCES,
        TARGETS,
        logits_atol=1e-5,
        rows_sum_to_one=options["attention"] != "luong-local",
    )


# Additive (Bahdanau), multiplicative (Luong "general") and local keys, each projected once.
PROJECTED_KEYS = ("bahdanau", "luong-general", "luong-local")


@pytest.mark.parametrize("attention", PROJECTED_KEYS)
def test_steps_read_the_keys_the_cache_holds(attention):
    model = with_moved_weights(tiny_translator(SOURCES, TARGETS, attention=attention))
    x, _, _ = teacher_forced_batch(model, SOURCES, TARGETS)
    check_steps_read_the_keys_projected_once(model.backbone, x)


@pytest.mark.parametrize("attention", PROJECTED_KEYS)
def test_greedy_and_beam_outputs_equal_those_of_keys_projected_at_every_step(
    attention, monkeypatch
):
    model = with_moved_weights(tiny_translator(SOURCES, TARGETS, attention=attention))
    x, _, _ = teacher_forced_batch(model, SOURCES, TARGETS)
    samplers = (zoo.decoding.GreedySampler(), zoo.decoding.BeamSampler(num_beams=3))

    def decode(sampler):
        generate = tf.function(
            lambda ids, mask: model.generate(ids, mask, sampler, 12, return_attention=True),
            jit_compile=True,
        )
        result = generate(x["encoder_token_ids"], x["encoder_padding_mask"])
        weights = result.cache["attention_weights"]
        return result.token_ids.numpy(), result.scores.numpy(), weights.numpy()

    outputs = [decode(sampler) for sampler in samplers]
    # Without "encoder_keys" in the cache, every step projects the keys itself.
    attention_cache = model.backbone.attention_cache
    monkeypatch.setattr(
        model.backbone,
        "attention_cache",
        lambda *args: without_keys(attention_cache(*args)),
    )
    for sampler, (token_ids, scores, weights) in zip(samplers, outputs, strict=True):
        expected_token_ids, expected_scores, expected_weights = decode(sampler)
        np.testing.assert_array_equal(token_ids, expected_token_ids)
        np.testing.assert_allclose(scores, expected_scores, atol=1e-5)
        np.testing.assert_allclose(weights, expected_weights, atol=1e-5)


# === Learning a known alignment: "a b c" -> "C B A" ===
TRAIN_SOURCES, TRAIN_TARGETS = zoo.datasets.reversal_pairs(4000, seed=0)
TEST_SOURCES, TEST_TARGETS = zoo.datasets.reversal_pairs(200, seed=1)

# Each variant's options, and the most epochs it may take to hold the bar.
ALIGNMENT_VARIANTS = {
    **{name: ({"attention": name}, 20) for name in ATTENTIONS if name != "scaled-dot"},
    # Unprojected scaled scores are softer: with the others' sizes, rate and 2,000 pairs this
    # variant stalled at 97.5% exact under seed 2, confusing repeated letters, and wider and
    # slower it hovered at 97.5-99.5% under seeds 1 and 2; with 4,000 pairs too, 99.5-100%
    # from epoch 4 under seeds 0-3 (measured).
    "scaled-dot": (
        {
            "attention": "scaled-dot",
            "embedding_dim": 64,
            "units": 128,
            "learning_rate": 0.005,
            "pairs": 4000,
        },
        40,  # its alignment climbs slowly: it met 90% after epochs 3-15 under seeds 0-3
    ),
    # The encoder reads the source backwards; the weights must still index it as written.
    "bahdanau-reversed-bidirectional": (
        {"attention": "bahdanau", "reverse_source": True, "bidirectional": True},
        20,
    ),
}


def alignment_accuracy(attention, sources):
    """Share of target letters whose strongest weight is on the source letter they reverse."""
    hits = total = 0
    for attention_map, source in zip(attention, sources, strict=True):
        length = len(source.split())
        strongest = attention_map["weights"][:length].argmax(axis=-1)
        hits += (strongest == np.arange(length)[::-1][: len(strongest)]).sum()
        total += length
    return hits / total


def reversal_measures(model):
    translations, attention = model.predict(TEST_SOURCES, return_attention=True)
    return {
        "exact": np.mean(np.array(translations) == np.array(TEST_TARGETS)),
        "alignment": alignment_accuracy(attention, TEST_SOURCES),
    }


@functools.cache
def reversal_model(variant):
    options, max_epochs = ALIGNMENT_VARIANTS[variant]
    options = {"embedding_dim": 32, "units": 64, "learning_rate": 0.01, "pairs": 2000, **options}
    learning_rate, pairs = options.pop("learning_rate"), options.pop("pairs")
    sources, targets = TRAIN_SOURCES[:pairs], TRAIN_TARGETS[:pairs]
    learning.set_seed()
    model = zoo.attention_translator(sources, targets, tokenizer_level="word", **options)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    learning.fit_to_plateau(
        model,
        sources,
        targets,
        batch_size=32,
        # Batches drawn from every length, not `fit`'s default batches of one length
        # bucket: batched by length, the scaled-dot attention settled half on the letter and
        # half on the one after it (which the unidirectional encoder's state there also
        # holds; 41-45% alignment after 12 epochs under seeds 0 and 1, at 99% exact, wider,
        # faster, bidirectional or reading reversed alike), and multi-head's alignment
        # sank from 90.3% to 88.8% under seed 1.
        length_bucket_width=None,
        name=f"reversal/{variant}",
        measure=reversal_measures,
        bars={"exact": 0.99, "alignment": 0.9},
        max_epochs=max_epochs,
    )
    return model


@learning.learning
@pytest.mark.parametrize("variant", ALIGNMENT_VARIANTS)
def test_learns_to_reverse_with_the_right_alignment(variant):
    measures = reversal_measures(reversal_model(variant))
    assert measures["exact"] >= 0.99
    assert measures["alignment"] >= 0.9


@pytest.mark.parametrize(
    "sampler", ["greedy", zoo.decoding.BeamSampler(num_beams=3)], ids=["greedy", "beam"]
)
def test_returned_attention_is_that_of_the_returned_output(sampler):
    # Under beam search, of the winning beam.
    model = reversal_model("bahdanau")
    sources = TEST_SOURCES[:6]
    translations, attention = model.predict(sources, sampler=sampler, return_attention=True)
    x, _, _ = teacher_forced_batch(model, sources, translations)
    teacher_forced = model.backbone.attention_weights(x).numpy()
    for row, attention_map in enumerate(attention):
        assert attention_map["source"] == [*sources[row].split(), "[END]"]
        assert attention_map["translation"] == [*translations[row].split(), "[END]"]
        rows, columns = attention_map["weights"].shape
        np.testing.assert_allclose(
            attention_map["weights"], teacher_forced[row, :rows, :columns], atol=1e-5
        )


def test_single_input_gives_one_map_that_plots():
    model = reversal_model("bahdanau")
    translation, scores, attention = model.predict(
        "a b c", return_scores=True, return_attention=True
    )
    assert translation == "C B A" and scores.shape == ()
    assert attention["source"] == ["a", "b", "c", "[END]"]
    figure = zoo.plot_attention(**attention)
    assert [label.get_text() for label in figure.axes[0].get_xticklabels()] == attention["source"]


@pytest.mark.parametrize("sampler", [None, zoo.decoding.BeamSampler(num_beams=3)])
def test_export_equals_predict_in_every_signature(sampler, tmp_path):
    model = reversal_model("luong-general")
    sources = [*TEST_SOURCES[:5], ""]
    check_export_equals_predict(model, tmp_path / "export", sources, sampler)


def test_keras_file_round_trip_predicts_identically(tmp_path):
    model = reversal_model("luong-local")
    model.save(tmp_path / "model.keras")
    restored = zoo.load(tmp_path / "model.keras")
    assert restored.backbone.attention == "luong-local"
    translations, attention = model.predict(TEST_SOURCES[:8], return_attention=True)
    restored_translations, restored_attention = restored.predict(
        TEST_SOURCES[:8], return_attention=True
    )
    assert restored_translations == translations
    for original, loaded in zip(attention, restored_attention, strict=True):
        np.testing.assert_array_equal(original["weights"], loaded["weights"])


def test_bad_attention_options_raise_errors_naming_them():
    with pytest.raises(ValueError, match=r"`attention`.*'luong'"):
        tiny_translator(SOURCES, TARGETS, attention="luong")
    with pytest.raises(ValueError, match=r"`attention`.*None.*zoo.lstm_translator"):
        zoo.attention_translator(SOURCES, TARGETS, attention=None)
    with pytest.raises(ValueError, match=r"`input_feeding`.*attention=None"):
        tiny_translator(SOURCES, TARGETS, input_feeding=True)
    with pytest.raises(ValueError, match=r"`num_heads`.*64.*3"):
        tiny_translator(SOURCES, TARGETS, attention="multi-head", num_heads=3)
    with pytest.raises(ValueError, match=r"`return_attention=True`.*attention_translator"):
        tiny_translator(SOURCES, TARGETS).predict("Hi.", return_attention=True)


def test_catalog_builds_the_attention_configurations():
    for name, attention in (
        ("attention-bahdanau", "bahdanau"),
        ("attention-luong-general", "luong-general"),
    ):
        backbone = zoo.build(name, SOURCES, TARGETS, units=32, embedding_dim=16).backbone
        assert (backbone.attention, backbone.units, backbone.embedding_dim) == (attention, 32, 16)
