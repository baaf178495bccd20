import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.schedules import InverseSquareRootSchedule, transformer_optimizer

HIDDEN_DIM = 64
WARMUP_STEPS = 100
ITERATIONS = [0, 1, WARMUP_STEPS - 1, WARMUP_STEPS, 10 * WARMUP_STEPS]


def numpy_learning_rate(iteration, hidden_dim=HIDDEN_DIM, warmup_steps=WARMUP_STEPS, scale=1.0):
    step = iteration + 1.0
    return scale * hidden_dim**-0.5 * min(step**-0.5, step * warmup_steps**-1.5)


@pytest.mark.parametrize("iteration", ITERATIONS)
def test_matches_formula(iteration):
    schedule = InverseSquareRootSchedule(HIDDEN_DIM, warmup_steps=WARMUP_STEPS, scale=2.0)
    np.testing.assert_allclose(
        schedule(iteration), numpy_learning_rate(iteration, scale=2.0), rtol=1e-6
    )


def test_peaks_at_end_of_warmup():
    schedule = InverseSquareRootSchedule(HIDDEN_DIM, warmup_steps=WARMUP_STEPS)
    rates = np.array([schedule(iteration) for iteration in range(3 * WARMUP_STEPS)])
    assert rates.argmax() == WARMUP_STEPS - 1
    np.testing.assert_allclose(rates.max(), HIDDEN_DIM**-0.5 * WARMUP_STEPS**-0.5, rtol=1e-6)
    assert rates[0] > 0


def test_works_in_tf_function():
    schedule = InverseSquareRootSchedule(HIDDEN_DIM, warmup_steps=WARMUP_STEPS)
    rate = tf.function(schedule)(tf.constant(WARMUP_STEPS, tf.int64))
    assert rate.dtype == tf.float32
    np.testing.assert_allclose(rate, numpy_learning_rate(WARMUP_STEPS), rtol=1e-6)


def test_serialization_round_trip():
    schedule = InverseSquareRootSchedule(HIDDEN_DIM, warmup_steps=WARMUP_STEPS, scale=0.5)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert isinstance(restored, InverseSquareRootSchedule)
    assert restored.get_config() == schedule.get_config()
    np.testing.assert_allclose(restored(7), schedule(7))


def test_optimizer_round_trip_keeps_schedule():
    optimizer = transformer_optimizer(HIDDEN_DIM, warmup_steps=WARMUP_STEPS)
    restored = keras.optimizers.Adam.from_config(optimizer.get_config())
    assert restored.get_config() == optimizer.get_config()
    for iteration in (WARMUP_STEPS - 1, 10 * WARMUP_STEPS):
        restored.iterations.assign(iteration)
        np.testing.assert_allclose(
            restored.learning_rate, numpy_learning_rate(iteration), rtol=1e-6
        )


def test_transformer_optimizer_uses_paper_settings():
    optimizer = transformer_optimizer(HIDDEN_DIM)
    assert optimizer.beta_1 == 0.9
    assert optimizer.beta_2 == 0.98
    assert optimizer.epsilon == 1e-9


def test_transformer_optimizer_keeps_a_moving_average_of_the_weights():
    optimizer = transformer_optimizer(HIDDEN_DIM, warmup_steps=1, use_ema=True, ema_momentum=0.5)
    variable = keras.Variable(np.ones(3, "float32"))
    optimizer.build([variable])
    average = None
    for step in range(4):
        optimizer.apply([keras.ops.full((3,), step + 1.0)], [variable])
        # Keras starts the average at the first step's weights.
        weights = variable.numpy()
        average = weights if average is None else 0.5 * average + 0.5 * weights
    assert not np.allclose(variable.numpy(), average)
    optimizer.finalize_variable_values([variable])  # what `fit` ends with
    np.testing.assert_allclose(variable.numpy(), average, rtol=1e-6)


@pytest.mark.parametrize(
    "arguments, name",
    [
        ({"hidden_dim": 0}, "hidden_dim"),
        ({"hidden_dim": 64.0}, "hidden_dim"),
        ({"hidden_dim": 64, "warmup_steps": -1}, "warmup_steps"),
        ({"hidden_dim": 64, "warmup_steps": 1.5}, "warmup_steps"),
        ({"hidden_dim": 64, "scale": 0.0}, "scale"),
        ({"hidden_dim": 64, "scale": "1"}, "scale"),
    ],
)
def test_invalid_arguments(arguments, name):
    with pytest.raises(ValueError, match=name):
        InverseSquareRootSchedule(**arguments)
