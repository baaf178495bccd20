"""BART's noising: text infilling and sentence permutation, checked on examples whose tokens
are all distinct, so that every masked span can be read off the corrupted input."""

import functools
import itertools
import re

import numpy as np
import pytest
import tensorflow as tf

from zoo.text.text_infilling import (
    MASK,
    add_mask_token,
    mask_token_id,
    permute_sentences,
    text_infilling,
)

MASK_ID = 3
RNG = np.random.default_rng(0)


def in_dataset(function, examples, seed=7, **options):
    """Runs `function(token_ids, ...)` over examples in tf.data.Dataset.map, one seed each."""
    dataset = tf.data.Dataset.from_tensor_slices(tf.ragged.constant(examples, tf.int32))
    dataset = dataset.enumerate().map(
        lambda index, token_ids: function(token_ids, seed=(seed, index), **options)
    )
    return [outputs.numpy().tolist() for outputs in dataset]


def infill(examples, **options):
    return in_dataset(text_infilling, examples, mask_id=MASK_ID, **options)


def distinct_examples(count, min_length, max_length):
    """Examples of increasing token ids from 10, each id once."""
    lengths = RNG.integers(min_length, max_length + 1, size=count)
    return [list(range(10, 10 + length)) for length in lengths]


def expected_masked(example, mask_ratio=0.3):
    """round(length * mask_ratio) in float32, as the graph computes it (ties to even)."""
    return int(np.round(np.float32(len(example)) * np.float32(mask_ratio)))


def masked_spans(example, inputs):
    """The length of the span each mask of `inputs` replaced, read off the kept tokens
    around it; asserts that the kept tokens are the example's, in order, and that tokens
    are missing only where a mask stands."""
    kept = [token for token in inputs if token != MASK_ID]
    assert kept == [token for token in example if token in set(kept)]
    bounds = [example[0] - 1, *inputs, example[-1] + 1] if example else [9, *inputs, 10]
    spans = []
    for index, token in enumerate(bounds[1:-1], start=1):
        if token == MASK_ID:
            before, after = bounds[index - 1], bounds[index + 1]
            spans.append(after - before - 1)
    for before, after in itertools.pairwise(bounds):
        if MASK_ID not in (before, after):
            assert after == before + 1, "tokens went missing without a mask in their place"
    return spans


def test_each_mask_replaces_one_span_and_the_kept_tokens_stay_in_order():
    examples = distinct_examples(300, 0, 120)
    for example, inputs in zip(examples, infill(examples), strict=True):
        spans = masked_spans(example, inputs)
        assert sum(spans) == expected_masked(example)
        assert not any(a == b == MASK_ID for a, b in itertools.pairwise(inputs))


MASKINGS = [(0.3, 3.0), (0.15, 1.0), (0.5, 5.0)]  # (mask_ratio, poisson_lambda)


@functools.cache
def masking(mask_ratio, poisson_lambda):
    """400 examples and, for each, the lengths of the spans its masks replaced."""
    examples = distinct_examples(400, 60, 120)
    infilled = infill(examples, mask_ratio=mask_ratio, poisson_lambda=poisson_lambda)
    spans = [
        masked_spans(example, inputs) for example, inputs in zip(examples, infilled, strict=True)
    ]
    return examples, spans


@pytest.mark.parametrize(("mask_ratio", "poisson_lambda"), MASKINGS)
def test_masked_fraction_is_the_mask_ratio(mask_ratio, poisson_lambda):
    examples, spans = masking(mask_ratio, poisson_lambda)
    masked = [sum(example_spans) for example_spans in spans]
    assert masked == [expected_masked(example, mask_ratio) for example in examples]


@pytest.mark.parametrize(("mask_ratio", "poisson_lambda"), MASKINGS)
def test_mean_span_length_is_poisson_lambda(mask_ratio, poisson_lambda):
    _, spans = masking(mask_ratio, poisson_lambda)
    # Every span but each example's last (cut to fit) is a Poisson draw.
    drawn = [length for example_spans in spans for length in example_spans[:-1]]
    assert abs(np.mean(drawn) - poisson_lambda) < 0.15 * poisson_lambda


def test_spans_of_length_zero_insert_a_mask():
    examples = distinct_examples(200, 20, 40)
    spans = [
        length
        for example, inputs in zip(examples, infill(examples), strict=True)
        for length in masked_spans(example, inputs)
    ]
    # Poisson(3) draws 0 with probability e^-3, about 5%.
    assert 0.02 < spans.count(0) / len(spans) < 0.09


def test_the_same_seed_gives_the_same_corruption_and_other_seeds_others():
    example = list(range(10, 60))
    first, again = (text_infilling(example, MASK_ID, seed=(1, 2)).numpy().tolist() for _ in "ab")
    other = text_infilling(example, MASK_ID, seed=(1, 3)).numpy().tolist()
    assert first == again != other


@pytest.mark.parametrize(
    ("example", "options"),
    [([], {}), ([10, 11, 12], {"mask_ratio": 0.0})],
    ids=["an empty example", "a zero mask ratio"],
)
def test_nothing_to_mask_leaves_the_example_as_it_is(example, options):
    assert infill([example], **options) == [example]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"mask_ratio": 1.0}, ValueError, "`mask_ratio` must be a number in [0, 1), got 1.0"),
        ({"poisson_lambda": 0}, ValueError, "`poisson_lambda` must be a positive number, got 0"),
        ({"token_ids": [[1, 2]]}, ValueError, "`token_ids` must be one example, 1-D"),
        ({"token_ids": [1.5, 2.0]}, TypeError, "`token_ids` must be integer token ids"),
    ],
)
def test_bad_arguments_raise_errors_naming_them(options, error, message):
    token_ids = options.pop("token_ids", [10, 11, 12])
    with pytest.raises(error, match=re.escape(message)):
        text_infilling(token_ids, MASK_ID, **options)


# === Sentence permutation ===
STOP = 1


def sentences(token_ids):
    """The sentences of token ids, each ending after a STOP (or at the end)."""
    found, current = [], []
    for token in token_ids:
        current.append(token)
        if token == STOP:
            found.append(tuple(current))
            current = []
    return found + ([tuple(current)] if current else [])


@pytest.fixture(scope="module")
def permuted():
    """200 examples of 1 to 7 sentences, and each with its sentences permuted."""
    examples = [
        [token for index in range(count) for token in (10 + 2 * index, 11 + 2 * index, STOP)]
        for count in RNG.integers(1, 8, size=200)
    ]
    return examples, in_dataset(permute_sentences, examples, sentence_end_ids=[STOP])


def test_permutation_keeps_every_sentence_whole(permuted):
    for example, output in zip(*permuted, strict=True):
        assert sorted(sentences(output)) == sorted(sentences(example))


def test_permutation_changes_the_order_of_sentences(permuted):
    examples, outputs = permuted
    reordered = [output != example for example, output in zip(examples, outputs, strict=True)]
    several = [len(sentences(example)) > 1 for example in examples]
    assert np.mean(np.array(reordered)[several]) > 0.5


def test_a_last_sentence_without_its_stop_moves_whole():
    example = [10, 11, STOP, 12, 13]
    outputs = {tuple(permute_sentences(example, [STOP], seed=seed).numpy()) for seed in range(20)}
    assert outputs == {(10, 11, STOP, 12, 13), (12, 13, 10, 11, STOP)}


def test_a_single_sentence_stays_put():
    assert permute_sentences([10, 11, 12], [STOP], seed=0).numpy().tolist() == [10, 11, 12]


# === The mask token ===
def test_the_mask_token_goes_after_the_vocabulary_once():
    vocabulary = add_mask_token(["[PAD]", "[UNK]", "a"])
    assert vocabulary == ["[PAD]", "[UNK]", "a", MASK]
    assert mask_token_id(vocabulary) == 3
    with pytest.raises(ValueError, match="already has the mask token"):
        add_mask_token(vocabulary)
    with pytest.raises(ValueError, match="must hold the mask token"):
        mask_token_id(["[PAD]", "a"])
