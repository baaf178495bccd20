"""The one cached attention of the Transformer and T5 layers: what keras.layers.MultiHeadAttention
computes from the same weights, and cached steps equal to full causal attention."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.layers import CachedMultiHeadAttention, T5Attention

RNG = np.random.default_rng(0)
LAYERS = {
    "transformer": lambda: CachedMultiHeadAttention(num_heads=2, head_dim=4),
    "t5": lambda: T5Attention(num_heads=2, key_value_dim=4),
}


def test_matches_keras_multi_head_attention_with_the_same_weights():
    query = RNG.normal(size=(2, 5, 8)).astype("float32")
    value = RNG.normal(size=(2, 7, 6)).astype("float32")
    mask = RNG.random((2, 5, 7)) < 0.7
    mask[..., 0] = True  # every query attends to something
    layer = CachedMultiHeadAttention(num_heads=2, head_dim=4)
    layer.build(query.shape, value.shape)
    reference = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    reference.build(query.shape, value.shape)
    for name in ("query_dense", "key_dense", "value_dense", "output_dense"):
        pairs = zip(getattr(layer, name).weights, getattr(reference, name).weights, strict=True)
        for ours, theirs in pairs:
            theirs.assign(ours + RNG.normal(size=ours.shape).astype("float32"))  # biases too
            ours.assign(theirs)
    outputs, weights = layer(query, value, attention_mask=mask)
    expected, expected_weights = reference(
        query, value, attention_mask=mask, return_attention_scores=True
    )
    np.testing.assert_allclose(outputs, expected, atol=1e-5)
    np.testing.assert_allclose(weights, expected_weights, atol=1e-6)
    assert np.all(weights.numpy()[np.broadcast_to(~mask[:, None], weights.shape)] == 0)


@pytest.mark.parametrize("kind", sorted(LAYERS))
def test_cache_steps_equal_full_causal_attention_under_xla(kind):
    layer = LAYERS[kind]()
    inputs = RNG.normal(size=(2, 5, 8)).astype("float32")
    position_bias = RNG.normal(size=(1, 2, 5, 5)).astype("float32")
    causal = np.tril(np.ones((5, 5), bool))[None]
    full, full_weights = layer(inputs, position_bias=position_bias, attention_mask=causal)

    @tf.function(jit_compile=True)
    def step(token, cache, index):
        positions = tf.range(5)
        return layer(
            token,
            position_bias=tf.gather(position_bias, [index], axis=2),
            attention_mask=tf.reshape(positions <= index, (1, 1, 5)),
            cache=cache,
            cache_index=index,
        )

    cache = (tf.zeros((2, 2, 5, 4)), tf.zeros((2, 2, 5, 4)))  # [batch, heads, length, dim]
    for index in range(5):
        outputs, weights, cache = step(inputs[:, index : index + 1], cache, tf.constant(index))
        np.testing.assert_allclose(outputs[:, 0], full[:, index], atol=1e-5)
        np.testing.assert_allclose(weights[:, :, 0], full_weights[:, :, index], atol=1e-6)
    assert step.experimental_get_tracing_count() == 1
    np.testing.assert_allclose(cache, layer.key_value(inputs), atol=1e-6)
    # Precomputed keys and values: the inputs given as `value` go unread.
    cross, _, _ = layer(inputs, inputs * 0, cache=layer.key_value(inputs))
    np.testing.assert_allclose(cross, layer(inputs)[0], atol=1e-6)


def test_a_cache_index_without_a_cache_is_refused():
    layer = LAYERS["transformer"]()
    with pytest.raises(ValueError, match="`cache_index` needs a `cache`, got cache=None."):
        layer(np.zeros((1, 2, 8), "float32"), cache_index=0)


def test_survives_serialization():
    layer = CachedMultiHeadAttention(4, 8, dropout=0.1, use_bias=False, scale_queries=False)
    restored = CachedMultiHeadAttention.from_config(layer.get_config())
    options = ("num_heads", "head_dim", "dropout", "use_bias", "scale_queries")
    assert [getattr(restored, name) for name in options] == [4, 8, 0.1, False, False]
