"""zoo.memory_network with linear start learns bAbI-style task 2 (two supporting facts): it
answers held-out stories, its hops attend to the two supporting sentences in order, and the
phase it trained to survives the .keras file and the export."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401 (registers the ops the export's tokenizer uses)

import zoo
from tests import learning

STORIES, QUESTIONS, ANSWERS = zoo.datasets.babi_tasks(2, 1000, seed=0)
VALIDATION = zoo.datasets.babi_tasks(2, 100, seed=2)
HELD_OUT = zoo.datasets.babi_tasks(2, 200, seed=1, return_supporting_facts=True)


def attends_in_order(hop_weights, facts):
    """Whether a hop's largest weight is on the first fact and a later hop's on the second."""
    first, second = facts
    focus = list(hop_weights.argmax(axis=-1))
    return first in focus and second in focus[focus.index(first) + 1 :]


def held_out_measures(model):
    stories, questions, answers, facts = HELD_OUT
    predicted, attention = model.predict(stories, questions, return_attention=True)
    pairs = zip(attention, facts, strict=True)
    return {
        "accuracy": np.mean([p == a for p, a in zip(predicted, answers, strict=True)]),
        "in_order": np.mean([attends_in_order(one["hop_weights"], fact) for one, fact in pairs]),
    }


@pytest.fixture(scope="module")
def trained():
    learning.set_seed()
    model = zoo.memory_network(STORIES, QUESTIONS, ANSWERS, hops=3, linear_start=True)
    learning.fit_to_plateau(
        model,
        STORIES,
        QUESTIONS,
        ANSWERS,
        validation_data=VALIDATION,
        name="memory network: bAbI task 2, held out",
        measure=held_out_measures,
        bars={"accuracy": 0.95, "in_order": 0.9},
        max_epochs=80,
    )
    return model


@learning.learning
def test_answers_held_out_stories_of_task_2_attending_to_both_facts_in_order(trained):
    assert not trained.backbone.hop_attention.is_linear()
    measures = held_out_measures(trained)
    assert measures["accuracy"] >= 0.95
    assert measures["in_order"] >= 0.9


def test_linear_hops_weigh_sentences_by_their_scores():
    model = zoo.memory_network(STORIES[:50], QUESTIONS[:50], ANSWERS[:50], linear_start=True)
    _, attention = model.predict(STORIES[0], QUESTIONS[0], return_attention=True)
    assert not np.allclose(attention["hop_weights"].sum(axis=-1), 1.0)
    model.backbone.hop_attention.end_linear_phase()
    _, attention = model.predict(STORIES[0], QUESTIONS[0], return_attention=True)
    np.testing.assert_allclose(attention["hop_weights"].sum(axis=-1), 1.0, atol=1e-5)


@pytest.fixture(scope="module", params=[True, False], ids=["linear", "softmax"])
def phased(request):
    """A small untrained model in its linear phase or past it, and whether it is linear."""
    model = zoo.memory_network(STORIES[:50], QUESTIONS[:50], ANSWERS[:50], linear_start=True)
    if not request.param:
        model.backbone.hop_attention.end_linear_phase()
    return model, request.param


def test_the_phase_survives_the_keras_file(phased, tmp_path):
    model, linear = phased
    _, attention = model.predict(STORIES[:20], QUESTIONS[:20], return_attention=True)
    model.save(tmp_path / "memory_network.keras")
    reloaded = zoo.load(tmp_path / "memory_network.keras")
    assert reloaded.backbone.hop_attention.is_linear() == linear
    _, reloaded_attention = reloaded.predict(STORIES[:20], QUESTIONS[:20], return_attention=True)
    for one, other in zip(attention, reloaded_attention, strict=True):
        np.testing.assert_allclose(one["hop_weights"], other["hop_weights"], atol=1e-6)


def test_the_phase_survives_the_export(phased, tmp_path):
    model, _ = phased
    model.export(tmp_path / "export")
    serve = tf.saved_model.load(str(tmp_path / "export")).signatures["serving_default"]
    served = serve(stories=tf.constant(STORIES[:20]), questions=tf.constant(QUESTIONS[:20]))
    answers = [answer.decode() for answer in served["answers"].numpy()]
    assert answers == model.predict(STORIES[:20], QUESTIONS[:20])
