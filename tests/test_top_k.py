"""zoo.decoding.top_k against tf.math.top_k: the same values and indices, ties included."""

import numpy as np
import pytest
import tensorflow as tf

from zoo.decoding.top_k import top_k


def rows_with_ties(batch_size, length, seed):
    """Each value about twice (ties across blocks among the largest), a third at -inf."""
    rng = np.random.default_rng(seed)
    values = rng.integers(0, length // 2, size=(batch_size, length)).astype("float32")
    values[rng.random((batch_size, length)) < 0.3] = -np.inf
    values[0, :] = -np.inf  # fewer than k finite values: ties at -inf decide
    values[0, [5, length - 1]] = 1.0
    return tf.constant(values)


@pytest.mark.parametrize("jit_compile", [False, True], ids=["eager", "xla"])
@pytest.mark.parametrize(
    "length, k",
    [(32000, 4), (1001, 4), (1000, 10), (300, 1), (100, 4)],
    ids=["beam-sized", "padded-last-block", "k10", "k1", "short-row"],
)
def test_top_k_matches_tf_top_k(length, k, jit_compile):
    values = rows_with_ties(batch_size=6, length=length, seed=length + k)

    expected_values, expected_indices = tf.math.top_k(values, k)
    top_values, indices = tf.function(lambda x: top_k(x, k), jit_compile=jit_compile)(values)

    np.testing.assert_array_equal(top_values.numpy(), expected_values.numpy())
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
