"""Bad arguments to every verb of every family: a ValueError/TypeError (FileNotFoundError for a
missing image file) at the public call that names the argument and the value, never an error
from inside the graph, and nothing written."""

import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests.test_case import MEMORY_SOURCES, MEMORY_TARGETS
from zoo.datasets.keyword_documents import keyword_documents

SOURCES, TARGETS = MEMORY_SOURCES[:6], MEMORY_TARGETS[:6]
TINY = {"num_layers": 1, "hidden_dim": 16, "num_heads": 2, "intermediate_dim": 32}
BUILDERS = {
    "lstm": lambda: zoo.lstm_translator(SOURCES, TARGETS, embedding_dim=8, units=8),
    "attention": lambda: zoo.attention_translator(SOURCES, TARGETS, embedding_dim=8, units=8),
    "transformer": lambda: zoo.transformer(SOURCES, TARGETS, **TINY),
    "t5": lambda: zoo.t5(SOURCES, TARGETS, sentinels=0, **TINY),
    "bart": lambda: zoo.bart(SOURCES, TARGETS, **TINY),
    "convs2s": lambda: zoo.convs2s(SOURCES, TARGETS, embedding_dim=8, channels=8, num_layers=1),
}
# Each verb called with good arguments, which a case's arguments override; the tests run in
# an empty directory, where the relative paths point.
CALLS = {
    "predict": lambda model, arguments: model.predict(**{"x": SOURCES[:2], **arguments}),
    "fit": lambda model, arguments: model.fit(
        **{"x": SOURCES, "y": TARGETS, "verbose": 0, **arguments}
    ),
    "evaluate": lambda model, arguments: model.evaluate(
        **{"x": SOURCES, "y": TARGETS, "verbose": 0, **arguments}
    ),
    "export": lambda model, arguments: model.export("export", **arguments),
    "save": lambda model, arguments: model.save(**{"filepath": "m.keras", **arguments}),
}
# (verb, arguments, error, message): each call must raise the error with the message.
CASES = {
    "predict x=None": (
        "predict",
        {"x": None},
        TypeError,
        "`x` must be a string or a list of strings, got NoneType: None.",
    ),
    "predict x=[]": ("predict", {"x": []}, ValueError, "`x` is empty: pass at least one string."),
    "predict a non-string": (
        "predict",
        {"x": ["a", 3]},
        TypeError,
        "`x[1]` must be a string, got int: 3.",
    ),
    "predict a nested list": (
        "predict",
        {"x": [["a"]]},
        TypeError,
        "`x[0]` must be a string, got list: ['a'].",
    ),
    "predict non-UTF-8 bytes": (
        "predict",
        {"x": [b"\xff\xfe"]},
        ValueError,
        "`x[0]` is bytes that are not valid UTF-8",
    ),
    "predict max_length=-1": (
        "predict",
        {"max_length": -1},
        ValueError,
        "`max_length` must be a positive int, got -1.",
    ),
    "predict max_length=0": (
        "predict",
        {"max_length": 0},
        ValueError,
        "`max_length` must be a positive int, got 0.",
    ),
    "predict max_length=1.5": (
        "predict",
        {"max_length": 1.5},
        ValueError,
        "`max_length` must be a positive int, got 1.5.",
    ),
    "predict batch_size=0": (
        "predict",
        {"batch_size": 0},
        ValueError,
        "`batch_size` must be a positive int, got 0.",
    ),
    "predict sampler='nucleus'": (
        "predict",
        {"sampler": "nucleus"},
        ValueError,
        "Unknown sampler 'nucleus'.",
    ),
    "predict an unknown option": (
        "predict",
        {"beams": 4},
        TypeError,
        "Unexpected arguments to `predict`: ['beams'].",
    ),
    "fit y=None": (
        "fit",
        {"y": None},
        TypeError,
        "`y` must be a string or a list of strings, got NoneType: None.",
    ),
    "fit mismatched lengths": (
        "fit",
        {"y": TARGETS[:2]},
        ValueError,
        "`x` and `y` must have the same length, got 6 and 2.",
    ),
    "fit batch_size=0": (
        "fit",
        {"batch_size": 0},
        ValueError,
        "`batch_size` must be a positive int, got 0.",
    ),
    "fit batch_tokens=-1": (
        "fit",
        {"batch_tokens": -1},
        ValueError,
        "`batch_tokens` must be a positive int, got -1.",
    ),
    "fit batch_tokens below the longest pair": (
        "fit",
        {"batch_tokens": 3},
        ValueError,
        "`batch_tokens` must hold at least the longest example: got 3",
    ),
    "fit batch_size and batch_tokens": (
        "fit",
        {"batch_size": 8, "batch_tokens": 100},
        ValueError,
        "Pass `batch_size` or `batch_tokens`, not both: got batch_size=8 and batch_tokens=100.",
    ),
    "fit length_bucket_width=0": (
        "fit",
        {"length_bucket_width": 0},
        ValueError,
        "`length_bucket_width` must be a positive int, got 0.",
    ),
    "fit validation_data of one list": (
        "fit",
        {"validation_data": SOURCES},
        ValueError,
        "`validation_data` must be (source_texts, target_texts) or a tf.data.Dataset of pairs, "
        "got list.",
    ),
    "evaluate mismatched lengths": (
        "evaluate",
        {"y": TARGETS[:1]},
        ValueError,
        "`x` and `y` must have the same length, got 6 and 1.",
    ),
    "evaluate batch_size=0": (
        "evaluate",
        {"batch_size": 0},
        ValueError,
        "`batch_size` must be a positive int, got 0.",
    ),
    "evaluate sampler='nucleus'": (
        "evaluate",
        {"sampler": "nucleus"},
        ValueError,
        "Unknown sampler 'nucleus'.",
    ),
    "export max_length=-2": (
        "export",
        {"max_length": -2},
        ValueError,
        "`max_length` must be a positive int, got -2.",
    ),
    "export sampler='nucleus'": (
        "export",
        {"sampler": "nucleus"},
        ValueError,
        "Unknown sampler 'nucleus'.",
    ),
    "save to a path that is not .keras": (
        "save",
        {"filepath": "model.h5"},
        ValueError,
        "`filepath` must end in .keras (the Keras format, which holds the whole model), got "
        "'model.h5'",
    ),
}


def calls_on(x, y):
    """A task's `predict`, `fit` and `evaluate` on the good data `x` and `y`, which a case's
    arguments override."""
    return {
        "predict": lambda model, arguments: model.predict(**{"x": x, **arguments}),
        "fit": lambda model, arguments: model.fit(**{"x": x, "y": y, "verbose": 0, **arguments}),
        "evaluate": lambda model, arguments: model.evaluate(
            **{"x": x, "y": y, "verbose": 0, **arguments}
        ),
    }


IMAGES, CAPTIONS = zoo.datasets.shapes_captions(4, seed=0, image_size=32)
PNG = tf.io.encode_png(IMAGES[0]).numpy()
IMAGE_CALLS = calls_on(IMAGES, CAPTIONS)
IMAGE_CASES = {
    "predict x=None": (
        "predict",
        {"x": None},
        TypeError,
        "`x` must be uint8 pixels, file paths or encoded image bytes, got NoneType: None.",
    ),
    "predict x=[]": ("predict", {"x": []}, ValueError, "`x` is empty: pass at least one image."),
    "predict pixels of rank 2": (
        "predict",
        {"x": np.zeros((32, 32), np.uint8)},
        ValueError,
        "`x` must be one image [height, width, channels] or a batch",
    ),
    "predict float pixels": (
        "predict",
        {"x": np.zeros((1, 32, 32, 3), np.float32)},
        TypeError,
        "`x` must hold uint8 pixel values in [0, 255], got dtype float32",
    ),
    "predict 5 channels": (
        "predict",
        {"x": np.zeros((1, 32, 32, 5), np.uint8)},
        ValueError,
        "channels in its last axis, got shape (1, 32, 32, 5).",
    ),
    "predict corrupt bytes": (
        "predict",
        {"x": [PNG, b"not an image"]},
        ValueError,
        "`x[1]` is not a decodable JPEG, PNG, GIF, BMP or WebP image (12 bytes",
    ),
    "predict a truncated PNG": (
        "predict",
        {"x": [PNG[: len(PNG) // 2]]},
        ValueError,
        "`x[0]` is not a decodable JPEG, PNG, GIF, BMP or WebP image",
    ),
    "predict a missing file": (
        "predict",
        {"x": ["nowhere.png"]},
        FileNotFoundError,
        "`x[0]` is 'nowhere.png', which is not an existing file.",
    ),
    "predict bytes and paths mixed": (
        "predict",
        {"x": [PNG, "nowhere.png"]},
        TypeError,
        "one kind only; got a list of bytes, str.",
    ),
    "predict max_length=0": (
        "predict",
        {"max_length": 0},
        ValueError,
        "`max_length` must be a positive int, got 0.",
    ),
    "fit y=None": (
        "fit",
        {"y": None},
        TypeError,
        "`y` must be a list of captions (str), or of lists of captions, one entry per image; "
        "got NoneType: None.",
    ),
    "fit a caption that is an int": (
        "fit",
        {"y": [3] * 4},
        TypeError,
        "`y[0]` must be a caption (str) or a list of captions, got int: 3.",
    ),
    "fit mismatched lengths": (
        "fit",
        {"y": CAPTIONS[:2]},
        ValueError,
        "`x` and `y` must have the same length (one entry of captions per image), got 4 and 2.",
    ),
    "evaluate corrupt bytes": (
        "evaluate",
        {"x": [b"junk"], "y": CAPTIONS[:1]},
        ValueError,
        "`x[0]` is not a decodable JPEG, PNG, GIF, BMP or WebP image (4 bytes",
    ),
}
DOCUMENTS, LABELS = keyword_documents(8, seed=0)
DOCUMENT_CALLS = calls_on(DOCUMENTS, LABELS)
DOCUMENT_CASES = {
    "predict x=None": (
        "predict",
        {"x": None},
        TypeError,
        "`x` must be a string or a list of strings, got NoneType: None.",
    ),
    "predict non-UTF-8 bytes": (
        "predict",
        {"x": [b"\xff"]},
        ValueError,
        "`x[0]` is bytes that are not valid UTF-8",
    ),
    "fit an unknown label": (
        "fit",
        {"y": ["nope"] * 8},
        ValueError,
        "`y[0]` is 'nope', not one of the model's classes ['music', 'sports', 'weather'].",
    ),
    "fit a non-UTF-8 label": (
        "fit",
        {"x": DOCUMENTS[:1], "y": [b"\xff"]},
        ValueError,
        "`y[0]` is bytes that are not valid UTF-8",
    ),
    "fit batch_size=0": (
        "fit",
        {"batch_size": 0},
        ValueError,
        "`batch_size` must be a positive int, got 0.",
    ),
    "fit validation_data of one list": (
        "fit",
        {"validation_data": DOCUMENTS},
        ValueError,
        "`validation_data` must be (documents, labels), got list",
    ),
    "evaluate mismatched lengths": (
        "evaluate",
        {"y": LABELS[:1]},
        ValueError,
        "`x` and `y` must have the same length, got 8 and 1.",
    ),
}


def check_case(model, calls, case, directory, monkeypatch):
    """The call of `case`, (verb, arguments, error, message), raises the error with the
    message in it, and writes nothing in `directory`, where it runs."""
    verb, arguments, error, message = case
    monkeypatch.chdir(directory)
    with pytest.raises(error) as raised:
        calls[verb](model, arguments)
    assert message in str(raised.value)
    assert not list(directory.iterdir()), "a failed call wrote files"


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def model(request):
    return BUILDERS[request.param]()


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_argument_is_named_at_the_call(model, case, tmp_path, monkeypatch):
    check_case(model, CALLS, CASES[case], tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def captioner():
    options = {"image_size": 32, "encoder_filters": (8, 16), "embedding_dim": 8, "units": 16}
    return zoo.image_captioner(IMAGES, CAPTIONS, **options)


@pytest.mark.parametrize("case", sorted(IMAGE_CASES))
def test_bad_captioner_argument_is_named_at_the_call(captioner, case, tmp_path, monkeypatch):
    check_case(captioner, IMAGE_CALLS, IMAGE_CASES[case], tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def classifier():
    options = {"embedding_dim": 8, "units": 8, "max_sentences": 4, "max_words": 8}
    return zoo.hierarchical_attention_classifier(DOCUMENTS, LABELS, **options)


@pytest.mark.parametrize("case", sorted(DOCUMENT_CASES))
def test_bad_classifier_argument_is_named_at_the_call(classifier, case, tmp_path, monkeypatch):
    check_case(classifier, DOCUMENT_CALLS, DOCUMENT_CASES[case], tmp_path, monkeypatch)
