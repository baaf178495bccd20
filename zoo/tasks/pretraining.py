"""Pre-training objectives of a `Seq2Seq` (`Seq2Seq.pretrain`): T5's span corruption and
BART's denoising, each of which turns unlabelled text into teacher-forcing batches."""

import numpy as np
import tensorflow as tf

from zoo import checks
from zoo.tasks.inputs import as_text_list
from zoo.text.span_corruption import sentinel_ids, span_corruption
from zoo.text.text_infilling import mask_token_id, permute_sentences, text_infilling
from zoo.training.batching import LengthBuckets, check_batching, reshuffled

SENTENCE_ENDS = (".", "!", "?")


class SpanCorruption:
    """T5's objective (Raffel et al. 2020): the model reads each example with a sentinel in
    place of each dropped span and writes the spans, each after its sentinel.

    Every epoch, the texts are shuffled, concatenated and cut into examples of
    `sequence_length - 1` tokens, as T5 packs its pre-training text, and each example loses
    fresh random spans (`zoo.text.span_corruption`). It needs one vocabulary for both sides
    that holds the sentinels, e.g. `zoo.t5`'s (its `sentinels` option) or a
    `TextVectorizer` over `zoo.text.add_sentinels(vocabulary)`.

    Args:
        noise_density: float in (0, 1), the fraction of each example's tokens to drop.
        mean_noise_span_length: float, at least 1, the mean length of a dropped span.
    """

    def __init__(self, noise_density=0.15, mean_noise_span_length=3.0):
        if not isinstance(noise_density, (int, float)) or not 0 < noise_density < 1:
            raise ValueError(f"`noise_density` must be a number in (0, 1), got {noise_density!r}.")
        if not isinstance(mean_noise_span_length, (int, float)) or mean_noise_span_length < 1:
            raise ValueError(
                "`mean_noise_span_length` must be a number of at least 1, "
                f"got {mean_noise_span_length!r}."
            )
        self.noise_density = noise_density
        self.mean_noise_span_length = mean_noise_span_length

    def batches(self, task, texts, batch_size=None, batch_tokens=None):
        """The teacher-forcing batches of `task` (a `Seq2Seq`) for one pass over `texts`."""
        sentinels = _special_ids(task, sentinel_ids, "sentinel tokens", SENTINELS_HINT)
        texts, _ = as_text_list(texts, "texts")
        vectorizer = task.source_vectorizer
        # One length bucket: every example is as long as the encoder reads.
        buckets = LengthBuckets(
            vectorizer.sequence_length, *check_batching(batch_size, batch_tokens), width=None
        )
        buckets.check_fits(vectorizer.sequence_length)
        (batch_size,) = buckets.batch_sizes

        def corrupt(example_token_ids):
            return span_corruption(
                example_token_ids, sentinels, self.noise_density, self.mean_noise_span_length
            )

        # Examples as long as the encoder reads (with its end token), as T5 packs its
        # pre-training text: T5's noise mask always ends a sequence with a dropped span, so
        # on single short sentences it would mostly drop their final punctuation.
        example_length = vectorizer.sequence_length - 1
        token_ids = vectorizer.tokenize(tf.constant(texts))
        # Shuffling changes the examples, never their number: telling tf.data (which cannot
        # count through `unbatch`) lets Keras show the steps and not warn that data ran out.
        examples = -(-int(tf.size(token_ids.flat_values)) // example_length)
        return (
            reshuffled(tf.data.Dataset.from_tensor_slices(token_ids))
            .unbatch()
            .batch(example_length)
            .map(corrupt, num_parallel_calls=tf.data.AUTOTUNE)
            .ragged_batch(batch_size)
            .map(task.preprocessor.teacher_forcing)
            .apply(tf.data.experimental.assert_cardinality(-(-examples // batch_size)))
            .prefetch(tf.data.AUTOTUNE)
        )


class TextInfilling:
    """BART's objective (Lewis et al. 2020, the text infilling and sentence permutation
    that its paper found best): the model reads a corrupted text and writes the original.

    Every epoch, each text (cut to what the decoder writes) has its sentences shuffled
    (`zoo.text.permute_sentences`; a sentence ends at ".", "!" or "?") and then spans
    masked (`zoo.text.text_infilling`): round(30%) of its tokens, in spans of
    Poisson(3) lengths, each span replaced by one "[MASK]". Texts of similar length share
    batches, as in `fit`. It needs one vocabulary for both sides that holds "[MASK]", e.g.
    `zoo.bart`'s or a `TextVectorizer` over `zoo.text.add_mask_token(vocabulary)`.

    Args:
        mask_ratio: float in [0, 1), the fraction of each text's tokens to mask.
        poisson_lambda: positive float, the mean length of a masked span.
        permute_sentences: bool, whether to shuffle each text's sentences first.
    """

    def __init__(self, mask_ratio=0.3, poisson_lambda=3.0, permute_sentences=True):
        checks.fraction(mask_ratio, "mask_ratio")
        checks.positive_number(poisson_lambda, "poisson_lambda")
        if not isinstance(permute_sentences, bool):
            raise TypeError(f"`permute_sentences` must be a bool, got {permute_sentences!r}.")
        self.mask_ratio = mask_ratio
        self.poisson_lambda = poisson_lambda
        self.permute_sentences = permute_sentences

    def batches(self, task, texts, batch_size=None, batch_tokens=None):
        """The teacher-forcing batches of `task` (a `Seq2Seq`) for one pass over `texts`."""
        mask_id = _special_ids(task, mask_token_id, "the mask token", MASK_HINT)
        texts, _ = as_text_list(texts, "texts")
        vectorizer = task.target_vectorizer
        sentence_ends = _single_token_ids(vectorizer, SENTENCE_ENDS)
        # The original is the target: cut it to what the decoder writes between its start
        # and end tokens. Batches group texts by that length, known before corruption.
        originals = vectorizer.tokenize(tf.constant(texts))[:, : vectorizer.sequence_length - 2]
        lengths = 1 + originals.row_lengths().numpy().astype(np.int32)
        buckets = task.preprocessor.length_buckets(batch_size, batch_tokens)
        buckets.check_fits(lengths.max(initial=1))

        # A token that begins every text (BART's "<s>") stays first and is never masked.
        kept = int(vectorizer.begin_token_id is not None)

        def corrupt(original):
            noised = original[kept:]
            if self.permute_sentences:
                noised = permute_sentences(noised, sentence_ends)
            noised = text_infilling(noised, mask_id, self.mask_ratio, self.poisson_lambda)
            return tf.concat([original[:kept], noised], axis=0), original

        def target_length(noised, original):
            return 1 + tf.size(original, out_type=tf.int32)

        pairs = reshuffled(tf.data.Dataset.from_tensor_slices(originals))
        pairs = pairs.map(corrupt, num_parallel_calls=tf.data.AUTOTUNE)
        return (
            buckets.batch(pairs, target_length)
            .map(task.preprocessor.teacher_forcing)
            .apply(tf.data.experimental.assert_cardinality(buckets.count_batches(lengths)))
            .prefetch(tf.data.AUTOTUNE)
        )


OBJECTIVES = {"span_corruption": SpanCorruption, "bart": TextInfilling}


def pretraining_objective(objective):
    """An objective given by name ("span_corruption", "bart") or as an object."""
    if isinstance(objective, (SpanCorruption, TextInfilling)):
        return objective
    if isinstance(objective, str) and objective in OBJECTIVES:
        return OBJECTIVES[objective]()
    raise ValueError(
        f"`objective` must be one of {sorted(OBJECTIVES)} or a `zoo.tasks.SpanCorruption` / "
        f"`zoo.tasks.TextInfilling`, got {objective!r}."
    )


SENTINELS_HINT = (
    "build the model with `zoo.t5(..., sentinels=100)` or a vectorizer over "
    "`zoo.text.add_sentinels(vocabulary)`"
)
MASK_HINT = (
    "build the model with `zoo.bart` or a vectorizer over `zoo.text.add_mask_token(vocabulary)`"
)


def _special_ids(task, find, what, hint):
    """`find(vocabulary)` of the task's one vocabulary, or a ValueError saying what to build."""
    if task.source_vectorizer is not task.target_vectorizer:
        raise ValueError(
            "`pretrain` needs one vocabulary for both sides (the model writes what it reads), "
            "but this model has a source and a target vectorizer. Build it with one, e.g. "
            "with `zoo.t5` or `zoo.bart`."
        )
    try:
        return find(task.source_vectorizer.vocabulary)
    except ValueError:
        raise ValueError(f"`pretrain` needs {what} in the vocabulary: {hint}.") from None


def _single_token_ids(vectorizer, texts):
    """The ids of those `texts` that the vectorizer reads as one token."""
    token_ids = vectorizer.tokenize(tf.constant(list(texts))).to_tensor(vectorizer.pad_token_id)
    token_ids = vectorizer.readable_token_ids(token_ids).to_list()
    return [ids[0] for ids in token_ids if len(ids) == 1]
