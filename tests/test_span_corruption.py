import functools
import itertools

import numpy as np
import pytest
import tensorflow as tf

from zoo.text.span_corruption import add_sentinels, sentinel_ids, span_corruption
from zoo.text.text_vectorizer import TextVectorizer
from zoo.text.vocabulary import RESERVED_TOKENS

SENTINELS = list(range(1000, 1100))
RNG = np.random.default_rng(0)


def corrupt_dataset(examples, seed=7, **options):
    """Runs span_corruption over examples in tf.data.Dataset.map, one seed per example."""
    sentinels = options.pop("sentinel_ids", SENTINELS)
    dataset = tf.data.Dataset.from_tensor_slices(tf.ragged.constant(examples, tf.int32))
    dataset = dataset.enumerate().map(
        lambda index, token_ids: span_corruption(
            token_ids, sentinels, seed=(seed, index), **options
        )
    )
    return [(inputs.numpy().tolist(), targets.numpy().tolist()) for inputs, targets in dataset]


def reconstruct(inputs, targets, sentinels=SENTINELS):
    """Replaces each sentinel of inputs with the targets between it and the next sentinel."""
    spans, current = {}, None
    for token in targets:
        if token in sentinels:
            current = spans.setdefault(token, [])
        else:
            current.append(token)
    return [piece for token in inputs for piece in spans.get(token, [token])]


def random_examples(count, min_length, max_length):
    lengths = RNG.integers(min_length, max_length + 1, size=count)
    return [RNG.integers(4, 1000, size=length).tolist() for length in lengths]


@pytest.fixture(scope="module")
def corrupted():
    """300 examples of 0 to 150 tokens, each with its (inputs, targets)."""
    examples = random_examples(300, 0, 150)
    return list(zip(examples, corrupt_dataset(examples), strict=True))


def test_filling_in_the_spans_rebuilds_the_original(corrupted):
    for example, (inputs, targets) in corrupted:
        assert reconstruct(inputs, targets) == example


def test_sentinels_come_in_order(corrupted):
    for _, (inputs, targets) in corrupted:
        input_sentinels = [token for token in inputs if token in SENTINELS]
        target_sentinels = [token for token in targets if token in SENTINELS]
        # T5 paper convention: targets are <S0> span <S1> span ... <Sk>, inputs use S0..Sk-1.
        assert input_sentinels == SENTINELS[: len(input_sentinels)]
        assert target_sentinels == SENTINELS[: len(input_sentinels) + 1]
        assert targets[0] == SENTINELS[0] and targets[-1] == target_sentinels[-1]


def test_spans_are_neither_empty_nor_adjacent(corrupted):
    # Every dropped span has a token, and kept tokens separate the spans.
    for _, (inputs, targets) in corrupted:
        assert not any(a in SENTINELS and b in SENTINELS for a, b in itertools.pairwise(targets))
        assert not any(a in SENTINELS and b in SENTINELS for a, b in itertools.pairwise(inputs))


NOISES = [(0.15, 3.0), (0.3, 5.0), (0.5, 1.0)]  # (noise_density, mean_noise_span_length)


@functools.cache
def noised(noise_density, mean_noise_span_length):
    """300 examples of 60 to 190 tokens, and each one's (inputs, targets) at that noise."""
    examples = random_examples(300, 60, 190)
    return examples, corrupt_dataset(
        examples, noise_density=noise_density, mean_noise_span_length=mean_noise_span_length
    )


def noise_tokens(results):
    return [len(targets) - sum(t in SENTINELS for t in targets) for _, targets in results]


@pytest.mark.parametrize(("noise_density", "mean_noise_span_length"), NOISES)
def test_noise_fraction_follows_the_request(noise_density, mean_noise_span_length):
    examples, results = noised(noise_density, mean_noise_span_length)
    dropped = noise_tokens(results)
    lengths = [len(example) for example in examples]
    # T5 rounds per example (in float32): exactly round(length * density) tokens dropped.
    expected = np.round(np.array(lengths, "float32") * np.float32(noise_density))
    np.testing.assert_array_equal(dropped, expected)
    assert abs(sum(dropped) / sum(lengths) - noise_density) < 0.01


@pytest.mark.parametrize(("noise_density", "mean_noise_span_length"), NOISES)
def test_mean_span_length_follows_the_request(noise_density, mean_noise_span_length):
    _, results = noised(noise_density, mean_noise_span_length)
    num_spans = [sum(t in SENTINELS for t in inputs) for inputs, _ in results]
    # round(noise / mean span length) spans, so the mean is close to the request.
    assert abs(sum(noise_tokens(results)) / sum(num_spans) - mean_noise_span_length) < 0.1


# Spans of mean length 1 can have no other length.
@pytest.mark.parametrize(
    ("noise_density", "mean_noise_span_length"), [noise for noise in NOISES if noise[1] > 1]
)
def test_span_lengths_are_a_random_segmentation(noise_density, mean_noise_span_length):
    _, results = noised(noise_density, mean_noise_span_length)
    # Not all equal to the mean.
    span_lengths = {
        len(span) - 1  # the sentinel that opens it
        for _, targets in results
        for span in np.split(targets, np.flatnonzero(np.isin(targets, SENTINELS)))[1:-1]
    }
    assert min(span_lengths) == 1 and len(span_lengths) > 5


def test_a_seed_gives_the_same_corruption_and_other_seeds_others():
    example = RNG.integers(4, 1000, size=100).tolist()
    first = corrupt_dataset([example] * 4, seed=3)
    assert first == corrupt_dataset([example] * 4, seed=3)
    # Each example of the dataset has its own seed, hence its own spans.
    assert len({tuple(inputs) for inputs, _ in first}) == 4
    assert first != corrupt_dataset([example] * 4, seed=4)
    inputs, targets = span_corruption(tf.constant(example), SENTINELS, seed=11)
    again_inputs, again_targets = span_corruption(tf.constant(example), SENTINELS, seed=11)
    np.testing.assert_array_equal(inputs, again_inputs)
    np.testing.assert_array_equal(targets, again_targets)


def test_an_unseeded_corruption_still_rebuilds_the_original():
    example = RNG.integers(4, 1000, size=100).tolist()
    inputs, targets = span_corruption(tf.constant(example), SENTINELS)
    assert reconstruct(inputs.numpy().tolist(), targets.numpy().tolist()) == example


def test_short_examples_have_defined_results():
    s0, s1 = SENTINELS[:2]
    results = corrupt_dataset([[], [5], [5, 6], [5, 6, 7], [5, 6, 7, 8], [5, 6, 7, 8, 9]])
    # Nothing to drop below two tokens; then T5's mask drops one token, the last.
    assert results == [
        ([], [s0]),
        ([5], [s0]),
        ([5, s0], [s0, 6, s1]),
        ([5, 6, s0], [s0, 7, s1]),
        ([5, 6, 7, s0], [s0, 8, s1]),
        ([5, 6, 7, 8, s0], [s0, 9, s1]),
    ]


def test_noise_density_zero_drops_nothing():
    assert corrupt_dataset([[5, 6, 7, 8]], noise_density=0.0) == [([5, 6, 7, 8], [SENTINELS[0]])]


def test_more_spans_than_sentinels_makes_fewer_longer_spans():
    examples = random_examples(20, 100, 300)
    few = SENTINELS[:3]
    for example, (inputs, targets) in zip(
        examples, corrupt_dataset(examples, sentinel_ids=few), strict=True
    ):
        assert reconstruct(inputs, targets, few) == example
        assert [t for t in targets if t in few] == few
        assert len(targets) - 3 == round(len(example) * 0.15)


def test_span_corruption_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"`noise_density`.*1.0"):
        span_corruption(tf.range(5), SENTINELS, noise_density=1.0)
    with pytest.raises(ValueError, match=r"`mean_noise_span_length`.*0.5"):
        span_corruption(tf.range(5), SENTINELS, mean_noise_span_length=0.5)
    with pytest.raises(ValueError, match=r"`sentinel_ids`.*\(1,\)"):
        span_corruption(tf.range(5), [1000])
    with pytest.raises(ValueError, match=r"`token_ids` must be one example.*\(2, 3\)"):
        span_corruption(tf.zeros([2, 3], tf.int32), SENTINELS)
    with pytest.raises(TypeError, match=r"`token_ids`.*float32"):
        span_corruption(tf.zeros([3]), SENTINELS)


def test_sentinels_extend_a_vocabulary_without_changing_its_tokenization():
    texts = ["the dog runs [SENTINEL_0].", "a cat sleeps."]
    vectorizer = TextVectorizer.from_corpus(texts, vocabulary_size=60)
    vocabulary = add_sentinels(vectorizer.vocabulary, count=5)
    assert vocabulary[: len(vectorizer.vocabulary)] == vectorizer.vocabulary
    assert vocabulary[-5:] == [f"[SENTINEL_{index}]" for index in range(5)]
    assert tuple(vocabulary[:4]) == RESERVED_TOKENS
    ids = sentinel_ids(vocabulary)
    assert ids == list(range(len(vectorizer.vocabulary), len(vocabulary)))
    with_sentinels = TextVectorizer(vocabulary)
    # Written-out sentinels in text stay text: brackets are punctuation pieces.
    tokens = with_sentinels.tokenize(tf.constant(texts)).to_list()
    assert tokens == vectorizer.tokenize(tf.constant(texts)).to_list()
    assert not set(ids) & {token for row in tokens for token in row}
    with pytest.raises(ValueError, match=r"already has sentinel tokens.*SENTINEL_0"):
        add_sentinels(vocabulary)
    with pytest.raises(ValueError, match=r"`count`.*1"):
        add_sentinels(vectorizer.vocabulary, count=1)
    with pytest.raises(ValueError, match=r"at least \[SENTINEL_0\] and \[SENTINEL_1\]"):
        sentinel_ids(vectorizer.vocabulary)
