"""Presets: save_to_preset -> zoo.from_preset gives back the model (logits and translations),
compiled as it was; the directory is keras-hub's layout; bad names, directories and
arguments get clear errors and never cost a user's files; every shipped preset translates
as recorded at training time and scores its card's BLEU, without the network."""

import json
import os
import socket

import h5py
import numpy as np
import pytest

import zoo
from tests.test_case import (
    MEMORY_SOURCES,
    MEMORY_TARGETS,
    teacher_forced_batch,
    with_moved_weights,
)
from zoo.datasets.keyword_documents import keyword_documents
from zoo.preset import format as preset_format

SOURCES, TARGETS = MEMORY_SOURCES[:8], MEMORY_TARGETS[:8]
TINY = {"num_layers": 1, "hidden_dim": 16, "num_heads": 2, "intermediate_dim": 32}
SHIPPED = sorted(zoo.presets())
MAX_PRESET_BYTES = 25 * 2**20


@pytest.fixture(scope="module")
def models():
    """A T5 (one shared vocabulary) and a Transformer (two), trained a little so that their
    weights are not the initial ones."""
    models = {
        "t5": zoo.t5(SOURCES, TARGETS, vocabulary_size=120, sentinels=0, **TINY),
        "transformer": zoo.transformer(SOURCES, TARGETS, vocabulary_size=120, **TINY),
    }
    for model in models.values():
        model.fit(SOURCES, TARGETS, epochs=3, verbose=0)
    return models


def logits(model):
    x, _, _ = teacher_forced_batch(model, SOURCES, TARGETS)
    return np.asarray(model.backbone(x, training=False), "float32")


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a preset tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.mark.parametrize("family", ["t5", "transformer"])
def test_round_trip_equals_the_saved_model(models, family, tmp_path, no_network):
    model = models[family]
    model.save_to_preset(tmp_path / "preset")
    loaded = zoo.from_preset(tmp_path / "preset", dtype=None)
    np.testing.assert_array_equal(logits(loaded), logits(model))
    assert loaded.predict(SOURCES) == model.predict(SOURCES)
    assert type(loaded.optimizer) is type(model.optimizer)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    shared = loaded.source_vectorizer is loaded.target_vectorizer
    assert shared == (model.source_vectorizer is model.target_vectorizer)


IMAGES, CAPTIONS = zoo.datasets.shapes_captions(4, seed=0, image_size=32)
DOCUMENTS, LABELS = keyword_documents(8, seed=0)
# The other task kinds, each with what it predicts from and how its outputs are scored.
OTHER_TASKS = {
    "captioner": (
        lambda: zoo.image_captioner(
            IMAGES, CAPTIONS, image_size=32, encoder_filters=(8, 16), embedding_dim=8, units=16
        ),
        IMAGES,
        {"return_scores": True},
    ),
    "classifier": (
        lambda: zoo.hierarchical_attention_classifier(
            DOCUMENTS, LABELS, embedding_dim=8, units=8, max_sentences=4, max_words=8
        ),
        DOCUMENTS,
        {"return_probabilities": True},
    ),
}


@pytest.mark.parametrize("task", sorted(OTHER_TASKS))
def test_other_task_kinds_round_trip(task, tmp_path):
    build, inputs, scored = OTHER_TASKS[task]
    model = with_moved_weights(build())
    model.save_to_preset(tmp_path / "preset")
    loaded = zoo.from_preset(tmp_path / "preset", dtype=None)
    assert type(loaded) is type(model)
    outputs, scores = model.predict(inputs, **scored)
    loaded_outputs, loaded_scores = loaded.predict(inputs, **scored)
    assert loaded_outputs == outputs
    np.testing.assert_array_equal(loaded_scores, scores)


def test_float16_weights_load_within_half_precision(models, tmp_path):
    model = models["transformer"]
    model.save_to_preset(tmp_path / "preset", weights_dtype="float16")
    with h5py.File(tmp_path / "preset" / "model.weights.h5") as weights:
        dtypes = set()
        weights.visititems(lambda _, item: dtypes.add(getattr(item, "dtype", None)))
    assert dtypes - {None} == {np.dtype("float16")}
    loaded = zoo.from_preset(tmp_path / "preset", dtype=None)
    assert {variable.dtype for variable in loaded.backbone.weights} == {"float32"}
    for saved, restored in zip(model.backbone.weights, loaded.backbone.weights, strict=True):
        value = np.asarray(saved)
        np.testing.assert_array_equal(np.asarray(restored), value.astype("float16"))


def test_layout_is_keras_hubs(models, tmp_path):
    model = models["transformer"]
    model.save_to_preset(tmp_path / "preset", metadata={"test_bleu": 12.5})
    preset = tmp_path / "preset"
    assert sorted(os.listdir(preset)) == sorted([*preset_format.PRESET_FILES, "assets"])
    config = json.loads((preset / "config.json").read_text())
    assert config["class_name"] == "TransformerBackbone"
    assert config["registered_name"] == "zoo>TransformerBackbone"
    for side in ("source_vectorizer", "target_vectorizer"):
        lines = (preset / "assets" / side / "vocabulary.txt").read_text("utf-8").splitlines()
        assert lines == getattr(model, side).vocabulary
    metadata = json.loads((preset / "metadata.json").read_text())
    assert metadata["parameter_count"] == model.backbone.count_params()
    assert metadata["weights_dtype"] == "float32"
    assert metadata["test_bleu"] == 12.5
    card = (preset / "card.md").read_text()
    assert f"{model.backbone.count_params():,} parameters" in card


def test_dtype_picks_the_loaded_models_policy(models, tmp_path):
    models["t5"].save_to_preset(tmp_path / "preset")
    loaded = zoo.from_preset(tmp_path / "preset", dtype="mixed_bfloat16")
    assert loaded.backbone.dtype_policy.name == "mixed_bfloat16"


def test_saving_never_overwrites(models, tmp_path):
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="`path` must be a new or empty directory"):
        models["t5"].save_to_preset(occupied)
    assert os.listdir(occupied) == ["notes.txt"]
    assert (occupied / "notes.txt").read_text() == "mine"


def test_a_failed_save_leaves_nothing_half_written(models, tmp_path, monkeypatch):
    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(preset_format, "_write_json", fail)
    with pytest.raises(OSError, match="disk full"):
        models["t5"].save_to_preset(tmp_path / "new")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"weights_dtype": "int8"}, r"`weights_dtype` must be one of .* got 'int8'"),
        ({"card": 3}, "`card` must be a str of Markdown or None, got int"),
    ],
)
def test_bad_saving_arguments(models, tmp_path, arguments, message):
    with pytest.raises(ValueError, match=message):
        models["t5"].save_to_preset(tmp_path / "preset", **arguments)
    assert not (tmp_path / "preset").exists()


def test_unknown_name_lists_the_shipped_presets():
    with pytest.raises(ValueError, match="Unknown preset 'tatoeba_t5_en_de'") as error:
        zoo.from_preset("tatoeba_t5_en_de")
    assert f"Shipped presets: {SHIPPED}" in str(error.value)


def test_directory_that_is_not_a_preset_names_what_it_lacks(models, tmp_path):
    models["t5"].save_to_preset(tmp_path / "preset")
    (tmp_path / "preset" / "task.json").unlink()
    (tmp_path / "preset" / "card.md").unlink()
    with pytest.raises(ValueError, match=r"is not a zoo preset: it lacks \['task.json', 'card"):
        zoo.from_preset(tmp_path / "preset")


def test_preset_of_the_wrong_type():
    with pytest.raises(ValueError, match="`preset` must be a preset name or a directory, got int"):
        zoo.from_preset(3)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_preset_translates_as_recorded(name, no_network):
    model = zoo.from_preset(name, dtype="float32")
    examples = json.loads((preset_format.SHIPPED / name / "metadata.json").read_text())["examples"]
    assert model.predict(list(examples)) == list(examples.values())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_preset_scores_its_cards_bleu(name):
    metadata = json.loads((preset_format.SHIPPED / name / "metadata.json").read_text())
    test_pairs = zoo.datasets.load_translation(
        "tatoeba",
        "test",
        source_language=metadata["source_language"],
        target_language=metadata["target_language"],
    )
    bleu = zoo.from_preset(name, dtype="float32").evaluate(*test_pairs, verbose=0)["bleu"]
    assert bleu == pytest.approx(metadata["test_bleu"], abs=0.1)
    card = zoo.presets()[name]
    assert f"Test BLEU **{metadata['test_bleu']}**" in card
    assert metadata["bleu_signature"] in card
    assert "CC BY 2.0 FR" in card


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_preset_fits_the_package_budget(name):
    directory = preset_format.SHIPPED / name
    size = sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())
    assert size <= MAX_PRESET_BYTES
