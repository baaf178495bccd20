"""Nothing a user saved is lost: `save` and `export` write whole or not at all, and a failure
midway leaves the earlier file or directory as it was, with no temporary left beside it."""

import os
import zipfile

import keras
import numpy as np
import pytest

import zoo
from tests.test_case import MEMORY_SOURCES, MEMORY_TARGETS, tiny_translator
from zoo.saving import write_atomically

SOURCES, TARGETS = MEMORY_SOURCES[:6], MEMORY_TARGETS[:6]


@pytest.fixture(scope="module")
def model():
    return tiny_translator(SOURCES, TARGETS, vocabulary_size=80, embedding_dim=8, units=8)


def fail_midway():
    """A writer that writes part of its output, as a crash or a full disk would leave it."""

    def write(self, filepath, *args, **kwargs):
        if str(filepath).endswith(".keras"):
            with open(filepath, "wb") as file:
                file.write(b"PK\x03\x04 half a zip")
        else:
            os.makedirs(filepath)
            with open(os.path.join(filepath, "saved_model.pb"), "wb") as file:
                file.write(b"half")
        raise OSError("No space left on device")

    return write


def test_a_failed_save_keeps_the_earlier_file(model, tmp_path, monkeypatch):
    path = tmp_path / "model.keras"
    model.save(path)
    saved = path.read_bytes()
    monkeypatch.setattr(keras.Model, "save", fail_midway())
    with pytest.raises(OSError, match="No space left"):
        model.save(path)
    assert path.read_bytes() == saved
    assert os.listdir(tmp_path) == ["model.keras"]
    monkeypatch.undo()
    assert zoo.load(path).predict(SOURCES) == model.predict(SOURCES)


def test_a_save_replaces_the_earlier_file_whole(model, tmp_path):
    path = tmp_path / "model.keras"
    model.save(path)
    weights = [np.asarray(weight) for weight in model.weights]
    moved = tiny_translator(SOURCES, TARGETS, vocabulary_size=80, embedding_dim=8, units=8)
    moved.save(path)
    reloaded = zoo.load(path)
    assert os.listdir(tmp_path) == ["model.keras"]
    for weight, after in zip(reloaded.weights, moved.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(weight), np.asarray(after))
    assert any(
        not np.array_equal(np.asarray(weight), before)
        for weight, before in zip(reloaded.weights, weights, strict=True)
    )


def test_save_without_overwrite_refuses_an_existing_file(model, tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"mine")
    with pytest.raises(FileExistsError, match="model.keras' exists and `overwrite` is False"):
        model.save(path, overwrite=False)
    assert path.read_bytes() == b"mine"


def test_a_failed_export_keeps_the_earlier_export(model, tmp_path, monkeypatch):
    path = tmp_path / "export" / "1"
    model.export(path)
    before = sorted(p.relative_to(path) for p in path.rglob("*"))
    # `keras.export.ExportArchive()` returns an instance of the backend's archive class.
    archive_class = type(keras.export.ExportArchive())
    monkeypatch.setattr(archive_class, "write_out", fail_midway())
    with pytest.raises(OSError, match="No space left"):
        model.export(path)
    assert sorted(p.relative_to(path) for p in path.rglob("*")) == before
    assert os.listdir(path.parent) == ["1"]


def test_write_atomically_replaces_a_directory(tmp_path):
    path = tmp_path / "out"
    path.mkdir()
    (path / "old.txt").write_text("old")

    def write(temporary):
        temporary.mkdir()
        (temporary / "new.txt").write_text("new")

    write_atomically(path, write)
    assert os.listdir(path) == ["new.txt"]
    assert os.listdir(tmp_path) == ["out"]


def test_load_of_a_missing_file_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.keras'.*nothing exists there"):
        zoo.load(tmp_path / "nowhere.keras")


@pytest.mark.parametrize("content", ["not a zip", "truncated", "another zip"])
def test_load_of_a_file_that_is_not_a_keras_archive_says_so(model, tmp_path, content):
    path = tmp_path / "model.keras"
    if content == "truncated":
        model.save(path)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif content == "another zip":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("notes.txt", "no model here")
    else:
        path.write_text("weights, honestly")
    with pytest.raises(ValueError, match=r"model.keras' is not a .keras archive: .* bytes\)"):
        zoo.load(path)


def test_load_of_another_librarys_keras_model_says_so(tmp_path):
    inputs = keras.Input((2,))
    keras.Model(inputs, keras.layers.Dense(1)(inputs)).save(tmp_path / "dense.keras")
    with pytest.raises(ValueError, match="dense.keras' holds a Functional, not a zoo model"):
        zoo.load(tmp_path / "dense.keras")


def test_load_refuses_python_code_in_the_config(tmp_path):
    inputs = keras.Input((2,))
    lambda_model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    lambda_model.save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match="Lambda.*safe_mode"):
        zoo.load(tmp_path / "lambda.keras")
