import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import numpy_masked_softmax
from zoo.losses import LabelSmoothedCrossentropy

RNG = np.random.default_rng(0)
VOCABULARY_SIZE = 11
LOGITS = RNG.normal(scale=3.0, size=(3, 5, VOCABULARY_SIZE)).astype("float32")
LABELS = RNG.integers(0, VOCABULARY_SIZE, size=(3, 5))
ONE_HOT = np.eye(VOCABULARY_SIZE, dtype="float32")[LABELS]


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1, 0.3])
@pytest.mark.parametrize("from_logits", [True, False])
def test_matches_dense_keras_loss(label_smoothing, from_logits):
    y_pred = LOGITS if from_logits else numpy_masked_softmax(LOGITS)
    options = {"label_smoothing": label_smoothing, "from_logits": from_logits, "reduction": None}
    expected = keras.losses.CategoricalCrossentropy(**options)(ONE_HOT, y_pred)
    loss = LabelSmoothedCrossentropy(**options)(LABELS, y_pred)
    assert loss.shape == (3, 5)
    np.testing.assert_allclose(loss, expected, atol=1e-5)


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_gradient_matches_dense_keras_loss(label_smoothing):
    logits = tf.constant(LOGITS)

    def gradient(loss, labels):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            value = loss(labels, logits)
        return tape.gradient(value, logits)

    options = {"label_smoothing": label_smoothing, "from_logits": True}
    expected = gradient(keras.losses.CategoricalCrossentropy(**options), ONE_HOT)
    np.testing.assert_allclose(
        gradient(LabelSmoothedCrossentropy(**options), LABELS), expected, atol=1e-6
    )


def test_sample_weight_averages_over_weighted_tokens():
    sample_weight = np.ones((3, 5), "float32")
    sample_weight[1, 3:] = 0
    sample_weight[2, 1:] = 0
    per_token = keras.losses.CategoricalCrossentropy(
        label_smoothing=0.1, from_logits=True, reduction=None
    )(ONE_HOT, LOGITS)
    expected = (np.asarray(per_token) * sample_weight).sum() / sample_weight.sum()
    loss = LabelSmoothedCrossentropy(label_smoothing=0.1)(LABELS, LOGITS, sample_weight)
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_serialization_round_trip():
    loss = LabelSmoothedCrossentropy(label_smoothing=0.2, from_logits=False, name="smoothed")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert isinstance(restored, LabelSmoothedCrossentropy)
    assert restored.get_config() == loss.get_config()
    assert restored.label_smoothing == 0.2
    assert restored.from_logits is False
    probs = numpy_masked_softmax(LOGITS)
    np.testing.assert_allclose(restored(LABELS, probs), loss(LABELS, probs))


@pytest.mark.parametrize("label_smoothing", [-0.1, 1.0, "a"])
def test_invalid_label_smoothing(label_smoothing):
    with pytest.raises(ValueError, match="label_smoothing"):
        LabelSmoothedCrossentropy(label_smoothing=label_smoothing)
