"""Tests for zoo.layers.HardAttention and HardAttentionReinforce against NumPy: the positions
read, the draws, the REINFORCE gradients, and a decoder that steps with the draws it trained
with."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.layers import BahdanauAttention, HardAttention, HardAttentionReinforce, RecurrentDecoder

WEIGHTS = np.array([[[0.1, 0.2, 0.7], [0.5, 0.0, 0.5]]], "float32")  # [batch, queries, cells]


def hard_attention(**options):
    attention = HardAttention(BahdanauAttention(8), **options)
    attention.build((None, None, 4), (None, 3, 5))
    return attention


@pytest.mark.parametrize(
    "draws, positions",
    [
        ([[0.05, 0.2]], [[0, 0]]),
        ([[0.1, 0.5]], [[1, 2]]),  # at a boundary, the next position (zero weight skipped)
        ([[0.95, 0.999999]], [[2, 2]]),
        ([[-1.0, -1.0]], [[-1, -1]]),
    ],
)
def test_draws_read_the_inverse_cumulative_distribution(draws, positions):
    read = hard_attention().read_positions(WEIGHTS, np.array(draws, "float32"))
    np.testing.assert_array_equal(read, positions)


def test_without_draws_the_argmax_or_the_expectation_is_read():
    np.testing.assert_array_equal(hard_attention().read_positions(WEIGHTS), [[2, 0]])
    expectation = hard_attention(inference="expectation")
    np.testing.assert_array_equal(expectation.read_positions(WEIGHTS), [[-1, -1]])


def test_context_is_the_drawn_value_or_the_expectation():
    rng = np.random.default_rng(0)
    query = rng.normal(size=(2, 3, 4)).astype("float32")
    values = rng.normal(size=(2, 3, 5)).astype("float32")
    attention = hard_attention()
    weights = attention.attention(query, values)[1].numpy()
    draws = np.array([[0.3, 0.9, -1.0], [-1.0, 0.0, 0.6]], "float32")
    context, returned = attention(query, values, draws=draws)
    np.testing.assert_array_equal(returned, weights)
    cumulative = np.cumsum(weights, axis=-1)
    for b in range(2):
        for q in range(3):
            if draws[b, q] < 0:
                expected = weights[b, q] @ values[b]
            else:
                expected = values[b, np.searchsorted(cumulative[b, q], draws[b, q], "right")]
            np.testing.assert_allclose(context[b, q], expected, rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def drawing():
    """The layer, its draws for 4,000 captions of 6 words, and which captions read the
    expectation."""
    attention = hard_attention(expectation_rate=0.3, seed=1)
    draws = attention.draw(4000, 6).numpy()
    return attention, draws, (draws < 0).all(axis=1)


def test_a_share_of_captions_read_the_expectation(drawing):
    _, draws, expectation_rows = drawing
    assert ((draws < 0).any(axis=1) == expectation_rows).all()  # a whole caption or none
    assert abs(expectation_rows.mean() - 0.3) < 0.03


def test_draws_follow_the_weights(drawing):
    attention, draws, expectation_rows = drawing
    positions = attention.read_positions(np.broadcast_to(WEIGHTS[:, :1], (4000, 6, 3)), draws)
    drawn = positions.numpy()[~expectation_rows].ravel()
    np.testing.assert_allclose(
        np.bincount(drawn, minlength=3) / drawn.size, WEIGHTS[0, 0], atol=0.01
    )


# REINFORCE on two captions of four tokens: the first drew its positions, the second read the
# expectation.
RNG = np.random.default_rng(0)
LOGITS = RNG.normal(size=(2, 4, 6)).astype("float32")
TOKEN_IDS = np.array([[1, 3, 2, 0], [1, 5, 4, 2]])
MASK = TOKEN_IDS > 0
ATTENTION_WEIGHTS = RNG.random((2, 4, 3)).astype("float32")
ATTENTION_WEIGHTS /= ATTENTION_WEIGHTS.sum(-1, keepdims=True)
POSITIONS = np.array([[2, 0, 1, 1], [-1, -1, -1, -1]])


@pytest.fixture(scope="module")
def reinforce():
    """The layer after one training call, its output, its loss and the loss's gradient for
    the attention weights."""
    layer = HardAttentionReinforce(reinforce_weight=0.8, entropy_weight=0.05)
    attention = tf.Variable(ATTENTION_WEIGHTS)
    with tf.GradientTape() as tape:
        out = layer(LOGITS, TOKEN_IDS, MASK, attention, POSITIONS, training=True)
        loss = layer.losses[-1]
    return layer, out, loss, tape.gradient(loss, attention).numpy()


def first_caption_reward():
    """The log-likelihood of the first caption, the one that drew."""
    log_probs = LOGITS - np.log(np.exp(LOGITS).sum(-1, keepdims=True))
    next_token = np.take_along_axis(log_probs[:, :-1], TOKEN_IDS[:, 1:, None], -1)[..., 0]
    return (next_token * MASK[:, 1:])[0].sum()


def test_reinforce_changes_neither_the_logits_nor_the_loss_value(reinforce):
    _, out, loss, _ = reinforce
    np.testing.assert_array_equal(out, LOGITS)
    assert float(loss) == 0.0


def test_reinforce_gives_the_weights_the_papers_gradients(reinforce):
    *_, gradient = reinforce
    reward, tokens = first_caption_reward(), MASK.sum()
    expected = 0.05 * (np.log(ATTENTION_WEIGHTS) + 1) * MASK[..., None] / tokens  # -d(-entropy)
    for t in range(3):  # the drawn, real positions of the first caption
        read = POSITIONS[0, t]
        expected[0, t, read] -= 0.8 * reward / ATTENTION_WEIGHTS[0, t, read] / tokens
    np.testing.assert_allclose(gradient, expected, rtol=1e-4, atol=1e-6)


def test_reinforce_moves_the_baseline_towards_the_reward(reinforce):
    # The moving-average baseline moved a tenth of the way to the drawing captions' mean.
    layer, *_ = reinforce
    np.testing.assert_allclose(float(layer.baseline), 0.1 * first_caption_reward(), rtol=1e-5)


def test_reinforce_is_off_at_inference():
    layer = HardAttentionReinforce()
    weights = np.full((1, 2, 3), 1 / 3, "float32")
    layer(np.zeros((1, 2, 4), "float32"), np.ones((1, 2), "int32"), None, weights, None)
    assert layer.losses == [] and float(layer.baseline) == 0.0


def test_teacher_forcing_equals_steps_given_the_same_draws():
    rng = np.random.default_rng(0)
    embedded = rng.normal(size=(3, 5, 4)).astype("float32")
    grid = rng.normal(size=(3, 6, 8)).astype("float32")
    states = [[rng.normal(size=(3, 16)).astype("float32") for _ in range(2)]]
    decoder = RecurrentDecoder(
        "lstm", 16, attention=HardAttention(BahdanauAttention(8)), attend_previous_state=True
    )
    state_before = decoder.attention.seed_generator.state.numpy()
    outputs, weights, positions = decoder(
        embedded, states, grid, return_attention=True, training=True
    )
    decoder.attention.seed_generator.state.assign(state_before)
    draws = decoder.attention.draw(3, 5)  # the same draws again
    np.testing.assert_array_equal(positions, decoder.attention.read_positions(weights, draws))
    state = decoder.initial_state(states)
    for t in range(5):
        step_outputs, state, _ = decoder.step(
            embedded[:, t], state, grid, index=t, draws=draws[:, t]
        )
        np.testing.assert_allclose(step_outputs, outputs[:, t], rtol=1e-5, atol=1e-6)
    assert (positions.numpy() >= 0).any()


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="`inference` must be one of"):
        HardAttention(BahdanauAttention(8), inference="max")
    with pytest.raises(ValueError, match=r"`expectation_rate` must be a number in \[0, 1\]"):
        HardAttention(BahdanauAttention(8), expectation_rate=1.5)
    with pytest.raises(ValueError, match="`entropy_weight` must be a number >= 0"):
        HardAttentionReinforce(entropy_weight=-1)


def test_config_round_trip_keeps_the_wrapped_attention():
    attention = hard_attention(inference="expectation", expectation_rate=0.2, seed=3)
    restored = HardAttention.from_config(keras.saving.serialize_keras_object(attention)["config"])
    assert isinstance(restored.attention, BahdanauAttention) and restored.attention.units == 8
    assert (restored.inference, restored.expectation_rate, restored.seed) == ("expectation", 0.2, 3)
