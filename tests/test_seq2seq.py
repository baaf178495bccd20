"""The uniform interface, on one tiny translator that memorises forty pairs."""

import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests import learning
from tests.test_case import (
    MEMORY_OUTPUTS,
    MEMORY_SOURCES,
    MEMORY_TARGETS,
    check_export_equals_predict,
    tiny_translator,
)
from zoo.export import serve_in_fresh_process

BEAM = zoo.decoding.BeamSampler(num_beams=4)


@pytest.fixture(scope="module")
def model():
    learning.set_seed()
    model = tiny_translator(units=128, embedding_dim=64)
    learning.fit_to_memorise(
        model,
        MEMORY_SOURCES,
        MEMORY_TARGETS,
        MEMORY_OUTPUTS,
        name="seq2seq: the LSTM memorises 40 pairs",
        max_epochs=300,
    )
    return model


@pytest.fixture(scope="module")
def greedy_outputs(model):
    return model.predict(MEMORY_SOURCES)


@learning.learning
def test_memorises_the_corpus_under_greedy_decoding(greedy_outputs):
    assert greedy_outputs == MEMORY_OUTPUTS


@learning.learning
def test_memorises_the_corpus_under_beam_search(model):
    assert model.predict(MEMORY_SOURCES, sampler=BEAM) == MEMORY_OUTPUTS


@learning.learning
def test_evaluate_reports_loss_token_accuracy_and_bleu(model):
    metrics = model.evaluate(MEMORY_SOURCES, MEMORY_OUTPUTS, verbose=0)
    assert set(metrics) == {"loss", "token_accuracy", "bleu"}
    assert metrics["loss"] < 0.1 and metrics["token_accuracy"] > 0.98
    assert metrics["bleu"] == pytest.approx(100.0)


def test_beam_n_best_lists_are_sorted(model):
    n_best, scores = model.predict(
        MEMORY_SOURCES[:6],
        sampler=zoo.decoding.BeamSampler(num_beams=3, return_all_beams=True),
        return_scores=True,
    )
    assert [len(candidates) for candidates in n_best] == [3] * 6
    assert scores.shape == (6, 3) and (np.diff(scores, axis=1) <= 0).all()
    assert [candidates[0] for candidates in n_best] == MEMORY_OUTPUTS[:6]


def test_one_beam_equals_greedy(model, greedy_outputs):
    sources = MEMORY_SOURCES[:6]
    one_beam, one_beam_scores = model.predict(
        sources, sampler=zoo.decoding.BeamSampler(num_beams=1), return_scores=True
    )
    greedy, greedy_scores = model.predict(sources, return_scores=True)
    assert one_beam == greedy == greedy_outputs[:6]
    np.testing.assert_allclose(one_beam_scores, greedy_scores, rtol=1e-5)


def test_sampling_with_a_seed_is_reproducible(model):
    def sample(seed):
        sampler = zoo.decoding.RandomSampler(temperature=3.0, seed=seed)
        return model.predict(MEMORY_SOURCES[:10], sampler=sampler)

    assert sample(7) == sample(7)
    assert sample(7) != sample(8)


def test_single_string_gives_a_single_string(model, greedy_outputs):
    assert model.predict(MEMORY_SOURCES[0]) == greedy_outputs[0]


def test_keras_file_round_trip_predicts_identically(model, greedy_outputs, tmp_path):
    model.compile(sampler=BEAM)
    try:
        model.save(tmp_path / "model.keras")
    finally:
        model.compile(sampler="greedy")
    restored = zoo.load(tmp_path / "model.keras")
    assert isinstance(restored.sampler, zoo.decoding.BeamSampler)
    assert restored.predict(MEMORY_SOURCES, sampler="greedy") == greedy_outputs
    for original, loaded in zip(model.weights, restored.weights, strict=True):
        np.testing.assert_array_equal(original, loaded)


def test_export_reloads_without_zoo_and_equals_predict(model, tmp_path):
    sources = [*MEMORY_SOURCES[:8], "", "Who " * 2500]
    expected, expected_scores = model.predict(sources, return_scores=True)
    model.export(tmp_path / "export")
    served = serve_in_fresh_process(tmp_path / "export", sources)
    assert set(served) == {"outputs", "scores"}
    assert served["outputs"] == (expected, "string")
    np.testing.assert_allclose(served["scores"][0], expected_scores, rtol=1e-5)
    assert served["scores"][1] == "float32"


def test_export_with_a_beam_default_equals_predict_with_it(model, tmp_path):
    beam = zoo.decoding.BeamSampler(num_beams=3, length_penalty=0.6)
    check_export_equals_predict(model, tmp_path / "export", MEMORY_SOURCES[:8], beam)


PAIRS = tf.data.Dataset.from_tensor_slices((MEMORY_SOURCES[:8], MEMORY_TARGETS[:8]))


@pytest.fixture(scope="module")
def small_model():
    return tiny_translator(MEMORY_SOURCES[:8], MEMORY_TARGETS[:8])


@pytest.mark.parametrize(
    "data",
    [
        {"x": PAIRS},
        {"x": PAIRS.batch(4)},
        {"x": np.array(MEMORY_SOURCES[:8]), "y": np.array(MEMORY_TARGETS[:8])},
    ],
    ids=["pairs", "batched pairs", "arrays"],
)
def test_fit_accepts_datasets_and_arrays(small_model, data):
    history = small_model.fit(**data, epochs=2, batch_size=4, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]


def test_evaluate_on_a_dataset_scores_as_on_lists(small_model):
    expected = small_model.evaluate(MEMORY_SOURCES[:8], MEMORY_TARGETS[:8], verbose=0)
    assert small_model.evaluate(PAIRS.batch(4), verbose=0) == pytest.approx(expected, rel=1e-6)


LONG_TEXT = "Who? " * 2000


@pytest.fixture(scope="module")
def empty_and_long(model):
    """The translations of an empty string and a very long one, in one batch."""
    return model.predict(["", LONG_TEXT])


def test_an_empty_string_gives_a_string(empty_and_long):
    empty, _ = empty_and_long
    assert isinstance(empty, str)


def test_a_very_long_string_is_translated_from_its_first_tokens(model, empty_and_long):
    # Documented truncation.
    _, long = empty_and_long
    source = model.source_vectorizer
    first_tokens = source.tokenize(tf.constant([LONG_TEXT]))[:, : source.sequence_length - 1]
    prefix = source.detokenize(first_tokens.to_tensor()).numpy()[0].decode()
    assert len(prefix) < len(LONG_TEXT) // 10
    assert model.predict(prefix) == long


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda m: m.predict([]), ValueError, r"`x` is empty"),
        (lambda m: m.predict(None), TypeError, r"`x` must be a string.*NoneType"),
        (lambda m: m.predict(["ok", 3]), TypeError, r"`x\[1\]` must be a string, got int"),
        (lambda m: m.predict(np.zeros((2, 2))), ValueError, r"`x` must be one-dimensional"),
        (lambda m: m.fit(["a", "b"], ["a"]), ValueError, r"`x` and `y`.*same length.*2 and 1"),
        (lambda m: m.fit([], []), ValueError, r"`x` is empty"),
        (lambda m: m.fit(["a"], [b"\xff"]), ValueError, r"`y\[0\]` is bytes.*UTF-8"),
        (lambda m: m.evaluate(["a"], None), TypeError, r"`y` must be a string.*None"),
        (
            lambda m: m.fit(tf.data.Dataset.from_tensor_slices([1, 2])),
            TypeError,
            r"`x` must be a tf.data.Dataset of \(source, target\) string pairs",
        ),
        (
            lambda m: m.fit(["a"], ["b"], validation_data=["a"]),
            ValueError,
            r"`validation_data` must be \(source_texts, target_texts\)",
        ),
        (lambda m: m.predict(["a"], sampler="top_p"), ValueError, r"greedy"),
    ],
)
def test_bad_input_raises_clear_errors_at_the_public_verb(model, call, error, message):
    with pytest.raises(error, match=message):
        call(model)
