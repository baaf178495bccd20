import keras
import numpy as np
import pytest

import zoo
from tests.test_case import (
    MEMORY_SOURCES,
    MEMORY_TARGETS,
    step_by_step_logits,
    teacher_forced_batch,
    tiny_translator,
)

SOURCES, TARGETS = MEMORY_SOURCES[:8], MEMORY_TARGETS[:8]

OPTIONS = {
    "lstm": {},
    "gru": {"cell": "gru"},
    "stacked": {"num_layers": 3},
    "bidirectional": {"bidirectional": True},
    "residual_layer_norm": {"num_layers": 2, "residual": True, "layer_norm": True},
    "dropout": {"dropout": 0.2, "num_layers": 2},
    "reverse_source": {"reverse_source": True},
    "everything": {
        "cell": "gru",
        "num_layers": 2,
        "bidirectional": True,
        "residual": True,
        "layer_norm": True,
        "dropout": 0.1,
        "reverse_source": True,
    },
}


@pytest.fixture(scope="module", params=list(OPTIONS.values()), ids=list(OPTIONS))
def stepped(request):
    """A tiny translator with the options, three training steps on its teacher-forced batch:
    (model, batch, the loss on the batch before the steps)."""
    model = tiny_translator(SOURCES, TARGETS, **request.param)
    batch = teacher_forced_batch(model, SOURCES, TARGETS)
    before = model.test_on_batch(*batch)
    for _ in range(3):
        model.train_on_batch(*batch)
    return model, batch, before


def test_option_trains(stepped):
    model, batch, before = stepped
    assert model.test_on_batch(*batch) < before


def test_option_cached_decoding_equals_teacher_forcing(stepped):
    model, (x, _, _), _ = stepped
    teacher_forced = model.backbone(x, training=False).numpy()
    real = x["decoder_padding_mask"]  # padded positions are never decoded
    np.testing.assert_allclose(
        step_by_step_logits(model.backbone, x)[real], teacher_forced[real], atol=1e-5
    )


def test_options_shape_the_graph():
    backbone = tiny_translator(SOURCES, TARGETS, **OPTIONS["everything"]).backbone
    encoder, decoder = backbone.encoder, backbone.decoder
    assert [layer.name for layer in encoder.rnn_layers] == ["gru_0", "gru_1"]
    assert isinstance(encoder.rnn_layers[0], keras.layers.Bidirectional)
    assert [layer.units for layer in decoder.rnn_layers] == [64, 64]
    assert len(encoder.norms) == len(decoder.norms) == 1
    assert decoder.attention is None


def test_reverse_source_feeds_the_encoder_the_reversed_tokens():
    forward = tiny_translator(SOURCES, TARGETS)
    backward = tiny_translator(
        SOURCES,
        TARGETS,
        reverse_source=True,
        source_vectorizer=forward.source_vectorizer,
        target_vectorizer=forward.target_vectorizer,
    )
    backward.backbone.set_weights(forward.backbone.get_weights())
    x, _, _ = teacher_forced_batch(forward, SOURCES, TARGETS)
    lengths = x["encoder_padding_mask"].sum(axis=1)
    reversed_ids = x["encoder_token_ids"].copy()
    for row, length in enumerate(lengths):
        reversed_ids[row, :length] = reversed_ids[row, :length][::-1]
    expected = forward.backbone.encode(reversed_ids, x["encoder_padding_mask"], max_length=1)
    actual = backward.backbone.encode(
        x["encoder_token_ids"], x["encoder_padding_mask"], max_length=1
    )
    np.testing.assert_allclose(
        actual["decoder_state"]["layers"][0][0],
        expected["decoder_state"]["layers"][0][0],
        atol=1e-6,
    )


def embedding_matrices():
    """{"source": matrix, "target": matrix}: random embeddings of the tiny vocabularies."""
    reference = tiny_translator(SOURCES, TARGETS)
    source_size = reference.source_vectorizer.vocabulary_size
    target_size = reference.target_vectorizer.vocabulary_size
    rng = np.random.default_rng(0)
    source_matrix = rng.normal(size=(source_size, 32)).astype("float32")
    target_matrix = rng.normal(size=(target_size, 32)).astype("float32")
    return {"source": source_matrix, "target": target_matrix}


def test_given_embedding_matrices_are_used():
    matrices = embedding_matrices()
    model = tiny_translator(SOURCES, TARGETS, pretrained_embeddings=matrices)
    np.testing.assert_array_equal(model.backbone.encoder_embedding.embeddings, matrices["source"])
    np.testing.assert_array_equal(model.backbone.decoder_embedding.embeddings, matrices["target"])


def test_given_embedding_matrices_can_be_frozen():
    matrices = embedding_matrices()
    model = tiny_translator(
        SOURCES, TARGETS, pretrained_embeddings=matrices, trainable_embeddings=False
    )
    model.fit(SOURCES, TARGETS, epochs=2, batch_size=4, verbose=0)
    np.testing.assert_array_equal(model.backbone.encoder_embedding.embeddings, matrices["source"])
    np.testing.assert_array_equal(model.backbone.decoder_embedding.embeddings, matrices["target"])


def test_embedding_matrices_in_embeddings_initializer_still_load_with_a_warning():
    size = tiny_translator(SOURCES, TARGETS).source_vectorizer.vocabulary_size
    matrix = np.random.default_rng(0).normal(size=(size, 32)).astype("float32")
    with pytest.warns(DeprecationWarning, match="`pretrained_embeddings`"):
        model = tiny_translator(SOURCES, TARGETS, embeddings_initializer={"source": matrix})
    np.testing.assert_array_equal(model.backbone.encoder_embedding.embeddings, matrix)


def test_bad_builder_options_raise_errors_naming_them():
    with pytest.raises(ValueError, match=r"`cell`.*'rnn'"):
        tiny_translator(SOURCES, TARGETS, cell="rnn")
    with pytest.raises(ValueError, match=r"`units`.*even.*63"):
        tiny_translator(SOURCES, TARGETS, units=63, bidirectional=True)
    with pytest.raises(ValueError, match=r"`num_layers`.*0"):
        tiny_translator(SOURCES, TARGETS, num_layers=0)
    with pytest.raises(TypeError, match=r"Unexpected arguments to `lstm_translator`: \['unit'\]"):
        tiny_translator(SOURCES, TARGETS, unit=64)
    with pytest.raises(ValueError, match=r"pretrained_embeddings\['source'\].*\(3, 32\)"):
        tiny_translator(SOURCES, TARGETS, pretrained_embeddings={"source": np.zeros((3, 32))})
    with pytest.raises(ValueError, match=r"`pretrained_embeddings`.*\['encoder'\]"):
        tiny_translator(SOURCES, TARGETS, pretrained_embeddings={"encoder": np.zeros((3, 32))})
    with pytest.raises(ValueError, match=r"`source_texts` is empty"):
        zoo.lstm_translator([], TARGETS)
    with pytest.raises(TypeError, match=r"`target_texts`.*None"):
        zoo.lstm_translator(SOURCES, None)


def test_catalog_builds_named_configurations_with_overrides():
    model = zoo.build("lstm-sutskever", SOURCES, TARGETS, units=32, embedding_dim=16)
    backbone = model.backbone
    assert (backbone.num_layers, backbone.reverse_source, backbone.units) == (4, True, 32)
    with pytest.raises(ValueError, match=r"'lstm-huge'.*lstm-small.*lstm-sutskever"):
        zoo.build("lstm-huge", SOURCES, TARGETS)
