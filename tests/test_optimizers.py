import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.schedules import InverseSquareRootSchedule

SHAPES = [(50, 8), (8,)]  # an embedding-like table and a bias


def trained_variables(optimizer, sparse=False, steps=5):
    """Variables after `steps` updates by `optimizer` from the same random gradients, as a
    compiled train step applies them. With `sparse`, the table's gradient comes as an
    embedding lookup's: IndexedSlices, here with a repeated row; else as its dense sum."""
    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(size=shape).astype("float32")) for shape in SHAPES]
    optimizer.build(variables)

    @tf.function
    def apply(gradients):
        optimizer.apply(gradients, variables)

    for _ in range(steps):
        table, bias = (rng.normal(size=shape).astype("float32") for shape in SHAPES)
        slices = tf.IndexedSlices(table[:3], tf.constant([3, 7, 3]), tf.constant(SHAPES[0]))
        apply([slices if sparse else tf.convert_to_tensor(slices), tf.constant(bias)])
    return [variable.numpy() for variable in variables]


def assert_same_variables(actual, expected):
    # TensorFlow's kernel computes 1 - beta_2 in float32 (1 - 0.999 = 0.00099998713), Keras
    # in float64 (0.001): steps differ by up to about 4e-5 of their size (measured), so by
    # 1e-5 at most over these 5 steps of about 1e-2.
    for actual_variable, expected_variable in zip(actual, expected, strict=True):
        np.testing.assert_allclose(actual_variable, expected_variable, rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    "options",
    [
        {"learning_rate": 1e-2},
        {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.98, "epsilon": 1e-9, "clipnorm": 1.0},
        {"learning_rate": InverseSquareRootSchedule(8, warmup_steps=2, scale=0.1)},
        {"learning_rate": 1e-2, "amsgrad": True},
    ],
    ids=["defaults", "transformer-settings", "schedule", "amsgrad"],
)
def test_fused_adam_updates_as_keras_adam_does(options):
    fused = trained_variables(zoo.optimizers.Adam(**options))
    assert_same_variables(fused, trained_variables(keras.optimizers.Adam(**options)))


def test_fused_adam_updates_an_embedding_as_keras_adam_does():
    fused = trained_variables(zoo.optimizers.Adam(1e-2), sparse=True)
    assert_same_variables(fused, trained_variables(keras.optimizers.Adam(1e-2), sparse=True))
    # Keras squares a repeated row's slices before it sums them: not the dense sum's update.
    dense = trained_variables(keras.optimizers.Adam(1e-2))
    assert not np.allclose(dense[0][3], fused[0][3], rtol=1e-4)


def test_fused_adam_serializes_as_itself():
    optimizer = zoo.optimizers.Adam(learning_rate=3e-4, beta_2=0.98, clipnorm=1.0)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(restored) is zoo.optimizers.Adam
    assert restored.get_config() == optimizer.get_config()
