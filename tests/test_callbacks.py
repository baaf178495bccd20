"""zoo.callbacks.GenerationMetrics: decoded validation metrics in each epoch's logs."""

import keras
import numpy as np
import pytest

import zoo
from tests.test_case import MEMORY_SOURCES, MEMORY_TARGETS, tiny_translator

SOURCES, TARGETS = MEMORY_SOURCES[:8], MEMORY_TARGETS[:8]


@pytest.fixture(scope="module")
def frozen_translator():
    """A translator whose weights training does not move (a learning rate of zero): its
    outputs are the same at every epoch's end as before `fit`. Short sequences: untrained,
    it decodes to the longest."""
    model = tiny_translator(SOURCES, TARGETS, sequence_length=16)
    model.compile(optimizer=keras.optimizers.SGD(0.0), sampler="greedy")
    return model


def test_logs_the_bleu_of_the_decoded_outputs_every_epoch(frozen_translator):
    outputs = frozen_translator.predict(SOURCES)
    callbacks = [
        zoo.callbacks.GenerationMetrics(SOURCES, outputs),  # outputs as their own references
        zoo.callbacks.GenerationMetrics(SOURCES, TARGETS),
    ]
    expected = zoo.metrics.corpus_bleu(outputs, TARGETS)
    assert expected < 50
    history = frozen_translator.fit(SOURCES, TARGETS, epochs=2, callbacks=callbacks[:1], verbose=0)
    assert history.history["val_bleu"] == [pytest.approx(100.0)] * 2
    history = frozen_translator.fit(SOURCES, TARGETS, epochs=2, callbacks=callbacks[1:], verbose=0)
    assert history.history["val_bleu"] == [pytest.approx(expected)] * 2


def test_early_stopping_reads_the_logged_bleu(frozen_translator):
    early_stopping = keras.callbacks.EarlyStopping("val_bleu", mode="max", patience=1)
    outputs = frozen_translator.predict(SOURCES)
    callbacks = [zoo.callbacks.GenerationMetrics(SOURCES, outputs), early_stopping]
    history = frozen_translator.fit(SOURCES, TARGETS, epochs=5, callbacks=callbacks, verbose=0)
    assert early_stopping.best == pytest.approx(100.0)
    assert len(history.history["loss"]) == 2  # no better BLEU after the first epoch


@pytest.mark.parametrize(
    "arguments, message",
    [
        ((SOURCES, TARGETS[:3]), "got 8 inputs and 3 references"),
        ((SOURCES, TARGETS, None, 0), "batch_size"),
    ],
)
def test_refuses_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        zoo.callbacks.GenerationMetrics(*arguments)


def test_refuses_a_model_that_does_not_decode():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    callback = zoo.callbacks.GenerationMetrics(SOURCES, TARGETS)
    with pytest.raises(TypeError, match="got a Sequential"):
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)), callbacks=[callback], verbose=0)
