"""zoo.memory_network and its QuestionAnswerer: it learns bAbI-style task 1 and answers
held-out stories; predict, evaluate, the .keras file and the export agree; bad input is named."""

import re

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401 (registers the ops the export's tokenizer uses)

import zoo
from tests import learning

STORIES, QUESTIONS, ANSWERS = zoo.datasets.babi_tasks(1, 1000, seed=0)
HELD_OUT = zoo.datasets.babi_tasks(1, 200, seed=1, return_supporting_facts=True)


@pytest.fixture(scope="module")
def trained():
    learning.set_seed()
    model = zoo.memory_network(STORIES, QUESTIONS, ANSWERS, hops=3)
    stories, questions, answers, _ = HELD_OUT

    def held_out_accuracy(model):
        predicted = model.predict(stories, questions)
        return {"accuracy": np.mean([p == a for p, a in zip(predicted, answers, strict=True)])}

    learning.fit_to_plateau(
        model,
        STORIES,
        QUESTIONS,
        ANSWERS,
        name="memory network: bAbI task 1, held out",
        measure=held_out_accuracy,
        bars={"accuracy": 0.95},
        max_epochs=60,
    )
    return model


@learning.learning
def test_answers_held_out_stories_of_task_1(trained):
    stories, questions, answers, _ = HELD_OUT
    assert trained.evaluate(stories, questions, answers, verbose=0)["accuracy"] >= 0.95


@learning.learning
def test_the_last_hop_attends_to_the_supporting_sentence(trained):
    stories, questions, _, facts = HELD_OUT
    _, attention = trained.predict(stories, questions, return_attention=True)
    pairs = zip(attention, facts, strict=True)
    on_fact = [one["hop_weights"][-1].argmax() == fact for one, (fact,) in pairs]
    assert np.mean(on_fact) >= 0.9


def test_attention_rows_are_distributions_over_the_story_sentences(trained):
    stories, questions, _, _ = HELD_OUT
    answer, attention = trained.predict(stories[0], questions[0], return_attention=True)
    assert answer == trained.predict(stories[0], questions[0])
    assert attention["sentences"] == stories[0].split("\n")
    assert attention["hop_weights"].shape == (3, len(attention["sentences"]))
    np.testing.assert_allclose(attention["hop_weights"].sum(axis=-1), 1.0, atol=1e-5)
    # The maps go straight into the plot: the sentences down, one column per hop.
    heatmap = zoo.plot_attention(**attention).axes[0]
    assert [label.get_text() for label in heatmap.get_yticklabels()] == attention["sentences"]
    np.testing.assert_array_equal(heatmap.images[0].get_array(), attention["hop_weights"].T)


def test_keras_file_round_trip_answers_identically(trained, tmp_path):
    stories, questions, _, _ = HELD_OUT
    trained.save(tmp_path / "memory_network.keras")
    reloaded = zoo.load(tmp_path / "memory_network.keras")
    assert reloaded.predict(stories, questions) == trained.predict(stories, questions)


def test_export_answers_as_predict(trained, tmp_path):
    stories, questions, _, _ = HELD_OUT
    trained.export(tmp_path / "export")
    serve = tf.saved_model.load(str(tmp_path / "export")).signatures["serving_default"]
    served = serve(stories=tf.constant(stories[:20]), questions=tf.constant(questions[:20]))
    assert [answer.decode() for answer in served["answers"].numpy()] == trained.predict(
        stories[:20], questions[:20]
    )
    assert served["probabilities"].shape == (20,)
    assert np.all((served["probabilities"].numpy() > 0) & (served["probabilities"].numpy() <= 1))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda m: m.predict(["Mary went to the kitchen."], [3]), TypeError, "`questions[0]`"),
        (lambda m: m.predict([" \n "], ["Where is Mary?"]), ValueError, "`stories[0]` holds no"),
        (
            lambda m: m.predict(STORIES[:2], QUESTIONS[:1]),
            ValueError,
            "`stories` and `questions` must have the same length, got 2 and 1.",
        ),
        (
            lambda m: m.fit(STORIES[:1], QUESTIONS[:1], ["moon"], verbose=0),
            ValueError,
            "`answers[0]` is 'moon', not one of the model's answers",
        ),
    ],
)
def test_bad_input_is_named(call, error, message):
    model = zoo.memory_network(STORIES[:50], QUESTIONS[:50], ANSWERS[:50], embedding_dim=4)
    with pytest.raises(error, match=re.escape(message)):
        call(model)


def test_an_answer_of_several_words_is_refused():
    with pytest.raises(ValueError, match="Every answer must be one word of the vocabulary"):
        zoo.memory_network(STORIES[:2], QUESTIONS[:2], ["the kitchen", "garden"])
