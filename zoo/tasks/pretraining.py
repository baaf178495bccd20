"""T5's span-corruption pre-training data for a `Seq2Seq` (`Seq2Seq.pretrain`)."""

import tensorflow as tf

from zoo.tasks.inputs import as_text_list
from zoo.text.span_corruption import sentinel_ids, span_corruption
from zoo.training.batching import LengthBuckets, check_batching


def span_corruption_batches(
    task, texts, *, batch_size, batch_tokens, noise_density, mean_noise_span_length
):
    """The teacher-forcing batches `task.pretrain` trains on; see `Seq2Seq.pretraining_dataset`."""
    sentinels = _sentinel_ids(task)
    texts, _ = as_text_list(texts, "texts")
    vectorizer = task.source_vectorizer
    # One length bucket: every example is as long as the encoder reads.
    buckets = LengthBuckets(
        vectorizer.sequence_length, *check_batching(batch_size, batch_tokens), width=None
    )
    buckets.check_fits(vectorizer.sequence_length)
    (batch_size,) = buckets.batch_sizes
    if not isinstance(noise_density, (int, float)) or not 0 < noise_density < 1:
        raise ValueError(f"`noise_density` must be a number in (0, 1), got {noise_density!r}.")
    if not isinstance(mean_noise_span_length, (int, float)) or mean_noise_span_length < 1:
        raise ValueError(
            "`mean_noise_span_length` must be a number of at least 1, "
            f"got {mean_noise_span_length!r}."
        )

    def corrupt(example_token_ids):
        return span_corruption(example_token_ids, sentinels, noise_density, mean_noise_span_length)

    # Examples as long as the encoder reads (with its end token), as T5 packs its
    # pre-training text: T5's noise mask always ends a sequence with a dropped span, so
    # on single short sentences it would mostly drop their final punctuation.
    example_length = vectorizer.sequence_length - 1
    token_ids = vectorizer.tokenize(tf.constant(texts))
    # Shuffling changes the examples, never their number: telling tf.data (which cannot
    # count through `unbatch`) lets Keras show the steps and not warn that data ran out.
    examples = -(-int(tf.size(token_ids.flat_values)) // example_length)
    return (
        tf.data.Dataset.from_tensor_slices(token_ids)
        .shuffle(len(texts), reshuffle_each_iteration=True)
        .unbatch()
        .batch(example_length)
        .map(corrupt, num_parallel_calls=tf.data.AUTOTUNE)
        .ragged_batch(batch_size)
        .map(task.preprocessor.teacher_forcing)
        .apply(tf.data.experimental.assert_cardinality(-(-examples // batch_size)))
        .prefetch(tf.data.AUTOTUNE)
    )


def _sentinel_ids(task):
    if task.source_vectorizer is not task.target_vectorizer:
        raise ValueError(
            "`pretrain` needs one vocabulary for both sides (the sentinels of the input "
            "are written in the target), but this model has a source and a target "
            "vectorizer. Build it with one, e.g. with `zoo.t5`."
        )
    try:
        return sentinel_ids(task.source_vectorizer.vocabulary)
    except ValueError:
        raise ValueError(
            "`pretrain` needs sentinel tokens in the vocabulary: build the model with "
            "`zoo.t5(..., sentinels=100)` or a vectorizer over "
            "`zoo.text.add_sentinels(vocabulary)`."
        ) from None
