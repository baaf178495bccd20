import keras
import numpy as np
import pytest

from zoo.layers import (
    BahdanauAttention,
    LuongAttention,
    ReversePaddedSequence,
    ScaledDotProductAttention,
)

RNG = np.random.default_rng(0)
QUERY = RNG.normal(size=(3, 4, 6)).astype("float32")
VALUES = RNG.normal(size=(3, 5, 6)).astype("float32")
PADDING_MASK = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]], bool)


def numpy_attention(scores, values, padding_mask):
    scores = np.where(padding_mask[:, None, :], scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
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
    pairs = np.concatenate(
        [
            np.broadcast_to(query[:, :, None, :], (3, 4, 5, 6)),
            np.broadcast_to(values[:, None, :, :], (3, 4, 5, 6)),
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


@pytest.mark.parametrize("make_layer", LAYERS.values(), ids=LAYERS.keys())
def test_attention_matches_numpy_and_gives_padding_zero_weight(make_layer):
    layer = make_layer()
    context, weights = layer(QUERY, VALUES, padding_mask=PADDING_MASK)
    expected_context, expected_weights = numpy_attention(
        reference_scores(layer, QUERY, VALUES), VALUES, PADDING_MASK
    )
    np.testing.assert_allclose(weights, expected_weights, atol=1e-5)
    np.testing.assert_allclose(context, expected_context, atol=1e-5)
    weights = np.asarray(weights)
    assert (weights[~np.broadcast_to(PADDING_MASK[:, None, :], weights.shape)] == 0).all()
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("make_layer", LAYERS.values(), ids=LAYERS.keys())
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


def test_luong_attention_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"`score`.*'cosine'"):
        LuongAttention("cosine")
    with pytest.raises(ValueError, match=r"`units`.*concat"):
        LuongAttention("concat")
    with pytest.raises(ValueError, match=r"score='dot' needs equal"):
        LuongAttention("dot")(QUERY, VALUES[..., :3])


def test_reverse_padded_sequence_keeps_padding_at_the_end():
    token_ids = np.array([[1, 2, 3, 0], [4, 5, 0, 0]])
    reversed_ids = ReversePaddedSequence()(token_ids, padding_mask=token_ids != 0)
    np.testing.assert_array_equal(reversed_ids, [[3, 2, 1, 0], [5, 4, 0, 0]])
