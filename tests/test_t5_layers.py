import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras_hub.src.models.t5.t5_multi_head_attention import T5MultiHeadAttention

from zoo.layers.feed_forward import FeedForward
from zoo.layers.relative_position_bias import RelativePositionBias, relative_position_bucket

RNG = np.random.default_rng(0)
DISTANCES = np.arange(-300, 301)


def published_bucket(relative_position, bidirectional, num_buckets, max_distance):
    """Mesh TensorFlow's `_relative_position_bucket`, transcribed for one distance.

    As published: n = query - key, and the logarithm of a float32 ratio.
    """
    bucket = 0
    n = -relative_position
    if bidirectional:
        num_buckets //= 2
        bucket += int(n < 0) * num_buckets
        n = abs(n)
    else:
        n = max(n, 0)
    max_exact = num_buckets // 2
    if n < max_exact:
        return bucket + n
    log_ratio = np.log(np.float32(n) / np.float32(max_exact))
    if_large = max_exact + int(
        log_ratio / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    )
    return bucket + min(if_large, num_buckets - 1)


BUCKET_SETTINGS = [
    (True, 32, 128),
    (False, 32, 128),
    (True, 64, 256),
    (False, 16, 64),
    (True, 8, 20),
    (True, 33, 100),
    (False, 128, 1000),
]


@pytest.mark.parametrize(("bidirectional", "num_buckets", "max_distance"), BUCKET_SETTINGS)
def test_relative_position_bucket_matches_the_published_formula(
    bidirectional, num_buckets, max_distance
):
    expected = [
        published_bucket(int(d), bidirectional, num_buckets, max_distance) for d in DISTANCES
    ]
    buckets = relative_position_bucket(DISTANCES, bidirectional, num_buckets, max_distance)
    np.testing.assert_array_equal(buckets, expected)
    keras_hub_buckets = T5MultiHeadAttention._relative_position_bucket(
        tf.constant(DISTANCES, tf.int32), bidirectional, num_buckets, max_distance
    )
    np.testing.assert_array_equal(keras_hub_buckets, expected)
    # No bucket lies outside the range, and every one is used once the table reaches
    # max_distance, bar T5's unused "distance +0" bucket and the odd one out of 33.
    valid = set(range(num_buckets - num_buckets % 2)) - (
        {num_buckets // 2} if bidirectional else set()
    )
    assert set(expected) <= valid
    assert max_distance > DISTANCES.max() or set(expected) == valid


def test_relative_position_bucket_on_hand_computed_t5_values():
    # T5's defaults, worked by hand: 8 exact buckets a side when bidirectional, 16 when
    # causal, then floor(log(n / max_exact) / log(128 / max_exact) * (half - max_exact)).
    distances = [-200, -20, -16, -12, -8, -7, -1, 0, 1, 7, 8, 12, 200]
    np.testing.assert_array_equal(
        relative_position_bucket(distances, bidirectional=True),
        [15, 10, 10, 9, 8, 7, 1, 0, 17, 23, 24, 25, 31],
    )
    np.testing.assert_array_equal(
        relative_position_bucket(distances, bidirectional=False),
        [31, 17, 16, 12, 8, 7, 1, 0, 0, 0, 0, 0, 0],
    )


@pytest.mark.parametrize("bidirectional", [True, False], ids=["encoder", "decoder"])
def test_relative_position_bias_looks_up_the_bucket_of_key_minus_query(bidirectional):
    layer = RelativePositionBias(
        num_heads=3, num_buckets=16, max_distance=20, bidirectional=bidirectional
    )
    bias = np.asarray(layer(query_length=30, key_length=40))
    assert bias.shape == (1, 3, 30, 40)
    table = layer.embeddings.numpy()
    expected = np.empty((3, 30, 40), "float32")
    for query in range(30):
        for key in range(40):
            expected[:, query, key] = table[published_bucket(key - query, bidirectional, 16, 20)]
    np.testing.assert_array_equal(bias[0], expected)


def test_a_cached_decoding_step_gets_its_row_of_the_full_matrix_under_xla():
    layer = RelativePositionBias(num_heads=4, bidirectional=False)
    full = np.asarray(layer(query_length=12, key_length=12))

    @tf.function(jit_compile=True)
    def step_bias(step_query, cache, index):
        # Lengths from shapes and the position as a tensor, as a decoding loop has them.
        return layer(
            query_length=tf.shape(step_query)[1], key_length=tf.shape(cache)[1], query_start=index
        )

    for index in range(12):
        row = step_bias(tf.zeros([2, 1, 8]), tf.zeros([2, 12, 8]), tf.constant(index))
        np.testing.assert_array_equal(row, full[:, :, index : index + 1])
    assert step_bias.experimental_get_tracing_count() == 1
    np.testing.assert_array_equal(
        layer(query_length=3, key_length=12, query_start=5), full[:, :, 5:8]
    )


def test_relative_position_bias_survives_serialization():
    layer = RelativePositionBias(num_heads=2, num_buckets=8, max_distance=16, bidirectional=False)
    bias = layer(query_length=5, key_length=5)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    restored(query_length=1, key_length=1)
    restored.set_weights(layer.get_weights())
    assert restored.get_config() == layer.get_config()
    np.testing.assert_array_equal(restored(query_length=5, key_length=5), bias)


def test_relative_position_bias_follows_the_dtype_policy():
    half = RelativePositionBias(num_heads=2, dtype="mixed_float16")
    assert half(query_length=2, key_length=2).dtype == "float16"
    assert half.embeddings.dtype == "float32"


def test_relative_position_bias_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"`num_heads`.*0"):
        RelativePositionBias(0)
    with pytest.raises(ValueError, match=r"`num_buckets` must be at least 4.*2"):
        RelativePositionBias(2, num_buckets=2)
    with pytest.raises(ValueError, match=r"`max_distance` must exceed the 8 exact.*8"):
        RelativePositionBias(2, max_distance=8)
    with pytest.raises(ValueError, match=r"`max_distance` must exceed the 16 exact"):
        relative_position_bucket([1], bidirectional=False, max_distance=16)
    with pytest.raises(ValueError, match=r"`bidirectional`.*'yes'"):
        RelativePositionBias(2, bidirectional="yes")


def t5_layer_norm(x, scale, epsilon=1e-6):
    """Hugging Face's T5LayerNorm: no mean subtraction, no bias, variance in float32."""
    x = x.astype("float64")
    return scale * x / np.sqrt(np.mean(x**2, axis=-1, keepdims=True) + epsilon)


def test_keras_rms_normalization_is_t5_layer_norm():
    # keras.layers.RMSNormalization is T5's layer norm, so zoo has no RMSNorm of its own.
    inputs = RNG.normal(size=(2, 5, 8)).astype("float32") * 3
    layer = keras.layers.RMSNormalization()
    layer.build(inputs.shape)
    scale = RNG.normal(size=8).astype("float32")
    layer.set_weights([scale])
    assert layer.epsilon == 1e-6 and len(layer.weights) == 1
    np.testing.assert_allclose(layer(inputs), t5_layer_norm(inputs, scale), rtol=1e-5)
    # Half-precision inputs are squared in float32: 1000**2 overflows float16.
    half = keras.layers.RMSNormalization(dtype="mixed_float16")
    large = np.full((1, 4), 1000, "float16")
    np.testing.assert_allclose(half(large), t5_layer_norm(large, 1.0), rtol=1e-3)


def numpy_feed_forward(layer, inputs):
    kernels = {w.path.split("/")[-2]: w.numpy() for w in layer.weights}
    if layer.activation == "relu":
        hidden = np.maximum(inputs @ kernels["input_projection"], 0)
    else:
        x = inputs @ kernels["input_projection"]
        if layer.activation == "gelu_approximate":
            hidden = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
        else:
            hidden = 0.5 * x * (1 + np.vectorize(math.erf)(x / np.sqrt(2)))
    if layer.gated:
        hidden = hidden * (inputs @ kernels["gate_projection"])
    return hidden @ kernels["output_projection"]


FEED_FORWARDS = {
    "t5-relu": dict(activation="relu"),
    "t5.1.1-gated-gelu": dict(activation="gelu_approximate", gated=True),
    "gated-exact-gelu": dict(activation="gelu", gated=True),
}


def built_feed_forward(options):
    """(layer, inputs, inference outputs): a feed-forward layer with dropout, called once."""
    layer = FeedForward(hidden_dim=6, intermediate_dim=10, dropout=0.5, **options)
    inputs = RNG.normal(size=(2, 3, 4)).astype("float32")
    return layer, inputs, layer(inputs)


@pytest.mark.parametrize("options", FEED_FORWARDS.values(), ids=FEED_FORWARDS.keys())
def test_feed_forward_matches_numpy(options):
    layer, inputs, outputs = built_feed_forward(options)
    assert outputs.shape == (2, 3, 6)
    np.testing.assert_allclose(outputs, numpy_feed_forward(layer, inputs), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("options", FEED_FORWARDS.values(), ids=FEED_FORWARDS.keys())
def test_feed_forward_has_no_biases(options):
    layer, _, _ = built_feed_forward(options)
    assert sorted(w.path.split("/")[-1] for w in layer.weights) == ["kernel"] * (
        3 if layer.gated else 2
    )


@pytest.mark.parametrize("options", FEED_FORWARDS.values(), ids=FEED_FORWARDS.keys())
def test_feed_forward_applies_dropout_in_training(options):
    layer, inputs, outputs = built_feed_forward(options)
    dropped = np.asarray(layer(inputs, training=True))
    assert not np.allclose(dropped, outputs)


def test_feed_forward_survives_a_keras_file_round_trip(tmp_path):
    inputs = keras.Input((None, 4))
    layer = FeedForward(6, 10, "gelu_approximate", gated=True, dropout=0.1)
    model = keras.Model(inputs, layer(inputs))
    model.save(tmp_path / "feed_forward.keras")
    restored = keras.saving.load_model(tmp_path / "feed_forward.keras")
    batch = RNG.normal(size=(2, 3, 4)).astype("float32")
    np.testing.assert_allclose(restored.predict(batch, verbose=0), model.predict(batch, verbose=0))
    assert restored.layers[-1].get_config() == layer.get_config()


def test_feed_forward_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"`intermediate_dim`.*0"):
        FeedForward(4, 0)
    with pytest.raises(ValueError, match=r"`activation`.*'swishy'"):
        FeedForward(4, 8, activation="swishy")
    with pytest.raises(ValueError, match=r"`dropout`.*1.5"):
        FeedForward(4, 8, dropout=1.5)
