"""What every signature of every family's export does with what a server may be sent: a batch
of another dtype or rank is refused with TensorFlow's InvalidArgumentError naming `inputs`
before any work; an empty batch gets empty outputs; a batch holding empty, non-UTF-8, NUL,
very long or undecodable items is answered item by item, each good item as if sent alone."""

import re

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401 (registers the ops the exports' tokenizers use)

import zoo
from tests.test_case import MEMORY_SOURCES, MEMORY_TARGETS
from zoo.datasets.keyword_documents import keyword_documents

SOURCES, TARGETS = MEMORY_SOURCES[:6], MEMORY_TARGETS[:6]
TINY = {"num_layers": 1, "hidden_dim": 16, "num_heads": 2, "intermediate_dim": 32}
IMAGES, CAPTIONS = zoo.datasets.shapes_captions(4, seed=0, image_size=32)
PNG = tf.io.encode_png(IMAGES[0]).numpy()
DOCUMENTS, LABELS = keyword_documents(8, seed=0)
TEXT_BATCH = [SOURCES[0], "", b"\xff\xfe", "\x00", "x" * 10_000]
# family: (builder, a batch of one good item and then awkward ones, export options)
FAMILIES = {
    "lstm": (
        lambda: zoo.lstm_translator(SOURCES, TARGETS, embedding_dim=8, units=8),
        TEXT_BATCH,
        {"max_length": 6},
    ),
    "attention": (
        lambda: zoo.attention_translator(SOURCES, TARGETS, embedding_dim=8, units=8),
        TEXT_BATCH,
        {"max_length": 6},
    ),
    "transformer": (lambda: zoo.transformer(SOURCES, TARGETS, **TINY), TEXT_BATCH, {}),
    "t5": (lambda: zoo.t5(SOURCES, TARGETS, sentinels=0, **TINY), TEXT_BATCH, {}),
    "bart": (lambda: zoo.bart(SOURCES, TARGETS, **TINY), TEXT_BATCH, {}),
    "convs2s": (
        lambda: zoo.convs2s(SOURCES, TARGETS, embedding_dim=8, channels=8, num_layers=1),
        TEXT_BATCH,
        {},
    ),
    "captioner": (
        lambda: zoo.image_captioner(
            IMAGES, CAPTIONS, image_size=32, encoder_filters=(8, 16), embedding_dim=8, units=16
        ),
        [PNG, b"", b"not an image", PNG[: len(PNG) // 2]],
        {"max_length": 6},
    ),
    "classifier": (
        lambda: zoo.hierarchical_attention_classifier(
            DOCUMENTS, LABELS, embedding_dim=8, units=8, max_sentences=4, max_words=8
        ),
        [DOCUMENTS[0], "", b"\xff\xfe", "\x00", "x " * 5_000],
        {},
    ),
}
REFUSED = {
    "int32": (tf.constant([1, 2]), "expected to be a string tensor but is a int32 tensor"),
    "a scalar": (tf.constant("a"), "Shape of tensor inputs [] is not compatible"),
    "rank 2": (tf.constant([["a", "b"]]), "Shape of tensor inputs [1,2] is not compatible"),
}


@pytest.fixture(scope="module", params=sorted(FAMILIES))
def served(request, tmp_path_factory):
    """(family, {signature name: signature}) of the reloaded export of a tiny model."""
    build, _, export_options = FAMILIES[request.param]
    export_dir = tmp_path_factory.mktemp(request.param) / "1"
    build().export(export_dir, **export_options)
    return request.param, dict(tf.saved_model.load(str(export_dir)).signatures)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_another_dtype_or_rank_is_refused_naming_the_input(served, case):
    _, signatures = served
    inputs, message = REFUSED[case]
    for signature in signatures.values():
        with pytest.raises(tf.errors.InvalidArgumentError, match=re.escape(message)):
            signature(inputs=inputs)


def test_an_empty_batch_gets_empty_outputs(served):
    _, signatures = served
    for name, signature in signatures.items():
        for output_name, output in signature(inputs=tf.constant([], tf.string)).items():
            assert output.shape[0] == 0, (name, output_name)


def test_every_item_of_an_awkward_batch_is_answered_the_good_one_as_alone(served):
    family, signatures = served
    batch = FAMILIES[family][1]
    for name, signature in signatures.items():
        together = signature(inputs=tf.constant(batch))
        alone = signature(inputs=tf.constant(batch[:1]))
        for output_name, output in together.items():
            assert output.shape[0] == len(batch), (name, output_name)
            if output.dtype == tf.string and output_name != "source_tokens":
                for text in np.ravel(output.numpy()):
                    text.decode("utf-8")  # every answer is valid UTF-8
            first, first_alone = output.numpy()[0], alone[output_name].numpy()[0]
            if output.dtype == tf.string:
                assert np.array_equal(first, first_alone), (name, output_name)
            elif output_name != "attention":  # the batch's longest item pads it wider
                np.testing.assert_allclose(first, first_alone, rtol=1e-5, atol=1e-5)


def test_invalid_utf8_is_read_with_replacement_characters(served):
    family, signatures = served
    if family == "captioner":
        pytest.skip("a captioner is sent image bytes, not text")
    for name, signature in signatures.items():
        raw = signature(inputs=tf.constant([SOURCES[1].encode() + b"\xff\xfe"]))
        replaced = signature(inputs=tf.constant([SOURCES[1] + "\ufffd\ufffd"]))
        for output_name, output in raw.items():
            assert np.array_equal(output.numpy(), replaced[output_name].numpy()), (
                name,
                output_name,
            )
