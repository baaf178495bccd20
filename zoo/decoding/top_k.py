"""Exact top-k of long rows: the best blocks first, then the best of their elements."""

import tensorflow as tf

# Of 32, 64, 128 and 256, the fastest for beam 4 over 4 x 8,000 candidates (bench/README.md).
BLOCK_SIZE = 32


def top_k(values, k):
    """What `tf.math.top_k(values, k)` returns for a 2-D float `values`, in two cheap passes.

    XLA:CPU's TopK is slow on long rows (beam search's 4 x 8,000 candidates per row). The k
    largest elements of a row lie in the k blocks with the
    largest maxima (every block ranked above an element's own holds a larger or earlier
    element, and fewer than k elements precede it), so this takes the maxima of blocks of
    `BLOCK_SIZE` elements (a vectorised reduction), the top k of those maxima, and the top k
    of those blocks' elements (timed in `bench/README.md`). Ties go to the lower index, as in
    `tf.math.top_k`.

    Args:
        values: float tensor of shape `(batch, length)`.
        k: int, at most `length`.

    Returns:
        `(values, indices)`, each of shape `(batch, k)`, sorted by decreasing value.
    """
    length = values.shape[-1]
    if length is None or length < 2 * k * BLOCK_SIZE:  # unknown or short rows: the plain op
        return tf.math.top_k(values, k)
    batch_size = tf.shape(values)[0]
    # Padding at -inf comes last among equals, and a row holds at least k real elements.
    padded = tf.pad(values, [[0, 0], [0, -length % BLOCK_SIZE]], constant_values=float("-inf"))
    blocks = tf.reshape(padded, [batch_size, -1, BLOCK_SIZE])
    _, best_blocks = tf.math.top_k(tf.reduce_max(blocks, axis=-1), k)
    # In index order, so that ties among the candidates still go to the lower index.
    best_blocks = tf.sort(best_blocks, axis=-1)
    candidates = tf.reshape(tf.gather(blocks, best_blocks, batch_dims=1), [batch_size, -1])
    top_values, positions = tf.math.top_k(candidates, k)
    block_starts = tf.gather(best_blocks, positions // BLOCK_SIZE, batch_dims=1) * BLOCK_SIZE
    return top_values, block_starts + positions % BLOCK_SIZE
