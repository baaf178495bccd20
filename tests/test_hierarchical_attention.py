"""The hierarchical attention classifier, on documents decided by one keyword sentence."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests import learning
from tests.test_case import numpy_masked_softmax
from zoo.datasets.keyword_documents import KEYWORD_CLASSES, NO_KEYWORD, keyword_documents
from zoo.export import serve_in_fresh_process
from zoo.layers.attention_pooling import AttentionPooling
from zoo.models.hierarchical_attention import hierarchical_attention_classifier
from zoo.tasks.text_classifier import TextClassifier
from zoo.text.segmentation import split_sentences

# One document in five has no keyword and the label "none": otherwise the model can learn
# one topic as "no other keyword seen" and never needs to find that topic's sentence.
DATA = {"min_sentences": 3, "max_sentences": 6, "no_keyword_fraction": 0.2}
TRAIN_DOCUMENTS, TRAIN_LABELS = keyword_documents(800, seed=0, **DATA)
TEST_DOCUMENTS, TEST_LABELS, TEST_KEYWORD_INDICES = keyword_documents(
    200, seed=1, return_keyword_index=True, **DATA
)
KEYWORDS = {word for words in KEYWORD_CLASSES.values() for word in words}
MAX_SENTENCES, MAX_WORDS = 8, 12


def small_classifier(documents=TRAIN_DOCUMENTS, labels=TRAIN_LABELS):
    # 16 GRU units a direction: with 32, under seed 2, the word GRU carried one class's
    # keyword to the sentence's end and the word attention peaked there in 71% of keyword
    # sentences, at 100% accuracy; with 16 it peaked on the keyword under seeds 0-9.
    model = hierarchical_attention_classifier(
        documents,
        labels,
        vocabulary_size=200,
        max_sentences=MAX_SENTENCES,
        max_words=MAX_WORDS,
        embedding_dim=32,
        units=16,
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01))
    return model


def keyword_hit_rates(attention):
    """The shares of held-out documents with a keyword whose strongest sentence weight is on
    the keyword's sentence, and whose strongest word weight there is on the keyword."""
    sentence_hits, word_hits = [], []
    for found, index in zip(attention, TEST_KEYWORD_INDICES, strict=True):
        if index is None:
            continue
        sentence_hits.append(np.argmax(found["sentence_weights"]) == index)
        keyword_sentence = found["words"][index]
        word_hits.append(keyword_sentence[np.argmax(found["word_weights"][index])] in KEYWORDS)
    return np.mean(sentence_hits), np.mean(word_hits)


def keyword_task_measures(model):
    labels, attention = model.predict(TEST_DOCUMENTS, return_attention=True)
    sentence_hits, word_hits = keyword_hit_rates(attention)
    accuracy = np.mean([p == t for p, t in zip(labels, TEST_LABELS, strict=True)])
    return {"accuracy": accuracy, "sentence hits": sentence_hits, "word hits": word_hits}


@pytest.fixture(scope="module")
def model():
    learning.set_seed()
    model = small_classifier()
    learning.fit_to_plateau(
        model,
        TRAIN_DOCUMENTS,
        TRAIN_LABELS,
        batch_size=32,
        validation_data=(TEST_DOCUMENTS[:64], TEST_LABELS[:64]),
        name="hierarchical attention: the keyword task",
        measure=keyword_task_measures,
        bars={"accuracy": 0.95, "sentence hits": 0.9, "word hits": 0.9},
        max_epochs=20,
    )
    return model


@pytest.fixture(scope="module")
def predictions(model):
    return model.predict(TEST_DOCUMENTS, return_probabilities=True, return_attention=True)


# === AttentionPooling ===
RNG = np.random.default_rng(0)
VALUES = RNG.normal(size=(4, 5, 6)).astype("float32")
PADDING_MASK = np.array(
    [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0], [0, 0, 0, 0, 0]], dtype=bool
)
REAL_ROWS = PADDING_MASK.any(axis=-1)


def numpy_attention_pooling(layer, values, padding_mask):
    hidden = np.tanh(values @ layer.projection.kernel.numpy() + layer.projection.bias.numpy())
    weights = numpy_masked_softmax(hidden @ layer.context_vector.numpy(), padding_mask)
    return np.einsum("bl,bld->bd", weights, values), weights


@pytest.fixture(scope="module")
def pooling():
    """A layer, and its pooled values and weights under PADDING_MASK."""
    layer = AttentionPooling(7)
    pooled, weights = layer(VALUES, padding_mask=PADDING_MASK)
    return layer, np.asarray(pooled), np.asarray(weights)


def test_attention_pooling_matches_numpy(pooling):
    layer, pooled, weights = pooling
    assert pooled.shape == (4, 6) and weights.shape == (4, 5)
    expected_pooled, expected_weights = numpy_attention_pooling(
        layer, VALUES[REAL_ROWS], PADDING_MASK[REAL_ROWS]
    )
    assert np.abs(weights[REAL_ROWS] - expected_weights).max() < 1e-5
    assert np.abs(pooled[REAL_ROWS] - expected_pooled).max() < 1e-5


def test_attention_pooling_gives_padding_exactly_zero_weight(pooling):
    _, _, weights = pooling
    assert (weights[~PADDING_MASK] == 0).all()
    np.testing.assert_allclose(weights[REAL_ROWS].sum(axis=-1), 1.0, rtol=1e-6)


def test_attention_pooling_pools_a_row_of_padding_alone_to_zeros(pooling):
    # Rather than averaging its padding.
    _, pooled, weights = pooling
    assert (pooled[~REAL_ROWS] == 0).all() and (weights[~REAL_ROWS] == 0).all()


def test_attention_pooling_without_a_mask_treats_every_position_as_real(pooling):
    layer, _, _ = pooling
    _, unmasked = layer(VALUES)
    np.testing.assert_allclose(
        unmasked, numpy_attention_pooling(layer, VALUES, np.ones((4, 5), bool))[1], atol=1e-5
    )


def test_attention_pooling_survives_a_keras_file_round_trip(tmp_path):
    values = keras.Input((None, 6))
    padding_mask = keras.Input((None,), dtype="bool")
    outputs = AttentionPooling(7, name="pooling")(values, padding_mask=padding_mask)
    pooling_model = keras.Model([values, padding_mask], outputs)
    pooling_model.save(tmp_path / "pooling.keras")
    restored = keras.saving.load_model(tmp_path / "pooling.keras")
    assert restored.get_layer("pooling").get_config()["units"] == 7
    for original, loaded in zip(
        pooling_model.predict([VALUES, PADDING_MASK], verbose=0),
        restored.predict([VALUES, PADDING_MASK], verbose=0),
        strict=True,
    ):
        np.testing.assert_array_equal(original, loaded)


# === The keyword documents ===
def test_keyword_documents_are_deterministic():
    documents, labels, _ = keyword_documents(50, seed=3, return_keyword_index=True)
    assert (documents, labels) == keyword_documents(50, seed=3)
    assert documents != keyword_documents(50, seed=4)[0]


def test_keyword_documents_hold_one_keyword_sentence():
    documents, labels, indices = keyword_documents(50, seed=3, return_keyword_index=True)
    for document, label, index in zip(documents, labels, indices, strict=True):
        sentences = [set(re.findall(r"[a-z]+", s.lower())) for s in document.split(". ")]
        assert [i for i, words in enumerate(sentences) if words & KEYWORDS] == [index]
        assert (sentences[index] & KEYWORDS).pop() in KEYWORD_CLASSES[label]


def test_no_keyword_fraction_gives_that_share_of_documents_no_keyword_sentence():
    _, labels, indices = keyword_documents(
        200, seed=3, no_keyword_fraction=0.5, return_keyword_index=True
    )
    assert 60 < labels.count(NO_KEYWORD) < 140
    assert [index is None for index in indices] == [label == NO_KEYWORD for label in labels]


def test_split_sentences_in_graph():
    documents = tf.constant(
        ["One two. Three four?  Five!\n\nSix", "", "   ", 'He said "hi." Then left', "a.b c"]
    )
    assert split_sentences(documents).to_list() == [
        [b"One two.", b"Three four?", b"Five!", b"Six"],
        [],
        [],
        [b'He said "hi."', b"Then left"],
        [b"a.b c"],
    ]


# === The trained classifier ===
@learning.learning
def test_learns_the_keyword_task(model, predictions):
    labels, probabilities, _ = predictions
    accuracy = np.mean([p == t for p, t in zip(labels, TEST_LABELS, strict=True)])
    assert accuracy >= 0.95
    metrics = model.evaluate(TEST_DOCUMENTS, TEST_LABELS, verbose=0)
    assert set(metrics) == {"loss", "accuracy"}
    assert metrics["accuracy"] == pytest.approx(accuracy, abs=1e-6)
    assert metrics["loss"] < 0.2
    assert probabilities.shape == (200, 5) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)
    assert [model.class_names[i] for i in probabilities.argmax(-1)] == labels
    assert model.class_names == ("food", "music", "none", "sports", "weather")


@learning.learning
def test_sentence_attention_points_at_the_keyword_sentence(predictions):
    _, _, attention = predictions
    for document, found in zip(TEST_DOCUMENTS, attention, strict=True):
        # Only real positions come back: one weight per sentence, one per token.
        expected = split_sentences(tf.constant([document]))[0].numpy()
        assert found["sentences"] == [sentence.decode() for sentence in expected]
        assert len(found["sentence_weights"]) == len(found["sentences"])
        assert [len(w) for w in found["words"]] == [len(w) for w in found["word_weights"]]
        np.testing.assert_allclose(found["sentence_weights"].sum(), 1.0, rtol=1e-5)
    assert sum(index is not None for index in TEST_KEYWORD_INDICES) > 120
    sentence_hits, word_hits = keyword_hit_rates(attention)
    assert sentence_hits >= 0.9
    assert word_hits >= 0.9


def test_single_document_gives_a_single_label_and_attention(model, predictions):
    label, probabilities, attention = model.predict(
        TEST_DOCUMENTS[0], return_probabilities=True, return_attention=True
    )
    assert label == predictions[0][0]
    np.testing.assert_allclose(probabilities, predictions[1][0], atol=1e-6)
    assert attention["sentences"] == predictions[2][0]["sentences"]
    assert model.predict(TEST_DOCUMENTS[0]) == label


LONG_DOCUMENT = " ".join(
    ["Rain " + "kalo " * 100 + "suvi.", *(f"Kalo{i} suvi mopa." for i in range(MAX_SENTENCES + 4))]
)


@pytest.fixture(scope="module")
def long_and_empty(model):
    """The labels and attention of a long document and an empty one, in one batch."""
    return model.predict([LONG_DOCUMENT, ""], return_attention=True)


def test_a_long_document_is_truncated_as_documented(model, long_and_empty):
    (label, _), (attention, _) = long_and_empty
    # The first max_sentences sentences, max_words tokens each.
    assert len(attention["sentences"]) == MAX_SENTENCES
    assert [len(words) for words in attention["words"]] == [MAX_WORDS] + [4] * 7
    assert model.predict(" ".join(attention["sentences"])) == label


def test_an_empty_document_has_defined_outputs(model, long_and_empty):
    (_, label), (_, attention) = long_and_empty
    assert label in model.class_names
    assert attention["sentences"] == attention["words"] == []
    assert attention["word_weights"] == []
    assert attention["sentence_weights"].shape == (0,)


def test_integer_labels_come_back_as_integers():
    numbers = {"food": 3, "music": 7, "none": 0, "sports": 9, "weather": 11}
    labels = [numbers[label] for label in TRAIN_LABELS[:40]]
    model = small_classifier(TRAIN_DOCUMENTS[:40], np.array(labels))
    assert model.class_names == (0, 3, 7, 9, 11)
    predicted = model.predict(TRAIN_DOCUMENTS[:3])
    assert all(type(label) is int and label in model.class_names for label in predicted)
    assert type(model.predict(TRAIN_DOCUMENTS[0])) is int


def test_keras_file_round_trip_predicts_identically(model, predictions, tmp_path):
    model.save(tmp_path / "classifier.keras")
    restored = zoo.load(tmp_path / "classifier.keras")
    assert isinstance(restored, TextClassifier)
    assert restored.class_names == model.class_names
    labels, probabilities = restored.predict(TEST_DOCUMENTS, return_probabilities=True)
    assert labels == predictions[0]
    np.testing.assert_array_equal(probabilities, predictions[1])
    for original, loaded in zip(model.weights, restored.weights, strict=True):
        np.testing.assert_array_equal(original, loaded)
    # It comes back compiled, with the metrics `evaluate` reports.
    assert restored.evaluate(TEST_DOCUMENTS[:32], TEST_LABELS[:32], verbose=0) == pytest.approx(
        model.evaluate(TEST_DOCUMENTS[:32], TEST_LABELS[:32], verbose=0)
    )


def test_export_reloads_without_zoo_and_equals_predict(model, tmp_path):
    documents = [
        *TEST_DOCUMENTS[:8],
        "",
        "Kalo tennis suvi!\nMopa dita.  Rain",
        "Kalo " * 3000 + "snow.",
    ]
    expected, expected_probabilities = model.predict(documents, return_probabilities=True)
    model.export(tmp_path / "export")
    served = serve_in_fresh_process(tmp_path / "export", documents)
    assert served["labels"] == (expected, "string")
    np.testing.assert_allclose(served["probabilities"][0], expected_probabilities, atol=1e-5)
    assert served["probabilities"][1] == "float32"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda m: m.predict([]), ValueError, r"`x` is empty"),
        (lambda m: m.predict(None), TypeError, r"`x` must be a string.*NoneType"),
        (lambda m: m.predict(["ok", 3]), TypeError, r"`x\[1\]` must be a string, got int"),
        (lambda m: m.predict(np.zeros((2, 2))), ValueError, r"`x` must be one-dimensional"),
        (lambda m: m.predict(["ok"], sampler="greedy"), TypeError, r"Unexpected.*sampler"),
        (lambda m: m.fit(["a", "b"], ["food"]), ValueError, r"`x` and `y`.*same length.*2 and 1"),
        (lambda m: m.fit([], []), ValueError, r"`x` is empty"),
        (lambda m: m.fit(["a"], ["dessert"]), ValueError, r"`y\[0\]` is 'dessert', not one of"),
        (lambda m: m.fit(["a"], [1.5]), TypeError, r"`y\[0\]` must be a str or an int.*float"),
        (lambda m: m.fit(["a"], [True]), TypeError, r"`y\[0\]` must be a str or an int.*bool"),
        (lambda m: m.fit(["a"], "food"), TypeError, r"`y` must be a list of labels"),
        (lambda m: m.evaluate(["a"], None), TypeError, r"`y` must be a list of labels.*None"),
        (
            lambda m: m.fit(["a"], ["food"], validation_data=["a"]),
            ValueError,
            r"`validation_data` must be \(documents, labels\)",
        ),
        (
            lambda m: m.fit(["a"], ["food"], validation_data=(["a"], ["b", "c"])),
            ValueError,
            r"`validation_data\[0\]` and `validation_data\[1\]` must have the same length",
        ),
        (
            lambda m: hierarchical_attention_classifier(["a b."], ["x", "y", 3]),
            TypeError,
            r"`labels` mixes str and int",
        ),
        (
            lambda m: hierarchical_attention_classifier(["a b.", "c d."], ["x", "x"]),
            ValueError,
            r"`labels` must hold at least two classes, got only \['x'\]",
        ),
        (
            lambda m: hierarchical_attention_classifier(["a b."], ["x", "y"]),
            ValueError,
            r"`documents` and `labels` must have the same length, got 1 and 2",
        ),
        (
            lambda m: hierarchical_attention_classifier(None, ["x", "y"]),
            TypeError,
            r"`documents` must be a string or a list of strings",
        ),
        (
            lambda m: hierarchical_attention_classifier(["", " "], ["x", "y"]),
            ValueError,
            r"`documents` holds no sentence",
        ),
        (
            lambda m: hierarchical_attention_classifier(["a.", "b."], ["x", "y"], max_words=0),
            ValueError,
            r"`max_words` must be a positive int, got 0",
        ),
        (
            lambda m: hierarchical_attention_classifier(["a.", "b."], ["x", "y"], dropout=1.0),
            ValueError,
            r"`dropout` must be a number in \[0, 1\), got 1.0",
        ),
    ],
)
def test_bad_input_raises_clear_errors_at_the_public_verb(model, call, error, message):
    with pytest.raises(error, match=message):
        call(model)
