"""What the noising functions of pre-training objectives share: one example's token ids,
stateless seeds, and shuffles under them."""

import tensorflow as tf


def one_example(token_ids):
    """`token_ids` as int32 [length], or a clear error if they are not one example of ids."""
    token_ids = tf.convert_to_tensor(token_ids)
    if token_ids.shape.rank != 1:
        raise ValueError(
            f"`token_ids` must be one example, 1-D, got shape {token_ids.shape}; "
            "map over the examples of a batch."
        )
    if not token_ids.dtype.is_integer:
        raise TypeError(f"`token_ids` must be integer token ids, got dtype {token_ids.dtype}.")
    return tf.cast(token_ids, tf.int32)


def stateless_seed(seed):
    """None (a fresh seed from TensorFlow's global random state), an int, or a shape-[2] int
    tensor -> the int64 [2] seed of TensorFlow's stateless random ops."""
    if seed is None:
        seed = tf.random.uniform([2], maxval=tf.int32.max, dtype=tf.int32)
    seed = tf.cast(seed, tf.int64)
    if seed.shape.rank == 0:
        seed = tf.stack([seed, tf.zeros_like(seed)])
    return seed


def stateless_shuffle(values, seed):
    """`values` [n] in a random order fixed by `seed`."""
    order = tf.argsort(tf.random.stateless_uniform(tf.shape(values), seed))
    return tf.gather(values, order)
