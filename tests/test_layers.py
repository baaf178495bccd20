import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import numpy_masked_softmax
from zoo.layers import (
    BahdanauAttention,
    LuongAttention,
    ReversePaddedSequence,
    ScaledDotProductAttention,
)
from zoo.layers.luong_local_attention import LuongLocalAttention
from zoo.layers.multi_head_attention import MultiHeadAttention

RNG = np.random.default_rng(0)
QUERY = RNG.normal(size=(3, 4, 6)).astype("float32")
VALUES = RNG.normal(size=(3, 5, 6)).astype("float32")
PADDING_MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], bool)


def numpy_attention(scores, values, padding_mask):
    """Masked softmax; padding_mask is [batch, source] or [batch, query, source]."""
    mask = padding_mask[:, None, :] if padding_mask.ndim == 2 else padding_mask
    weights = numpy_masked_softmax(scores, mask)
    return weights @ values, weights


def reference_scores(layer, query, values):
    weights = {w.path.split("/")[-1]: w.numpy() for w in layer.weights}
    if isinstance(layer, BahdanauAttention):
        q = query @ layer.query_projection.kernel.numpy()
        k = values @ layer.key_projection.kernel.numpy()
        hidden = np.tanh(q[:, :, None, :] + k[:, None, :, :])
        return (hidden @ layer.score_vector.kernel.numpy())[..., 0]
    if isinstance(layer, ScaledDotProductAttention):
        return query @ values.transpose(0, 2, 1) / np.sqrt(values.shape[-1])
    if layer.score_name == "dot":
        return query @ values.transpose(0, 2, 1)
    if layer.score_name == "general":
        return query @ (values @ weights["key_kernel"]).transpose(0, 2, 1)
    concat_kernel = np.concatenate([weights["query_kernel"], weights["key_kernel"]], axis=0)
    pair_shape = (*query.shape[:2], values.shape[1])
    pairs = np.concatenate(
        [
            np.broadcast_to(query[:, :, None, :], (*pair_shape, query.shape[-1])),
            np.broadcast_to(values[:, None, :, :], (*pair_shape, values.shape[-1])),
        ],
        axis=-1,
    )
    return np.tanh(pairs @ concat_kernel) @ weights["score_vector"]


LAYERS = {
    "bahdanau": lambda: BahdanauAttention(7),
    "luong-dot": lambda: LuongAttention("dot"),
    "luong-general": lambda: LuongAttention("general"),
    "luong-concat": lambda: LuongAttention("concat", units=7),
    "scaled-dot": lambda: ScaledDotProductAttention(),
}


def check_padding_gets_zero_weight(weights):
    """Exactly zero on every padded position, a distribution over the real ones."""
    weights = np.asarray(weights)
    assert (weights[~np.broadcast_to(PADDING_MASK[:, None, :], weights.shape)] == 0).all()
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("make_layer", LAYERS.values(), ids=LAYERS.keys())
def test_attention_matches_numpy(make_layer):
    layer = make_layer()
    context, weights = layer(QUERY, VALUES, padding_mask=PADDING_MASK)
    expected_context, expected_weights = numpy_attention(
        reference_scores(layer, QUERY, VALUES), VALUES, PADDING_MASK
    )
    np.testing.assert_allclose(weights, expected_weights, atol=1e-5)
    np.testing.assert_allclose(context, expected_context, atol=1e-5)


@pytest.mark.parametrize("make_layer", LAYERS.values(), ids=LAYERS.keys())
def test_attention_gives_padding_zero_weight(make_layer):
    _, weights = make_layer()(QUERY, VALUES, padding_mask=PADDING_MASK)
    check_padding_gets_zero_weight(weights)


SAVED_LAYERS = {
    **LAYERS,
    "luong-local-p": lambda: LuongLocalAttention("concat", units=7, window=1),
    "luong-local-m": lambda: LuongLocalAttention("general", window=1, predictive=False),
    "multi-head": lambda: MultiHeadAttention(num_heads=2),
}


@pytest.mark.parametrize("make_layer", SAVED_LAYERS.values(), ids=SAVED_LAYERS.keys())
def test_attention_layer_survives_a_keras_file_round_trip(make_layer, tmp_path):
    query = keras.Input((None, 6))
    values = keras.Input((None, 6))
    padding_mask = keras.Input((None,), dtype="bool")
    context, weights = make_layer()(query, values, padding_mask=padding_mask)
    model = keras.Model([query, values, padding_mask], [context, weights])
    model.save(tmp_path / "attention.keras")
    restored = keras.saving.load_model(tmp_path / "attention.keras")
    for original, loaded in zip(
        model.predict([QUERY, VALUES, PADDING_MASK], verbose=0),
        restored.predict([QUERY, VALUES, PADDING_MASK], verbose=0),
        strict=True,
    ):
        np.testing.assert_allclose(original, loaded, atol=1e-6)


@pytest.mark.parametrize("make_layer", SAVED_LAYERS.values(), ids=SAVED_LAYERS.keys())
def test_keys_projected_beforehand_give_the_attention_of_the_values(make_layer):
    layer = make_layer()
    context, weights = layer(QUERY, VALUES, PADDING_MASK)
    keys = layer.project_keys(VALUES)
    given_context, given_weights = layer(QUERY, VALUES, PADDING_MASK, keys=keys)
    np.testing.assert_allclose(given_weights, weights, atol=1e-6)
    np.testing.assert_allclose(given_context, context, atol=1e-6)


@pytest.mark.parametrize("make_layer", SAVED_LAYERS.values(), ids=SAVED_LAYERS.keys())
def test_given_keys_are_scored_as_they_are(make_layer):
    """Keys of other encoder states weigh the values as those states would: the layer scores
    the keys it is given, neither projecting them again nor projecting the values instead."""
    layer = make_layer()
    other_values = np.random.default_rng(1).normal(size=VALUES.shape).astype("float32")
    _, expected_weights = layer(QUERY, other_values, PADDING_MASK)
    context, weights = layer(QUERY, VALUES, PADDING_MASK, keys=layer.project_keys(other_values))
    np.testing.assert_allclose(weights, expected_weights, atol=1e-6)
    if not isinstance(layer, MultiHeadAttention):  # whose context projects the values
        np.testing.assert_allclose(context, np.asarray(weights) @ VALUES, atol=1e-6)


def test_luong_attention_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"`score`.*'cosine'"):
        LuongAttention("cosine")
    for units in (None, -1, 2.5, True):
        with pytest.raises(ValueError, match=f"`units` must be a positive int, got {units!r}."):
            LuongAttention("concat", units=units)
    with pytest.raises(ValueError, match=r"score='dot' needs equal"):
        LuongAttention("dot")(QUERY, VALUES[..., :3])


def test_reverse_padded_sequence_keeps_padding_at_the_end():
    token_ids = np.array([[1, 2, 3, 0], [4, 5, 0, 0]])
    reversed_ids = ReversePaddedSequence()(token_ids, padding_mask=token_ids != 0)
    np.testing.assert_array_equal(reversed_ids, [[3, 2, 1, 0], [5, 4, 0, 0]])


# Local attention: a longer source, so that windows cut into it; rows with 9, 5 and 1 real
# source positions.
LOCAL_QUERY = RNG.normal(size=(3, 6, 6)).astype("float32")
LOCAL_VALUES = RNG.normal(size=(3, 9, 6)).astype("float32")
LOCAL_PADDING_MASK = np.arange(9)[None, :] < np.array([9, 5, 1])[:, None]


def numpy_local_attention(layer, query, values, padding_mask, query_start=0):
    source_length = values.shape[1]
    last_position = padding_mask.sum(axis=-1)[:, None] - 1
    if layer.predictive:
        weights = {w.path.split("/")[-1]: w.numpy().astype("float64") for w in layer.weights}
        gate = np.tanh(query @ weights["position_kernel"]) @ weights["position_vector"]
        aligned = last_position / (1 + np.exp(-gate))
    else:
        targets = query_start + np.arange(query.shape[1])[None, :]
        aligned = np.minimum(targets, last_position).astype("float64")
    distance = np.arange(source_length)[None, None, :] - aligned[..., None]
    if layer.window == 0:
        in_window = np.abs(distance) == np.abs(distance).min(axis=-1, keepdims=True)
    else:
        in_window = np.abs(distance) <= layer.window
    _, weights = numpy_attention(
        reference_scores(layer, query, values), values, in_window & padding_mask[:, None, :]
    )
    if layer.predictive and layer.window > 0:
        sigma = layer.window / 2
        weights = weights * np.exp(-(distance**2) / (2 * sigma**2))
    return weights @ values, weights, in_window


LOCAL_CASES = [
    ("general", True, 2, 0),
    ("dot", True, 1, 0),
    ("concat", True, 0, 0),
    ("general", True, 10, 0),
    ("general", False, 0, 0),
    ("dot", False, 1, 3),
    ("concat", False, 2, 2),
    ("general", False, 10, 0),
]


@pytest.mark.parametrize(("score", "predictive", "window", "query_start"), LOCAL_CASES)
def test_luong_local_attention_matches_numpy(score, predictive, window, query_start):
    layer = LuongLocalAttention(score, units=7, window=window, predictive=predictive)
    context, weights = layer(
        LOCAL_QUERY, LOCAL_VALUES, padding_mask=LOCAL_PADDING_MASK, query_start=query_start
    )
    expected_context, expected_weights, in_window = numpy_local_attention(
        layer, LOCAL_QUERY, LOCAL_VALUES, LOCAL_PADDING_MASK, query_start
    )
    np.testing.assert_allclose(weights, expected_weights, atol=1e-5)
    np.testing.assert_allclose(context, expected_context, atol=1e-5)
    weights = np.asarray(weights)
    attended = in_window & LOCAL_PADDING_MASK[:, None, :]
    assert (weights[~attended] == 0).all()
    assert (weights[attended] > 0).all()
    if not predictive or window == 0:
        np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-6)
    else:
        # The Gaussian scales the window down and nothing renormalises it; row 2 has a
        # single real position, p_t sits on it and its Gaussian factor is 1.
        assert (weights[:2].sum(axis=-1) < 1).all()
        np.testing.assert_allclose(weights[2].sum(axis=-1), 1.0, rtol=1e-6)


def test_local_m_aligns_query_t_with_source_t_up_to_the_last_real_position():
    layer = LuongLocalAttention("dot", window=0, predictive=False)
    _, weights = layer(LOCAL_QUERY, LOCAL_VALUES, LOCAL_PADDING_MASK, query_start=2)
    aligned = np.argmax(np.asarray(weights), axis=-1)
    np.testing.assert_array_equal(aligned, [[2, 3, 4, 5, 6, 7], [2, 3, 4, 4, 4, 4], [0] * 6])


@pytest.mark.parametrize("predictive", [True, False], ids=["local-p", "local-m"])
def test_luong_local_attention_one_query_at_a_time_equals_the_whole_sequence(predictive):
    layer = LuongLocalAttention("general", window=1, predictive=predictive)
    context, weights = layer(LOCAL_QUERY, LOCAL_VALUES, LOCAL_PADDING_MASK)
    for step in range(LOCAL_QUERY.shape[1]):
        # A Python int and a tensor, as a decoding loop passes the step index.
        start = step if step % 2 else tf.constant(step, "int32")
        step_context, step_weights = layer(
            LOCAL_QUERY[:, step : step + 1], LOCAL_VALUES, LOCAL_PADDING_MASK, query_start=start
        )
        np.testing.assert_allclose(step_weights[:, 0], weights[:, step], atol=1e-5)
        np.testing.assert_allclose(step_context[:, 0], context[:, step], atol=1e-5)


@pytest.mark.parametrize("predictive", [True, False], ids=["local-p", "local-m"])
def test_luong_local_attention_compiles_in_an_xla_while_loop(predictive):
    layer = LuongLocalAttention("general", window=1, predictive=predictive)
    _, expected_weights = layer(LOCAL_QUERY, LOCAL_VALUES, LOCAL_PADDING_MASK)
    num_steps = LOCAL_QUERY.shape[1]

    @tf.function(jit_compile=True)
    def decode(query, values, padding_mask):
        def body(step, all_weights):
            step_query = tf.slice(query, [0, step, 0], [-1, 1, -1])
            _, step_weights = layer(step_query, values, padding_mask, query_start=step)
            return step + 1, all_weights.write(step, step_weights[:, 0])

        _, all_weights = tf.while_loop(
            lambda step, _: step < num_steps,
            body,
            (tf.constant(0), tf.TensorArray(tf.float32, size=num_steps)),
        )
        return tf.transpose(all_weights.stack(), [1, 0, 2])

    weights = decode(LOCAL_QUERY, LOCAL_VALUES, LOCAL_PADDING_MASK)
    np.testing.assert_allclose(weights, expected_weights, atol=1e-5)


def test_luong_local_attention_gives_an_all_padding_row_no_weight():
    padding_mask = LOCAL_PADDING_MASK.copy()
    padding_mask[2] = False
    for predictive in (True, False):
        layer = LuongLocalAttention("general", window=2, predictive=predictive)
        context, weights = layer(LOCAL_QUERY, LOCAL_VALUES, padding_mask)
        assert (np.asarray(weights)[2] == 0).all()
        assert (np.asarray(context)[2] == 0).all()


def test_luong_local_attention_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"`window`.*-1"):
        LuongLocalAttention(window=-1)
    with pytest.raises(ValueError, match=r"`window`.*2\.5"):
        LuongLocalAttention(window=2.5)
    with pytest.raises(ValueError, match=r"`predictive`.*'yes'"):
        LuongLocalAttention(predictive="yes")
    with pytest.raises(ValueError, match=r"`score`.*'cosine'"):
        LuongLocalAttention("cosine")


def numpy_multi_head_attention(layer, query, values, padding_mask):
    inner = layer.attention

    def project(dense, inputs):
        kernel, bias = dense.kernel.numpy(), dense.bias.numpy()
        return np.einsum("btd,dhk->bthk", inputs, kernel) + bias

    queries = project(inner.query_dense, query)
    keys = project(inner.key_dense, values)
    head_values = project(inner.value_dense, values)
    scores = np.einsum("bthk,bshk->bhts", queries, keys) / np.sqrt(queries.shape[-1])
    contexts, weights = zip(
        *(
            numpy_attention(scores[:, head], head_values[:, :, head], padding_mask)
            for head in range(layer.num_heads)
        ),
        strict=True,
    )
    context = np.einsum(
        "bthv,hvo->bto", np.stack(contexts, axis=2), inner.output_dense.kernel.numpy()
    )
    return context + inner.output_dense.bias.numpy(), np.mean(weights, axis=0)


NARROW_QUERY = QUERY[..., :4]  # a query size unlike the values' size


def multi_head_attention():
    """Two heads, built for NARROW_QUERY, with non-zero biases so that the reference checks
    where they enter."""
    layer = MultiHeadAttention(num_heads=2)
    layer(NARROW_QUERY, VALUES, padding_mask=PADDING_MASK)
    for dense in (
        layer.attention.query_dense,
        layer.attention.key_dense,
        layer.attention.value_dense,
        layer.attention.output_dense,
    ):
        dense.bias.assign(RNG.normal(size=dense.bias.shape))
    return layer


def test_multi_head_attention_matches_numpy():
    layer = multi_head_attention()
    assert layer.attention.key_dim == 3
    context, weights = layer(NARROW_QUERY, VALUES, padding_mask=PADDING_MASK)
    assert context.shape == (3, 4, 6)
    expected_context, expected_weights = numpy_multi_head_attention(
        layer, NARROW_QUERY, VALUES, PADDING_MASK
    )
    np.testing.assert_allclose(weights, expected_weights, atol=1e-5)
    np.testing.assert_allclose(context, expected_context, atol=1e-5)


def test_multi_head_attention_gives_padding_zero_weight():
    _, weights = multi_head_attention()(NARROW_QUERY, VALUES, padding_mask=PADDING_MASK)
    check_padding_gets_zero_weight(weights)


def test_multi_head_attention_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"`num_heads`.*0"):
        MultiHeadAttention(num_heads=0)
    with pytest.raises(ValueError, match=r"`key_dim`.*-2"):
        MultiHeadAttention(num_heads=2, key_dim=-2)
    with pytest.raises(ValueError, match=r"`num_heads`=8 exceeds.*6"):
        MultiHeadAttention(num_heads=8)(QUERY, VALUES)
