"""BART's noising of one example (Lewis et al. 2020, section 2.2): sentence permutation and
text infilling, in pure TensorFlow for `tf.data.Dataset.map`."""

import tensorflow as tf

from zoo import checks
from zoo.text.noising import one_example, stateless_seed, stateless_shuffle

MASK = "[MASK]"
# BART's own mask token, in the byte-level BPE vocabularies of keras-hub's presets.
BART_MASK = "<mask>"


def add_mask_token(vocabulary):
    """Appends "[MASK]", the token text infilling writes in place of each span.

    It goes after every other token, so the reserved tokens and the learned pieces keep their
    ids. The segmenter splits "[" and "]" off as punctuation, so no text ever tokenizes into
    it.

    Args:
        vocabulary: list of str, e.g. from `zoo.text.learn_vocabulary`.

    Returns:
        list of str: `vocabulary`, then "[MASK]".
    """
    if MASK in vocabulary:
        raise ValueError(f"`vocabulary` already has the mask token {MASK!r}.")
    return [*vocabulary, MASK]


def mask_token_id(vocabulary):
    """The id of "[MASK]" (or BART's "<mask>") in `vocabulary`."""
    vocabulary = list(vocabulary)
    try:
        return vocabulary.index(MASK if MASK in vocabulary else BART_MASK)
    except ValueError:
        raise ValueError(
            f"`vocabulary` must hold the mask token {MASK!r} (see `add_mask_token`)."
        ) from None


def permute_sentences(token_ids, sentence_end_ids, seed=None):
    """Shuffles the sentences of one example: BART's sentence permutation.

    A sentence ends after any token of `sentence_end_ids` (e.g. the ids of ".", "!", "?")
    and at the end of the example, so an example with no such token is one sentence and
    comes back unchanged.

    Args:
        token_ids: int [length], one example.
        sentence_end_ids: list of int, the tokens that end a sentence.
        seed: None, an int, or shape-[2] int tensor: the stateless seed (see
            `text_infilling`).

    Returns:
        int32 [length]: the same tokens, sentences in a random order.
    """
    token_ids = one_example(token_ids)
    seed = stateless_seed(seed)
    ends = tf.reduce_any(
        tf.equal(token_ids[:, None], tf.constant(sentence_end_ids, tf.int32)[None, :]), axis=1
    )
    # A token's sentence: how many sentence ends come before it.
    starts = tf.concat([[0], tf.cast(ends[:-1], tf.int32)], axis=0)[: tf.size(token_ids)]
    sentences = tf.RaggedTensor.from_value_rowids(token_ids, tf.cumsum(starts))
    order = stateless_shuffle(tf.range(sentences.nrows(out_type=tf.int32)), seed)
    return tf.gather(sentences, order).flat_values


def text_infilling(token_ids, mask_id, mask_ratio=0.3, poisson_lambda=3.0, seed=None):
    """BART's text infilling of one example: spans replaced by one mask token each.

    round(length * mask_ratio) tokens are masked, in spans whose lengths are drawn from
    Poisson(`poisson_lambda`) until they cover that many (the last one cut to fit). Each
    span becomes a single `mask_id`, so the model must also learn how many tokens are
    missing; a span of length 0 inserts a mask between two tokens. Spans sit in distinct
    gaps between the kept tokens (when there are more spans than gaps, the extra ones join
    the last), so two masks are never adjacent. The target is the example itself.

    Args:
        token_ids: int [length], one example, e.g. from `TextVectorizer.tokenize`.
        mask_id: int, the mask token's id (`mask_token_id(vocabulary)`).
        mask_ratio: float in [0, 1), the fraction of tokens to mask.
        poisson_lambda: positive float, the mean span length.
        seed: None, an int, or shape-[2] int tensor: the stateless seed. The same seed and
            tokens always give the same result; in a dataset, give each example its own.
            None draws a fresh seed from TensorFlow's global random state.

    Returns:
        int32 [input_length]: the example with its spans masked.

    Example:
    >>> mask_id = zoo.text.mask_token_id(vectorizer.vocabulary)
    >>> dataset = tf.data.Dataset.from_tensor_slices(vectorizer.tokenize(texts)).enumerate()
    >>> noised = dataset.map(lambda i, tokens: text_infilling(tokens, mask_id, seed=(7, i)))
    """
    checks.fraction(mask_ratio, "mask_ratio")
    checks.positive_number(poisson_lambda, "poisson_lambda")
    token_ids = one_example(token_ids)
    lengths_seed, gaps_seed = tf.unstack(
        tf.random.experimental.stateless_split(stateless_seed(seed), 2)
    )

    length = tf.size(token_ids)
    num_masked = tf.cast(tf.round(tf.cast(length, tf.float32) * mask_ratio), tf.int32)
    num_kept = length - num_masked
    span_lengths = _span_lengths(num_masked, num_kept + 1, poisson_lambda, lengths_seed)

    # The gaps before each kept token and after the last: where the spans go.
    num_gaps = num_kept + 1
    num_spans = tf.size(span_lengths)
    gaps = tf.sort(stateless_shuffle(tf.range(num_gaps), gaps_seed)[:num_spans])
    gap_span_lengths = tf.scatter_nd(gaps[:, None], span_lengths, [num_gaps])
    gap_has_span = tf.scatter_nd(gaps[:, None], tf.ones_like(gaps), [num_gaps]) > 0

    # The original is, gap by gap, its span's tokens then a kept token (none after the last).
    masked_then_kept = tf.tile([True, False], [num_gaps])
    repeats = tf.reshape(tf.stack([gap_span_lengths, tf.ones_like(gap_span_lengths)], 1), [-1])
    is_masked = tf.repeat(masked_then_kept, repeats)[:length]
    kept = tf.boolean_mask(token_ids, ~is_masked)

    # The input is, gap by gap, a mask if the gap has a span, then the kept token.
    slots = tf.stack([tf.fill([num_gaps], tf.cast(mask_id, tf.int32)), tf.pad(kept, [[0, 1]])], 1)
    filled = tf.stack([gap_has_span, tf.range(num_gaps) < num_kept], 1)
    return tf.boolean_mask(tf.reshape(slots, [-1]), tf.reshape(filled, [-1]))


def _span_lengths(num_masked, max_spans, poisson_lambda, seed):
    """Lengths drawn from Poisson(lambda) until they sum to num_masked (the last cut to fit,
    the ones past `max_spans` joined to the last); none when num_masked is 0."""
    drawn = tf.cast(tf.random.stateless_poisson([num_masked + 1], seed, poisson_lambda), tf.int32)
    covered_before = tf.cumsum(drawn, exclusive=True)
    num_spans = tf.reduce_sum(tf.cast(covered_before < num_masked, tf.int32))
    num_spans = tf.minimum(num_spans, max_spans)
    lengths = drawn[: num_spans - 1]
    last = num_masked - tf.reduce_sum(lengths)
    return tf.concat([lengths, [last]], 0)[:num_spans]
