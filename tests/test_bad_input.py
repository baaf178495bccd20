"""Bad arguments to every verb of every text family: a ValueError/TypeError at the public call
that names the argument and the value, never an error from inside the graph, and nothing
written."""

import pytest

import zoo
from tests.test_case import MEMORY_SOURCES, MEMORY_TARGETS

SOURCES, TARGETS = MEMORY_SOURCES[:6], MEMORY_TARGETS[:6]
TINY = {"num_layers": 1, "hidden_dim": 16, "num_heads": 2, "intermediate_dim": 32}
BUILDERS = {
    "lstm": lambda: zoo.lstm_translator(SOURCES, TARGETS, embedding_dim=8, units=8),
    "attention": lambda: zoo.attention_translator(SOURCES, TARGETS, embedding_dim=8, units=8),
    "transformer": lambda: zoo.transformer(SOURCES, TARGETS, **TINY),
    "t5": lambda: zoo.t5(SOURCES, TARGETS, sentinels=0, **TINY),
}
# Each verb called with good arguments, which a case's arguments override.
CALLS = {
    "predict": lambda model, path, arguments: model.predict(**{"x": SOURCES[:2], **arguments}),
    "fit": lambda model, path, arguments: model.fit(
        **{"x": SOURCES, "y": TARGETS, "verbose": 0, **arguments}
    ),
    "evaluate": lambda model, path, arguments: model.evaluate(
        **{"x": SOURCES, "y": TARGETS, "verbose": 0, **arguments}
    ),
    "export": lambda model, path, arguments: model.export(path / "export", **arguments),
    "save": lambda model, path, arguments: model.save(
        **{"filepath": path / "m.keras", **arguments}
    ),
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


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def model(request):
    return BUILDERS[request.param]()


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_argument_is_named_at_the_call(model, case, tmp_path, monkeypatch):
    verb, arguments, error, message = CASES[case]
    monkeypatch.chdir(tmp_path)  # a relative path that slipped through would land here
    with pytest.raises(error) as raised:
        CALLS[verb](model, tmp_path, arguments)
    assert message in str(raised.value)
    assert not list(tmp_path.iterdir()), "a failed call wrote files"
