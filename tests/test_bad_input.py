"""Bad arguments to the decoding verbs of every text family: a ValueError/TypeError at the
public call that names the argument and the value, never an error from inside the graph."""

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
# (verb, arguments, error, message): each call must raise the error with the message.
CASES = {
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
    "export max_length=-2": (
        "export",
        {"max_length": -2},
        ValueError,
        "`max_length` must be a positive int, got -2.",
    ),
    "predict sampler='nucleus'": (
        "predict",
        {"sampler": "nucleus"},
        ValueError,
        "Unknown sampler 'nucleus'.",
    ),
}


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def model(request):
    return BUILDERS[request.param]()


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_argument_is_named_at_the_call(model, case, tmp_path):
    verb, arguments, error, message = CASES[case]
    call = {
        "predict": lambda: model.predict(SOURCES[:2], **arguments),
        "export": lambda: model.export(tmp_path / "export", **arguments),
    }[verb]
    with pytest.raises(error) as raised:
        call()
    assert message in str(raised.value)
    assert not (tmp_path / "export").exists()
