"""Span-corruption pre-training: the sentinels are in the vocabulary, the objective is
learned, and models that cannot be pre-trained say why."""

import re

import numpy as np
import pytest
import tensorflow as tf

from tests import learning
from tests.test_case import MEMORY_SOURCES, MEMORY_TARGETS, tiny_translator
from tests.test_span_corruption import reconstruct
from zoo.models import t5
from zoo.tasks import SpanCorruption
from zoo.text import sentinel_ids

TEXTS = MEMORY_SOURCES + MEMORY_TARGETS
TINY = {"vocabulary_size": 300, "hidden_dim": 64, "num_heads": 4, "intermediate_dim": 128}


def tiny_t5(**options):
    learning.set_seed()
    return t5(MEMORY_SOURCES, MEMORY_TARGETS, num_layers=2, dropout=0.0, **{**TINY, **options})


def test_the_sentinels_close_the_shared_vocabulary():
    model = tiny_t5(sentinels=10)
    vocabulary = model.source_vectorizer.vocabulary
    assert vocabulary[-10:] == [f"[SENTINEL_{index}]" for index in range(10)]
    assert sentinel_ids(vocabulary) == list(range(len(vocabulary) - 10, len(vocabulary)))
    assert model.backbone.vocabulary_size == len(vocabulary)
    assert tiny_t5(sentinels=0).source_vectorizer.vocabulary == vocabulary[:-10]


@pytest.fixture(scope="module")
def model():
    """A T5 whose encoder reads 22 tokens."""
    return tiny_t5(sentinels=10, sequence_length=22)


@pytest.fixture(scope="module")
def dataset(model):
    return model.pretraining_dataset(TEXTS * 5, batch_size=8)


@pytest.fixture(scope="module")
def rebuilt(model, dataset):
    """The dataset's examples with their spans put back, and how many tokens were dropped."""
    vectorizer = model.source_vectorizer
    sentinels = sentinel_ids(vectorizer.vocabulary)
    examples, dropped = [], 0
    for x, y, weight in dataset:
        for inputs, targets, real in zip(
            x["encoder_token_ids"].numpy(), y.numpy(), weight.numpy() > 0, strict=True
        ):
            inputs = inputs[inputs != vectorizer.pad_token_id][:-1].tolist()  # drop [END]
            targets = targets[real][:-1].tolist()
            examples.append(reconstruct(inputs, targets, sentinels))
            dropped += sum(token not in sentinels for token in targets)
    return examples, dropped


def text_tokens(model):
    return model.source_vectorizer.tokenize(tf.constant(TEXTS * 5)).flat_values.numpy()


def test_pretraining_examples_pack_the_texts(model, rebuilt):
    examples, _ = rebuilt
    # Every token of the texts once, in examples as long as the encoder reads.
    assert sorted(np.concatenate(examples)) == sorted(text_tokens(model))
    assert [len(example) for example in examples].count(21) == len(examples) - 1


def test_pretraining_drops_spans_as_asked(model, rebuilt):
    _, dropped = rebuilt
    assert dropped / len(text_tokens(model)) == pytest.approx(0.15, abs=0.02)


def test_the_pretraining_dataset_knows_its_length(dataset, rebuilt):
    # So Keras shows the steps and does not warn it ran out.
    examples, _ = rebuilt
    assert dataset.cardinality() == -(-len(examples) // 8)


def test_pretraining_batches_by_tokens_hold_as_many_examples_as_fit(model):
    # Each example as long as the encoder reads: 22 tokens.
    by_tokens = model.pretraining_dataset(TEXTS * 5, batch_tokens=100)
    sizes = [int(tf.shape(y)[0]) for _, y, _ in by_tokens]
    assert sizes[:-1] == [4] * (len(sizes) - 1) and 0 < sizes[-1] <= 4


@learning.learning
def test_pretraining_learns_to_fill_in_the_dropped_spans():
    model = tiny_t5(sentinels=10, sequence_length=16)
    history = model.pretrain(TEXTS, batch_size=8, epochs=20, verbose=0).history
    # A model that learned nothing stays near log(vocabulary size) and copies no span.
    assert history["loss"][-1] < history["loss"][0] / 2
    assert history["token_accuracy"][-1] > 0.6
    # Fine-tuning continues from the pre-trained weights with the same optimiser.
    steps = model.optimizer.iterations.numpy()
    model.fit(MEMORY_SOURCES, MEMORY_TARGETS, batch_size=8, epochs=1, verbose=0)
    batches = model.training_dataset(MEMORY_SOURCES, MEMORY_TARGETS, batch_size=8)
    assert model.optimizer.iterations.numpy() == steps + int(batches.cardinality())


def test_models_that_cannot_be_pretrained_say_why():
    with pytest.raises(ValueError, match="`pretrain` needs sentinel tokens in the vocabulary"):
        tiny_t5(sentinels=0).pretrain(TEXTS)
    with pytest.raises(ValueError, match="`pretrain` needs one vocabulary for both sides"):
        tiny_translator().pretrain(TEXTS)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 0}, "`batch_size` must be a positive int, got 0"),
        ({"batch_tokens": 21}, "`batch_tokens` must hold at least the longest example: got 21"),
        ({"objective": "mlm"}, "`objective` must be one of ['bart', 'span_corruption']"),
    ],
)
def test_bad_arguments_raise_errors_naming_them(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        tiny_t5(sentinels=10).pretrain(TEXTS, **options)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"noise_density": 0.0}, "`noise_density` must be a number in (0, 1), got 0.0"),
        ({"mean_noise_span_length": 0.5}, "`mean_noise_span_length` must be a number of at"),
    ],
)
def test_bad_objective_settings_raise_errors_naming_them(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        SpanCorruption(**options)
