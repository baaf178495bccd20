"""Tests of zoo.decoding against NumPy reference decoders on a toy Markov model."""

import re

import numpy as np
import pytest
import tensorflow as tf

from zoo.decoding import (
    BeamSampler,
    DecodeResult,
    GreedySampler,
    RandomSampler,
    Sampler,
    get,
    serialize,
)

PAD, START, END = 0, 2, 3


class ToyModel:
    """The next token's logits are `table[previous_token] + item_bias[item]`.

    The cache holds the item bias (so beam search must tile it), the tokens fed so far and a
    step counter (so beam search must reorder them with its beams, and early stops show).
    """

    def __init__(self, batch_size, vocabulary_size=6, seed=0, scale=2.0, end_bias=0.0):
        rng = np.random.default_rng(seed)
        self.table = scale * rng.normal(size=(vocabulary_size, vocabulary_size))
        self.table[:, END] += end_bias
        self.item_bias = scale * rng.normal(size=(batch_size, vocabulary_size))
        self.table = self.table.astype("float32")
        self.item_bias = self.item_bias.astype("float32")
        self.vocabulary_size = vocabulary_size

    def step_fn(self, token_ids, cache, index):
        logits = tf.gather(self.table, token_ids) + cache["item_bias"]
        fed_token_ids = cache["fed_token_ids"]
        is_index = tf.range(tf.shape(fed_token_ids)[1]) == index
        fed_token_ids = tf.where(is_index, token_ids[:, None], fed_token_ids)
        cache = {
            "item_bias": cache["item_bias"],
            "fed_token_ids": fed_token_ids,
            "num_steps": cache["num_steps"] + 1,
        }
        return logits, cache

    def decode(self, sampler, max_length, item_bias=None):
        item_bias = self.item_bias if item_bias is None else item_bias
        batch_size = tf.shape(item_bias)[0]
        cache = {
            "item_bias": tf.convert_to_tensor(item_bias),
            "fed_token_ids": tf.zeros([batch_size, max_length], tf.int32),
            "num_steps": tf.zeros([batch_size], tf.int32),
        }
        return sampler(
            self.step_fn,
            cache,
            batch_size=batch_size,
            start_token_id=START,
            end_token_id=END,
            max_length=max_length,
            pad_token_id=PAD,
        )

    def log_probs(self, item, previous_token_id):
        logits = self.table[previous_token_id].astype("float64") + self.item_bias[item]
        shifted = logits - logits.max()
        return shifted - np.log(np.exp(shifted).sum())


def sequence_log_prob(model, item, token_ids):
    """NumPy sum of the model's log-probabilities up to and including the end token."""
    total, previous = 0.0, START
    for token_id in token_ids:
        total += model.log_probs(item, previous)[token_id]
        previous = token_id
        if token_id == END:
            break
    return total


def sequence_length(token_ids):
    token_ids = list(token_ids)
    return token_ids.index(END) + 1 if END in token_ids else len(token_ids)


def length_penalty_factor(length, length_penalty):
    return ((5.0 + length) / 6.0) ** length_penalty


def reference_greedy(model, max_length):
    batch_size = len(model.item_bias)
    token_ids = np.full([batch_size, max_length], PAD)
    scores = np.zeros([batch_size])
    for item in range(batch_size):
        previous = START
        for index in range(max_length):
            log_probs = model.log_probs(item, previous)
            previous = int(np.argmax(log_probs))
            token_ids[item, index] = previous
            scores[item] += log_probs[previous]
            if previous == END:
                break
    return token_ids, scores


def brute_force_ranking(model, item, max_length, length_penalty):
    """Every possible output of `item`, as (penalised score, padded tokens), best first."""
    ranking = []

    def extend(prefix, log_prob, previous):
        log_probs = model.log_probs(item, previous)
        for token_id in range(model.vocabulary_size):
            tokens = prefix + [token_id]
            total = log_prob + log_probs[token_id]
            if token_id == END or len(tokens) == max_length:
                score = total / length_penalty_factor(len(tokens), length_penalty)
                ranking.append((score, tokens + [PAD] * (max_length - len(tokens))))
            else:
                extend(tokens, total, token_id)

    extend([], 0.0, START)
    return sorted(ranking, key=lambda entry: -entry[0])


def fed_token_ids_of(token_ids):
    """The tokens a decoder is fed to produce `token_ids`: start, then all but the last."""
    start = np.full_like(token_ids[..., :1], START)
    return np.concatenate([start, token_ids[..., :-1]], axis=-1)


def assert_same_result(actual, expected):
    np.testing.assert_array_equal(actual.token_ids, expected.token_ids)
    np.testing.assert_allclose(actual.scores, expected.scores, rtol=1e-5, atol=1e-5)
    for actual_leaf, expected_leaf in zip(
        tf.nest.flatten(actual.cache), tf.nest.flatten(expected.cache), strict=True
    ):
        np.testing.assert_allclose(actual_leaf, expected_leaf, rtol=1e-6)


def test_greedy_matches_numpy_argmax_chain():
    model = ToyModel(batch_size=5, seed=1, end_bias=1.0)
    expected_token_ids, expected_scores = reference_greedy(model, max_length=7)
    assert (expected_token_ids == END).any() and (expected_token_ids[:, -1] == PAD).any()

    result = model.decode(GreedySampler(), max_length=7)

    assert isinstance(result, DecodeResult)
    assert result.token_ids.dtype == tf.int32 and result.token_ids.shape == (5, 7)
    np.testing.assert_array_equal(result.token_ids, expected_token_ids)
    np.testing.assert_allclose(result.scores, expected_scores, rtol=1e-5)
    np.testing.assert_array_equal(
        result.cache["fed_token_ids"], fed_token_ids_of(expected_token_ids)
    )


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_exhaustive_beam_search_matches_brute_force(length_penalty):
    model = ToyModel(batch_size=2, seed=2, end_bias=0.5)
    # 36 beams keep every prefix of length 2, so the final step sees every sequence.
    sampler = BeamSampler(num_beams=36, length_penalty=length_penalty, return_all_beams=True)

    result = model.decode(sampler, max_length=3)

    assert result.token_ids.shape == (2, 36, 3) and result.scores.shape == (2, 36)
    for item in range(2):
        ranking = brute_force_ranking(model, item, 3, length_penalty)
        np.testing.assert_array_equal(result.token_ids[item, 0], ranking[0][1])
        expected_scores = [score for score, _ in ranking[:36]]
        np.testing.assert_allclose(result.scores[item], expected_scores, rtol=1e-5)
        for beam_token_ids, beam_score in zip(
            result.token_ids[item], result.scores[item], strict=True
        ):
            beam_token_ids = beam_token_ids.numpy()
            penalty = length_penalty_factor(sequence_length(beam_token_ids), length_penalty)
            expected = sequence_log_prob(model, item, beam_token_ids) / penalty
            np.testing.assert_allclose(beam_score, expected, rtol=1e-5)


def test_beam_search_scores_are_sorted_best_first():
    model = ToyModel(batch_size=3, seed=3, end_bias=1.0)

    result = model.decode(BeamSampler(num_beams=5, return_all_beams=True), max_length=6)

    scores = result.scores.numpy()
    assert np.isfinite(scores).all()
    np.testing.assert_array_equal(scores, -np.sort(-scores, axis=1))


def test_beam_search_with_one_beam_is_greedy():
    model = ToyModel(batch_size=5, seed=4, end_bias=1.0)

    greedy = model.decode(GreedySampler(), max_length=7)
    beam = model.decode(BeamSampler(num_beams=1), max_length=7)

    assert_same_result(beam, greedy)


@pytest.mark.parametrize("length_penalty", [0.0, 0.6])
def test_beam_search_returns_cache_of_winning_beam(length_penalty):
    model = ToyModel(batch_size=4, seed=5, end_bias=0.5)

    result = model.decode(BeamSampler(num_beams=3, length_penalty=length_penalty), max_length=6)

    np.testing.assert_array_equal(
        result.cache["fed_token_ids"], fed_token_ids_of(result.token_ids.numpy())
    )
    np.testing.assert_array_equal(result.cache["item_bias"], model.item_bias)


@pytest.mark.parametrize(
    "sampler, expected_num_steps",
    [
        (GreedySampler(), 1),
        (RandomSampler(seed=1), 1),
        # The second step finishes the beams that did not pick the end token first.
        (BeamSampler(num_beams=3), 2),
    ],
)
def test_decoding_stops_once_every_sequence_ends(sampler, expected_num_steps):
    model = ToyModel(batch_size=2, seed=6, end_bias=100.0)

    result = model.decode(sampler, max_length=6)

    np.testing.assert_array_equal(result.token_ids, [[END] + [PAD] * 5] * 2)
    np.testing.assert_array_equal(result.cache["num_steps"], [expected_num_steps] * 2)


def test_random_sampler_with_a_seed_repeats_itself():
    # A flat distribution over 20 tokens: any two seeds should disagree somewhere.
    model = ToyModel(batch_size=4, vocabulary_size=20, scale=0.0)

    def decode(seed):
        return model.decode(RandomSampler(seed=seed), max_length=12).token_ids.numpy()

    np.testing.assert_array_equal(decode(7), decode(7))
    assert (decode(7) != decode(8)).any()


def test_random_sampler_without_a_seed_differs_between_calls():
    model = ToyModel(batch_size=4, vocabulary_size=20, scale=0.0)
    decode = tf.function(lambda: model.decode(RandomSampler(), max_length=12).token_ids)

    assert (decode().numpy() != decode().numpy()).any()


@pytest.mark.parametrize("arguments", [{"top_k": 1}, {"top_p": 1e-6}, {"temperature": 1e-3}])
def test_random_sampler_collapses_to_greedy(arguments):
    model = ToyModel(batch_size=5, seed=7, end_bias=1.0)

    greedy = model.decode(GreedySampler(), max_length=7)
    sampled = model.decode(RandomSampler(seed=3, **arguments), max_length=7)

    assert_same_result(sampled, greedy)


def allowed_by_top_k(log_probs, temperature, top_k=3):
    return set(np.argsort(-log_probs)[:top_k])


def allowed_by_top_p(log_probs, temperature, top_p=0.6):
    probs = np.exp(log_probs / temperature)
    probs /= probs.sum()
    order = np.argsort(-probs)
    mass_before = np.cumsum(probs[order]) - probs[order]
    return set(order[mass_before < top_p])


@pytest.mark.parametrize(
    "arguments, allowed_tokens",
    [({"top_k": 3}, allowed_by_top_k), ({"top_p": 0.6}, allowed_by_top_p)],
)
def test_random_sampler_keeps_to_the_filtered_tokens(arguments, allowed_tokens):
    model = ToyModel(batch_size=8, seed=8, scale=1.0)
    sampler = RandomSampler(temperature=2.0, seed=4, **arguments)

    result = model.decode(sampler, max_length=10)

    token_ids = result.token_ids.numpy()
    for item in range(8):
        previous = START
        for token_id in token_ids[item][: sequence_length(token_ids[item])]:
            assert token_id in allowed_tokens(model.log_probs(item, previous), temperature=2.0)
            previous = token_id
        # Scores are the model's own log-probabilities, not the filtered, tempered ones.
        expected_score = sequence_log_prob(model, item, token_ids[item])
        np.testing.assert_allclose(result.scores[item], expected_score, rtol=1e-5)
    assert len(np.unique(token_ids)) > 3


@pytest.mark.parametrize(
    "sampler",
    [
        GreedySampler(),
        RandomSampler(temperature=0.8, top_k=4, top_p=0.9, seed=3),
        BeamSampler(num_beams=3, length_penalty=0.6, return_all_beams=True),
    ],
    ids=["greedy", "random", "beam"],
)
def test_xla_compiled_decoding_matches_eager(sampler):
    model = ToyModel(batch_size=3, seed=9, end_bias=0.5)

    eager = model.decode(sampler, max_length=6)
    compiled = tf.function(lambda: model.decode(sampler, max_length=6), jit_compile=True)()

    assert_same_result(compiled, eager)


@pytest.mark.parametrize("sampler", [GreedySampler(), BeamSampler(num_beams=3)])
def test_decoding_with_an_unknown_batch_size(sampler):
    model = ToyModel(batch_size=3, seed=10, end_bias=0.5)
    decode = tf.function(
        lambda item_bias: model.decode(sampler, max_length=6, item_bias=item_bias),
        input_signature=[tf.TensorSpec([None, model.vocabulary_size], tf.float32)],
    )

    assert_same_result(decode(model.item_bias), model.decode(sampler, max_length=6))


class ExportedDecoder(tf.Module):
    def __init__(self, model, sampler):
        super().__init__()
        self.model = model
        self.sampler = sampler

    @tf.function(input_signature=[tf.TensorSpec([None, 6], tf.float32)], jit_compile=True)
    def decode(self, item_bias):
        result = self.model.decode(self.sampler, max_length=6, item_bias=item_bias)
        return result.token_ids, result.scores


@pytest.mark.parametrize(
    "sampler",
    [GreedySampler(), RandomSampler(top_k=4, seed=3), BeamSampler(num_beams=3)],
    ids=["greedy", "random", "beam"],
)
def test_decoding_in_a_reloaded_saved_model(sampler, tmp_path):
    model = ToyModel(batch_size=3, seed=11, end_bias=0.5)
    tf.saved_model.save(ExportedDecoder(model, sampler), str(tmp_path))

    token_ids, scores = tf.saved_model.load(str(tmp_path)).decode(model.item_bias)

    expected = model.decode(sampler, max_length=6)
    np.testing.assert_array_equal(token_ids, expected.token_ids)
    np.testing.assert_allclose(scores, expected.scores, rtol=1e-5)


@pytest.mark.parametrize(
    "sampler_class, arguments, name",
    [
        (BeamSampler, {"num_beams": 0}, "num_beams"),
        (BeamSampler, {"length_penalty": -0.5}, "length_penalty"),
        (RandomSampler, {"temperature": 0.0}, "temperature"),
        (RandomSampler, {"top_k": 0}, "top_k"),
        (RandomSampler, {"top_p": 0.0}, "top_p"),
        (RandomSampler, {"top_p": 1.5}, "top_p"),
        (RandomSampler, {"seed": 2**40}, "seed"),
    ],
)
def test_bad_arguments_are_named(sampler_class, arguments, name):
    (value,) = arguments.values()
    with pytest.raises(ValueError, match=rf"^`{name}` must .*, got {re.escape(repr(value))}\.$"):
        sampler_class(**arguments)


def test_get_unknown_name_lists_known_names():
    with pytest.raises(ValueError, match=r"'nope'.*\['beam', 'greedy', 'random'\]"):
        get("nope")


@pytest.mark.parametrize(
    "name, sampler_class",
    [("beam", BeamSampler), ("greedy", GreedySampler), ("random", RandomSampler)],
)
def test_get_by_name(name, sampler_class):
    assert type(get(name)) is sampler_class


SAMPLERS = [
    GreedySampler(),
    RandomSampler(temperature=0.7, top_k=10, top_p=0.9, seed=5),
    BeamSampler(num_beams=6, length_penalty=0.6, return_all_beams=True),
]


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_get_passes_a_sampler_through(sampler):
    assert get(sampler) is sampler


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_a_serialized_sampler_round_trips_through_get(sampler):
    restored = get(serialize(sampler))
    assert type(restored) is type(sampler) and isinstance(restored, Sampler)
    assert restored.get_config() == sampler.get_config()
