"""The preset directory: written from a ready model, read back into one.

A preset holds, as keras-hub's presets do:

    config.json        the backbone (`keras.saving.serialize_keras_object`)
    task.json          the task: backbone, vectorizers, and how it was compiled
    model.weights.h5   the backbone's weights (float32, or float16 to halve the size)
    assets/            each vectorizer's vocabulary, as a file of its own
    metadata.json      versions, parameter count, weights' dtype, date
    card.md            the model card: what it is, what it was trained on and how, its scores
"""

import base64
import datetime
import json
import os
import pathlib

import keras
import tensorflow as tf

from zoo import checks
from zoo.precision import dtype_policy
from zoo.saving import write_atomically

SHIPPED = pathlib.Path(__file__).parent / "shipped"

BACKBONE_CONFIG = "config.json"
TASK_CONFIG = "task.json"
WEIGHTS = "model.weights.h5"
METADATA = "metadata.json"
CARD = "card.md"
PRESET_FILES = (BACKBONE_CONFIG, TASK_CONFIG, WEIGHTS, METADATA, CARD)
WEIGHTS_DTYPES = ("float32", "float16")


def _lines(vocabulary):
    if any("\n" in token for token in vocabulary):
        raise ValueError("A vocabulary token holds a line break; it cannot be written as a line.")
    return "".join(f"{token}\n" for token in vocabulary).encode("utf-8")


# Vectorizer config fields that hold a vocabulary: the asset file each moves to, and how the
# field's value becomes the file's bytes and back.
VOCABULARY_FIELDS = {
    "vocabulary": (
        "vocabulary.txt",
        _lines,
        lambda data: data.decode("utf-8").split("\n")[:-1],
    ),
    "merges": ("merges.txt", _lines, lambda data: data.decode("utf-8").split("\n")[:-1]),
    "proto": (
        "vocabulary.spm",
        base64.b64decode,
        lambda data: base64.b64encode(data).decode("ascii"),
    ),
}


def save_to_preset(model, path, card=None, weights_dtype="float32", metadata=None):
    """Writes `model` as a preset directory that `zoo.from_preset(path)` loads.

    The directory is written under a temporary name beside `path` and renamed when
    complete (`zoo.saving.write_atomically`), so a failure leaves no half-written preset; an
    existing non-empty `path` is never overwritten.

    Args:
        model: a built zoo task (`zoo.Seq2Seq`, `zoo.ImageCaptioner`).
        path: str or path-like, the directory to create.
        card: str, the model card in Markdown: architecture, training data and licence,
            the command that trained it, its scores, known limits. None writes a card that
            gives the architecture and size only.
        weights_dtype: "float32", or "float16" to store the weights in half the bytes
            (they are cast back to the model's variable dtype on loading).
        metadata: dict of JSON values to add to `metadata.json`, such as the scores the
            card reports, for programs to read.

    Raises:
        ValueError: `weights_dtype` is unknown, `card` is not a str, or `path` is a
            non-empty directory or a file.
    """
    checks.one_of(weights_dtype, WEIGHTS_DTYPES, "weights_dtype")
    if card is not None and not isinstance(card, str):
        raise ValueError(f"`card` must be a str of Markdown or None, got {type(card).__name__}.")
    path = pathlib.Path(os.fspath(path)).absolute()
    if path.is_file() or (path.is_dir() and any(path.iterdir())):
        raise ValueError(f"`path` must be a new or empty directory, got {str(path)!r}.")

    def write(directory):
        directory.mkdir()
        _write(model, directory, card or _default_card(model), weights_dtype, metadata or {})

    write_atomically(path, write)


def _vocabularies(task):
    """(task config key, its config, vocabulary field) for every vocabulary the task holds."""
    for key, entry in task["config"].items():
        config = entry.get("config", {}) if isinstance(entry, dict) else {}
        for field in VOCABULARY_FIELDS:
            if field in config:
                yield key, config, field


def _write(model, directory, card, weights_dtype, metadata):
    task = keras.saving.serialize_keras_object(model)
    for key, config, field in _vocabularies(task):
        file_name, to_bytes, _ = VOCABULARY_FIELDS[field]
        asset = pathlib.Path("assets", key, file_name)
        (directory / asset).parent.mkdir(parents=True, exist_ok=True)
        (directory / asset).write_bytes(to_bytes(config[field]))
        config[field] = asset.as_posix()
    task["compile_config"] = model.get_compile_config()
    _write_json(directory / TASK_CONFIG, task)
    _write_json(directory / BACKBONE_CONFIG, keras.saving.serialize_keras_object(model.backbone))
    _backbone_in(model.backbone, weights_dtype).save_weights(directory / WEIGHTS)
    _write_json(
        directory / METADATA,
        {
            "keras_version": keras.__version__,
            "tensorflow_version": tf.__version__,
            "parameter_count": model.backbone.count_params(),
            "weights_dtype": weights_dtype,
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
            **metadata,
        },
    )
    (directory / CARD).write_text(card, encoding="utf-8")


def _backbone_in(backbone, weights_dtype):
    """`backbone`, or a copy of it whose variables hold its weights in `weights_dtype`."""
    if all(variable.dtype == weights_dtype for variable in backbone.weights):
        return backbone
    copy = type(backbone).from_config({**backbone.get_config(), "dtype": weights_dtype})
    copy.set_weights([weight.astype(weights_dtype) for weight in backbone.get_weights()])
    return copy


def _default_card(model):
    return (
        f"# {model.name}\n\n"
        f"A `{type(model).__name__}` over a `{type(model.backbone).__name__}` of "
        f"{model.backbone.count_params():,} parameters. Its training data, recipe and scores "
        "were not recorded.\n"
    )


def _write_json(path, value):
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def from_preset(preset, dtype="auto"):
    """Loads a preset: one shipped in the package, by name, or a preset directory.

    A directory that keras-hub's `save_to_preset` wrote for a `T5Backbone` and its
    `T5Tokenizer` loads as `zoo.t5_from_preset` loads it, one for a `BartBackbone` and its
    `BartTokenizer` as `zoo.bart_from_preset` does. Nothing is downloaded.

    Args:
        preset: str, a name of `zoo.presets()`, or a str or path-like preset directory.
        dtype: the model's dtype policy, whatever it was trained under: "auto" (mixed
            bfloat16 on a CPU with bfloat16 units, mixed float16 on a GPU, float32
            otherwise; see `zoo.dtype_policy`), a Keras dtype policy name, or None (Keras'
            global policy).

    Returns:
        The model, compiled as it was for training: `predict`, `evaluate`, `fit` to
        fine-tune, `save` and `export` work as on a freshly built one.

    Raises:
        ValueError: `preset` is neither a shipped name nor a directory (the message lists
            the shipped names), or a directory that lacks a preset's files (it names them).

    Example:
    >>> model = zoo.from_preset("tatoeba_t5_en_fr")
    >>> model.predict(["Where is the station?"])
    """
    directory = _preset_directory(preset)
    if not (directory / TASK_CONFIG).exists() and (directory / "tokenizer.json").exists():
        return _keras_hub_preset(directory, dtype)
    missing = [name for name in PRESET_FILES if not (directory / name).is_file()]
    if missing:
        raise ValueError(
            f"{str(directory)!r} is not a zoo preset: it lacks {missing} (a preset holds "
            f"{list(PRESET_FILES)} and assets/; it holds {sorted(os.listdir(directory))})."
        )
    task = json.loads((directory / TASK_CONFIG).read_text(encoding="utf-8"))
    compile_config = task.pop("compile_config", None)
    for _, config, field in _vocabularies(task):
        from_bytes = VOCABULARY_FIELDS[field][2]
        config[field] = from_bytes((directory / config[field]).read_bytes())
    task["config"]["backbone"]["config"]["dtype"] = dtype_policy(dtype)
    model = keras.saving.deserialize_keras_object(task)
    model.backbone.load_weights(directory / WEIGHTS)
    if compile_config is not None:
        model.compile_from_config(compile_config)
    return model


def _keras_hub_preset(directory, dtype):
    """A keras-hub preset directory, loaded by the zoo family of the backbone it names."""
    from zoo.models import bart_from_preset, t5_from_preset
    from zoo.models.hub_presets import registered_name

    loaders = {"keras_hub>T5Backbone": t5_from_preset, "keras_hub>BartBackbone": bart_from_preset}
    backbone = registered_name(directory / BACKBONE_CONFIG)
    if backbone not in loaders:
        raise ValueError(
            f"{str(directory)!r} holds a keras-hub tokenizer.json, but its {BACKBONE_CONFIG} "
            f"names {backbone!r}: zoo loads keras-hub presets of {sorted(loaders)}."
        )
    return loaders[backbone](directory, dtype=dtype)


def _preset_directory(preset):
    if isinstance(preset, str) and (SHIPPED / preset).is_dir():
        return SHIPPED / preset
    if not isinstance(preset, (str, os.PathLike)):
        raise ValueError(
            f"`preset` must be a preset name or a directory, got {type(preset).__name__}."
        )
    directory = pathlib.Path(os.fspath(preset))
    if directory.is_dir():
        return directory.absolute()
    raise ValueError(
        f"Unknown preset {os.fspath(preset)!r}: neither a shipped preset nor a directory. "
        f"Shipped presets: {sorted(presets())}."
    )


def presets():
    """The presets shipped in the package: {name: its model card (Markdown)}.

    Example:
    >>> for name, card in zoo.presets().items():
    ...     print(name, card.splitlines()[0])
    """
    if not SHIPPED.is_dir():
        return {}
    return {
        directory.name: (directory / CARD).read_text(encoding="utf-8")
        for directory in sorted(SHIPPED.iterdir())
        if (directory / TASK_CONFIG).is_file()
    }
