"""T5's span corruption objective, in-graph: text -> (input with sentinels, dropped spans)."""

import tensorflow as tf

from zoo import checks
from zoo.text.noising import one_example, stateless_seed, stateless_shuffle

SENTINEL_FORMAT = "[SENTINEL_{}]"


def add_sentinels(vocabulary, count=100):
    """Appends `count` sentinel tokens "[SENTINEL_0]", "[SENTINEL_1]", ... to a vocabulary.

    They go after every other token, as T5's extra ids do, so the reserved tokens keep ids
    0-3 and the learned pieces keep theirs. The segmenter splits "[" and "]" off as
    punctuation, so no text ever tokenizes into a sentinel.

    Args:
        vocabulary: list of str, e.g. from `zoo.text.learn_vocabulary`.
        count: int, the number of sentinels; span corruption needs one more than the most
            spans it drops from one example (T5: 100).

    Returns:
        list of str: `vocabulary`, then the sentinels; their ids are
        `range(len(vocabulary), len(vocabulary) + count)`, in order (see `sentinel_ids`).

    Example:
    >>> vocabulary = zoo.text.add_sentinels(zoo.text.learn_vocabulary(texts, 8000))
    >>> vectorizer = zoo.text.TextVectorizer(vocabulary)
    """
    checks.int_at_least(count, "count", 2, "a span's sentinel and the final one")
    vocabulary = list(vocabulary)
    sentinels = [SENTINEL_FORMAT.format(index) for index in range(count)]
    known = set(vocabulary)
    present = [token for token in sentinels if token in known]
    if present:
        raise ValueError(f"`vocabulary` already has sentinel tokens, e.g. {present[0]!r}.")
    return [*vocabulary, *sentinels]


def sentinel_ids(vocabulary):
    """The ids of "[SENTINEL_0]", "[SENTINEL_1]", ... in `vocabulary`, in that order."""
    ids = {token: index for index, token in enumerate(vocabulary)}
    found = []
    while SENTINEL_FORMAT.format(len(found)) in ids:
        found.append(ids[SENTINEL_FORMAT.format(len(found))])
    if len(found) < 2:
        raise ValueError(
            "`vocabulary` must hold at least [SENTINEL_0] and [SENTINEL_1] "
            f"(see `add_sentinels`), found {len(found)} sentinels."
        )
    return found


def _random_segmentation(num_items, num_segments, seed):
    """Lengths [num_segments] of a random split of num_items items into non-empty segments."""
    # Segment starts: the first item, and num_segments - 1 of the other num_items - 1.
    is_start = tf.cast(tf.range(num_items - 1) < num_segments - 1, tf.int32)
    is_start = tf.pad(stateless_shuffle(is_start, seed), [[1, 0]])
    segment_ids = tf.cumsum(is_start)
    return tf.math.segment_sum(tf.ones_like(segment_ids), segment_ids)


def random_spans_noise_mask(
    length, noise_density=0.15, mean_noise_span_length=3.0, max_spans=None, seed=(0, 0)
):
    """T5's `random_spans_noise_mask`: bool [length], True on the tokens to drop.

    round(length * noise_density) tokens (at least 1, at most length - 1) are noise,
    split at random into round(noise / mean_noise_span_length) spans (at least 1), which
    alternate with as many random non-noise spans, a non-noise span first. A length under
    2 is treated as 2 and the mask truncated, so a single token is never dropped.

    Args:
        length: scalar int32 tensor.
        noise_density: float in [0, 1); 0 drops nothing.
        mean_noise_span_length: float, at least 1.
        max_spans: None, or scalar int tensor: the most noise spans (more, shorter
            spans than that are merged into longer ones).
        seed: shape [2] int tensor, the stateless seed.
    """
    if noise_density == 0:
        return tf.zeros([length], tf.bool)
    padded_length = tf.maximum(length, 2)
    num_noise = tf.cast(tf.round(tf.cast(padded_length, tf.float32) * noise_density), tf.int32)
    num_noise = tf.clip_by_value(num_noise, 1, padded_length - 1)
    num_spans = tf.cast(tf.round(tf.cast(num_noise, tf.float32) / mean_noise_span_length), tf.int32)
    num_nonnoise = padded_length - num_noise
    # Both kinds of segmentation need as many items as spans (T5 fails otherwise).
    num_spans = tf.clip_by_value(num_spans, 1, tf.minimum(num_noise, num_nonnoise))
    if max_spans is not None:
        num_spans = tf.minimum(num_spans, tf.maximum(max_spans, 1))
    noise_seed, nonnoise_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    noise_lengths = _random_segmentation(num_noise, num_spans, noise_seed)
    nonnoise_lengths = _random_segmentation(num_nonnoise, num_spans, nonnoise_seed)
    interleaved = tf.reshape(tf.stack([nonnoise_lengths, noise_lengths], axis=1), [-1])
    span_starts = tf.cumsum(interleaved)[:-1]
    is_span_start = tf.math.unsorted_segment_sum(
        tf.ones_like(span_starts), span_starts, padded_length
    )
    is_noise = tf.math.floormod(tf.cumsum(is_span_start), 2) == 1
    return is_noise[:length]


def span_corruption(
    token_ids, sentinel_ids, noise_density=0.15, mean_noise_span_length=3.0, seed=None
):
    """T5's span corruption of one example: drops random spans, returns (inputs, targets).

    The noise mask is T5's `random_spans_noise_mask` (see `random_spans_noise_mask`). The
    convention is the T5 paper's (Raffel et al. 2020, figure 2): in `inputs`, the i-th
    dropped span is replaced by the single token sentinel_ids[i]; `targets` is each
    sentinel followed by the span it replaced, then one final sentinel, the one after
    the last used. For "A B C D E F" with spans "B" and "E F":

        inputs  = A <S0> C D <S1>
        targets = <S0> B <S1> E F <S2>

    The original is rebuilt by replacing each sentinel of `inputs` with what follows it in
    `targets`, up to the next sentinel. Pure TensorFlow ops, for `tf.data.Dataset.map`;
    apply it to token ids without start/end tokens (`TextVectorizer.tokenize`) and pack
    afterwards.

    Short and odd inputs have defined behaviour: an empty or one-token example drops
    nothing (inputs = the tokens, targets = <S0>); examples long enough to need more
    spans than `len(sentinel_ids) - 1` get that many, longer, spans instead.

    Args:
        token_ids: int32 [length], one example.
        sentinel_ids: list of int (or int tensor [num_sentinels]), at least 2, the ids of
            the sentinels in order: sentinel_ids[i] replaces the i-th span, e.g.
            `zoo.text.sentinel_ids(vocabulary)` after `zoo.text.add_sentinels`.
        noise_density: float in [0, 1), the fraction of tokens to drop.
        mean_noise_span_length: float, at least 1, the mean length of a dropped span.
        seed: None, an int, or shape-[2] int tensor: the stateless seed. The same seed
            and tokens always give the same result. In a dataset, give each example its
            own (e.g. `(base_seed, index)` after `dataset.enumerate()`): one seed for all
            would drop the same positions from every example of a given length. None
            draws a fresh seed from TensorFlow's global random state.

    Returns:
        (inputs, targets): int32 [input_length] and int32 [target_length].

    Example:
    >>> ids = zoo.text.sentinel_ids(vocabulary)
    >>> dataset = tf.data.Dataset.from_tensor_slices(vectorizer.tokenize(texts)).enumerate()
    >>> dataset = dataset.map(lambda i, tokens: span_corruption(tokens, ids, seed=(7, i)))
    """
    checks.fraction(noise_density, "noise_density")
    if not mean_noise_span_length >= 1:
        raise ValueError(
            f"`mean_noise_span_length` must be at least 1, got {mean_noise_span_length!r}."
        )
    sentinel_ids = tf.convert_to_tensor(sentinel_ids, tf.int32)
    if sentinel_ids.shape.rank != 1 or (
        sentinel_ids.shape[0] is not None and sentinel_ids.shape[0] < 2
    ):
        raise ValueError(
            f"`sentinel_ids` must be a 1-D list of at least 2 ids, got shape {sentinel_ids.shape}."
        )
    token_ids = one_example(token_ids)
    seed = stateless_seed(seed)

    length = tf.size(token_ids)
    is_noise = random_spans_noise_mask(
        length,
        noise_density,
        mean_noise_span_length,
        max_spans=tf.size(sentinel_ids) - 1,
        seed=seed,
    )
    follows_noise = tf.concat([[False], is_noise], axis=0)[:length]
    starts_span = is_noise & ~follows_noise
    span_index = tf.cumsum(tf.cast(starts_span, tf.int32)) - 1
    span_sentinels = tf.gather(sentinel_ids, tf.maximum(span_index, 0))

    inputs = tf.boolean_mask(
        tf.where(starts_span, span_sentinels, token_ids), ~is_noise | starts_span
    )
    # Each token position contributes (its span's sentinel if a span starts there, the
    # token if it is noise); flattening the pairs row by row keeps them in order.
    pairs = tf.reshape(tf.stack([span_sentinels, token_ids], axis=1), [-1])
    keep = tf.reshape(tf.stack([starts_span, is_noise], axis=1), [-1])
    num_spans = tf.reduce_sum(tf.cast(starts_span, tf.int32))
    targets = tf.concat(
        [tf.boolean_mask(pairs, keep), tf.gather(sentinel_ids, [num_spans])], axis=0
    )
    return inputs, targets
