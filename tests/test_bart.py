"""BART: the text-to-text contract (cached decoding equal to teacher forcing, causal,
padding-blind, it memorises, saves and exports), the same logits as keras-hub's BART with the
same weights, and denoising pre-training that learns."""

import re

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

import zoo
from tests import learning
from tests.test_case import MEMORY_OUTPUTS, MEMORY_SOURCES, MEMORY_TARGETS, teacher_forced_batch
from tests.text_to_text_contract import SOURCES, TARGETS, TextToTextContract
from zoo.models.bart_preset import copy_weights
from zoo.text import mask_token_id

# A short warm-up to a peak that post-LN BART takes (a quarter of the Transformer's).
FAST = {"warmup_steps": 100, "learning_rate_scale": 0.25}


class TestBart(TextToTextContract):
    build = staticmethod(zoo.bart)
    tiny = {
        "vocabulary_size": 300,
        "hidden_dim": 32,
        "num_heads": 4,
        "intermediate_dim": 64,
        "num_layers": 2,
        "dropout": 0.0,
    }
    bad_options = (
        ({"num_heads": 5}, "`num_heads` must divide `hidden_dim` (32)"),
        ({"dropout": 1.5}, "`dropout` must be a number in [0, 1)"),
        ({"num_layers": 0}, "`num_layers` must be a positive int"),
        ({"warmup_steps": 0}, "warmup_steps"),
        ({"learning_rate_scale": 0}, "`learning_rate_scale` must be a positive number, got 0"),
    )
    misspelt_option = {"positions": "sinusoidal"}


random_model, tiny_bart = TestBart.random_model, TestBart.tiny_model


def test_logits_equal_keras_hubs_bart_with_the_same_weights():
    model = random_model()
    ours = model.backbone
    keras.utils.set_random_seed(1)
    hub = keras_hub.models.BartBackbone(
        vocabulary_size=ours.vocabulary_size,
        num_layers=2,
        num_heads=4,
        hidden_dim=32,
        intermediate_dim=64,
        dropout=0.0,
        max_sequence_length=ours.max_sequence_length,
    )
    copy_weights(hub, ours)
    x, _, _ = teacher_forced_batch(model, SOURCES, TARGETS)
    # keras-hub's BART reads int32 masks; its LM head is the token embedding transposed.
    hub_inputs = {name: tf.cast(value, tf.int32) for name, value in x.items()}
    decoded = hub(hub_inputs)["decoder_sequence_output"]
    expected = hub.token_embedding(decoded, reverse=True).numpy()
    mask = np.asarray(x["decoder_padding_mask"])
    np.testing.assert_allclose(np.asarray(ours(x))[mask], expected[mask], atol=1e-4)


def test_the_mask_token_closes_the_shared_vocabulary():
    model = random_model()
    vocabulary = model.source_vectorizer.vocabulary
    assert model.source_vectorizer is model.target_vectorizer
    assert mask_token_id(vocabulary) == len(vocabulary) - 1 == model.backbone.vocabulary_size - 1
    assert model.backbone.source_embedding is model.backbone.target_embedding


def test_the_kernels_start_from_barts_initializer():
    # N(0, 0.02) truncated, drawn afresh for each kernel.
    keras.utils.set_random_seed(0)
    fresh = zoo.models.BartBackbone(300, num_encoder_layers=1, num_decoder_layers=1)
    kernels = [fresh.decoder_layers[0].intermediate_dense.kernel.numpy()]
    kernels.append(fresh.decoder_layers[0].output_dense.kernel.numpy())
    assert all(0.015 < kernel.std() < 0.022 for kernel in kernels)
    assert not np.allclose(kernels[0].ravel(), kernels[1].ravel())
    assert fresh.decoder_layers[0].activation is keras.activations.gelu


def test_pretraining_examples_rebuild_the_text_from_a_masked_one():
    model = tiny_bart(sequence_length=22)
    vectorizer = model.source_vectorizer
    mask = mask_token_id(vectorizer.vocabulary)
    texts = MEMORY_SOURCES + MEMORY_TARGETS
    targets, original_tokens, kept = [], 0, 0
    dataset = model.pretraining_dataset(texts, batch_size=8)
    for x, y, weight in dataset:
        for inputs, outputs, real in zip(
            x["encoder_token_ids"].numpy(), y.numpy(), weight.numpy() > 0, strict=True
        ):
            inputs = inputs[inputs != vectorizer.pad_token_id][:-1]
            targets.append(tuple(outputs[real][:-1]))
            kept += np.sum(inputs != mask)
            original_tokens += len(targets[-1])
    originals = vectorizer.tokenize(tf.constant(texts)).to_list()
    assert sorted(targets) == sorted(tuple(tokens[:20]) for tokens in originals)
    assert 1 - kept / original_tokens == pytest.approx(0.3, abs=0.03)  # the masked share
    assert dataset.cardinality() == len(list(dataset))


@learning.learning
def test_pretraining_learns_to_rebuild_masked_text():
    model = tiny_bart(MEMORY_SOURCES, MEMORY_TARGETS, hidden_dim=64, **FAST)
    texts = MEMORY_SOURCES + MEMORY_TARGETS
    history = model.pretrain(texts, batch_size=8, epochs=30, verbose=0).history
    # A model that learned nothing stays near log(vocabulary size) and copies nothing.
    assert history["loss"][-1] < history["loss"][0] / 2
    assert history["token_accuracy"][-1] > 0.6


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mask_ratio": 1.0}, "`mask_ratio` must be a number in [0, 1), got 1.0"),
        ({"poisson_lambda": -1}, "`poisson_lambda` must be a positive number, got -1"),
    ],
)
def test_bad_objective_settings_raise_errors_naming_them(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        zoo.tasks.TextInfilling(**options)


def test_a_model_without_the_mask_token_says_what_to_build():
    model = zoo.t5(SOURCES, TARGETS, **TestBart.tiny)
    with pytest.raises(ValueError, match=re.escape("`pretrain` needs the mask token")):
        model.pretrain(SOURCES, objective="bart")


# === A trained model: memorises a corpus, then saves and exports ===
@pytest.fixture(scope="module")
def trained():
    learning.set_seed()
    model = zoo.bart(MEMORY_SOURCES, MEMORY_TARGETS, **{**TestBart.tiny, "hidden_dim": 64}, **FAST)
    learning.fit_to_memorise(
        model,
        MEMORY_SOURCES,
        MEMORY_TARGETS,
        MEMORY_OUTPUTS,
        name="bart: memorises 40 pairs",
        max_epochs=300,
        samplers=("greedy", "beam"),
    )
    return model
