"""Training batches of examples of similar length, sized in examples or in tokens.

Batches of randomly drawn pairs are padded to their longest pair, which on Multi30k wastes
about half of every step. Here examples join a batch of their own length bucket (the
"length bucketing" of OpenNMT-tf and tf.data's `bucket_by_sequence_length`), and a batch
holds either `batch_size` examples or as many as fit in `batch_tokens` padded tokens
(fairseq's `--max-tokens`, OpenNMT-tf's `batch_type: tokens`).
"""

import numpy as np
import tensorflow as tf

from zoo import checks
from zoo.training.cluster import in_cluster

# Examples whose padded lengths fall in the same window of this many tokens share batches,
# so padding adds at most this many tokens minus one to any sequence.
DEFAULT_BUCKET_WIDTH = 4


def check_batching(batch_size, batch_tokens):
    """Checks a batch sizing in examples or in tokens; returns `(batch_size, batch_tokens)`,
    one of them None: `batch_size` 64 when neither is given."""
    if batch_size is not None and batch_tokens is not None:
        raise ValueError(
            f"Pass `batch_size` or `batch_tokens`, not both: got batch_size={batch_size!r} "
            f"and batch_tokens={batch_tokens!r}."
        )
    if batch_tokens is not None:
        checks.positive_int(batch_tokens, "batch_tokens")
        return None, batch_tokens
    batch_size = 64 if batch_size is None else batch_size
    checks.positive_int(batch_size, "batch_size")
    return batch_size, None


def reshuffled(dataset):
    """`dataset` (of known size) in a new random order every time it is iterated.

    On a worker of a cluster (`TF_CONFIG` names one), the orders are seeded so that every
    worker draws the same ones, as a multi-worker strategy needs (each worker trains on its
    share of every global batch, which all of them build): they follow TensorFlow's global
    seed (`keras.utils.set_random_seed`, the same on every worker) if one is set.
    """
    seed = 0 if in_cluster() else None
    return dataset.shuffle(int(dataset.cardinality()), seed, reshuffle_each_iteration=True)


class LengthBuckets:
    """Groups examples into batches of similar padded length.

    Bucket `b` holds the examples whose padded length (the longest sequence the model reads
    for them, e.g. a pair's longer side after packing) is in `(b * width, (b + 1) * width]`;
    its batches hold `batch_size` examples, or `batch_tokens // ((b + 1) * width)`, so that
    no padded batch exceeds `batch_tokens` tokens per sequence kind.

    Args:
        max_length: int, the longest padded length an example can have.
        batch_size: int, examples per batch; or None when `batch_tokens` is given.
        batch_tokens: int, most padded tokens per batch; or None.
        width: int, the bucket width in tokens; None puts every example in one bucket
            (batches of randomly drawn examples).
    """

    def __init__(self, max_length, batch_size=None, batch_tokens=None, width=DEFAULT_BUCKET_WIDTH):
        self.width = max_length if width is None else width
        self.num_buckets = -(-max_length // self.width)
        upper_lengths = np.minimum(np.arange(1, self.num_buckets + 1) * self.width, max_length)
        if batch_tokens is None:
            self.batch_sizes = np.full(self.num_buckets, batch_size)
        else:
            self.batch_sizes = batch_tokens // upper_lengths
        self.batch_tokens = batch_tokens

    def bucket(self, padded_length):
        """int32 padded length(s) -> int64 bucket index(es)."""
        return tf.cast((padded_length - 1) // self.width, tf.int64)

    def count_batches(self, padded_lengths):
        """How many batches `batch` makes of examples with these padded lengths (NumPy)."""
        examples = np.bincount(self.bucket(padded_lengths).numpy(), minlength=self.num_buckets)
        return int(np.sum(-(-examples // np.maximum(self.batch_sizes, 1))))

    def check_fits(self, longest, name="batch_tokens"):
        """Raises a ValueError if an example `longest` tokens long fits in no batch."""
        if self.batch_sizes[int(self.bucket(longest))] < 1:
            raise ValueError(
                f"`{name}` must hold at least the longest example: got {self.batch_tokens}, "
                f"but an example pads to {longest} tokens (up to "
                f"{-(-longest // self.width) * self.width} in its length bucket)."
            )

    def batch(self, dataset, padded_length):
        """Batches `dataset` (a tf.data.Dataset of single examples) bucket by bucket;
        `padded_length` maps an example (its components as arguments) to its int32 padded
        length."""
        batch_sizes = tf.constant(self.batch_sizes, tf.int64)

        # Defs, not lambdas: AutoGraph cannot always find a lambda's source.
        def bucket_of(*example):
            return self.bucket(padded_length(*example))

        def batches_of(bucket, examples):
            # Ragged where lengths differ (token ids), dense where they do not (images).
            return examples.ragged_batch(batch_sizes[bucket])

        def batch_size_of(bucket):
            return batch_sizes[bucket]

        return dataset.group_by_window(bucket_of, batches_of, window_size_func=batch_size_of)
