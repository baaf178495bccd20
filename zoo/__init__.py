"""zoo: a Keras model zoo of encoder-decoder models.

>>> import zoo
>>> sources, targets = zoo.datasets.load_translation("tatoeba")
>>> model = zoo.lstm_translator(sources, targets)
"""

import os
import tempfile
import zipfile

from zoo._backend import use_tensorflow_backend

use_tensorflow_backend()

import keras  # noqa: E402 (the backend must be chosen first)

from zoo import (  # noqa: E402
    callbacks,
    datasets,
    decoding,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    precision,
    schedules,
    tasks,
    text,
    vision,
)
from zoo.catalog import build  # noqa: E402
from zoo.models import (  # noqa: E402
    attention_translator,
    bart,
    bart_from_preset,
    convs2s,
    hierarchical_attention_classifier,
    image_captioner,
    lstm_translator,
    memory_network,
    t5,
    t5_from_preset,
    transformer,
    unet,
)
from zoo.plotting import (  # noqa: E402
    plot_attention,
    plot_caption_attention,
    plot_segmentation,
)
from zoo.precision import dtype_policy  # noqa: E402
from zoo.preset import from_preset, presets  # noqa: E402
from zoo.saved_layouts import current_layout as _current_layout  # noqa: E402
from zoo.tasks import ImageCaptioner, ImageSegmenter, Seq2Seq  # noqa: E402


def load(filepath):
    """Loads a model saved with `model.save("name.keras")` (Keras safe mode stays on: a file
    whose config holds Python code, such as a Lambda layer, is refused).

    Raises:
        FileNotFoundError: nothing exists at `filepath`.
        ValueError: `filepath` is not a `.keras` archive (not a zip file, one cut short, or a
            zip without a model's config), or it holds a Keras model that is not zoo's.
    """
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No model to load at filepath={path!r}: nothing exists there.")
    if os.path.isfile(path) and not _is_keras_archive(path):
        raise ValueError(
            f"filepath={path!r} is not a .keras archive: not a zip file holding a model's "
            f"config.json, or one cut short ({os.path.getsize(path):,} bytes). Save models with "
            '`model.save("name.keras")`.'
        )
    with tempfile.TemporaryDirectory() as directory:
        # A file of an earlier zoo's layout loads from an upgraded copy.
        current = _current_layout(path, directory) if os.path.isfile(path) else path
        model = keras.saving.load_model(current, safe_mode=True)
    # A zoo model: a task, or a backbone saved on its own.
    if not keras.saving.get_registered_name(type(model)).startswith("zoo>"):
        raise ValueError(
            f"filepath={path!r} holds a {type(model).__name__}, not a zoo model: load it with "
            "`keras.saving.load_model`."
        )
    return model


def _is_keras_archive(path):
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return "config.json" in archive.namelist()


__all__ = [
    "ImageCaptioner",
    "ImageSegmenter",
    "Seq2Seq",
    "attention_translator",
    "bart",
    "bart_from_preset",
    "build",
    "callbacks",
    "convs2s",
    "datasets",
    "decoding",
    "dtype_policy",
    "from_preset",
    "hierarchical_attention_classifier",
    "image_captioner",
    "layers",
    "load",
    "losses",
    "lstm_translator",
    "memory_network",
    "metrics",
    "models",
    "optimizers",
    "plot_attention",
    "plot_caption_attention",
    "plot_segmentation",
    "precision",
    "presets",
    "schedules",
    "t5",
    "t5_from_preset",
    "tasks",
    "text",
    "transformer",
    "unet",
    "vision",
]
