"""Any text a user sends is answered: random strings from every Unicode plane (combining marks,
control characters, right-to-left scripts, NUL, very long strings) go through `predict` and
through the reloaded export of a small translator without an exception, one string out per
string in, the export answering as `predict` does."""

import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401 (registers the ops the export's tokenizer uses)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_case import MEMORY_SOURCES, MEMORY_TARGETS, tiny_translator

# Surrogates (category Cs) cannot be encoded as UTF-8, so no Python str that reaches a
# tf.string holds one; every other code point of every plane may appear.
CHARACTERS = st.characters(codec="utf-8")
TEXTS = st.one_of(
    st.text(CHARACTERS, max_size=40),
    st.text(st.sampled_from("\u0301\u0308\u200f\u202e\u05d0\u0627\x00\x07\t\n "), max_size=20),
    # 10,000 characters (Hypothesis draws no strings that long itself).
    st.text(CHARACTERS, min_size=1, max_size=20).map(lambda text: (text * 10_000)[:10_000]),
)
BATCHES = st.lists(TEXTS, min_size=1, max_size=64)
MAX_LENGTH = 6  # short outputs keep each example fast; the loop is the same


@pytest.fixture(scope="module")
def translator(tmp_path_factory):
    model = tiny_translator(
        MEMORY_SOURCES[:8], MEMORY_TARGETS[:8], vocabulary_size=80, embedding_dim=8, units=8
    )
    export_dir = tmp_path_factory.mktemp("export") / "1"
    model.export(export_dir, max_length=MAX_LENGTH)
    served = tf.saved_model.load(str(export_dir)).signatures["serving_default"]
    return model, served


@settings(
    max_examples=80,  # batches of 1-64 strings
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same strings on every run, so a failure reproduces
    database=None,  # and nothing written to the working tree
)
@given(texts=BATCHES)
def test_random_text_is_answered_and_the_export_agrees(translator, texts):
    model, served = translator
    predicted = model.predict(texts, max_length=MAX_LENGTH)
    assert len(predicted) == len(texts)
    assert all(isinstance(text, str) for text in predicted)
    outputs = served(inputs=tf.constant(texts))["outputs"].numpy()
    assert [output.decode("utf-8") for output in outputs] == predicted
