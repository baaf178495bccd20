"""The decoding loop that every sampler shares."""

import collections

import tensorflow as tf

DecodeResult = collections.namedtuple("DecodeResult", ["token_ids", "scores", "cache"])
DecodeResult.__doc__ = """What a sampler returns.

Fields:
    token_ids: int32 tensor of shape `(batch, max_length)`, or `(batch, num_beams, max_length)`
        for all beams. The generated tokens without the start token; the end token is kept and
        `pad_token_id` fills the positions after it.
    scores: float32 tensor of shape `(batch,)` (or `(batch, num_beams)`): the sum of the model's
        log-probabilities of the generated tokens up to and including the end token (beam
        search divides it by its length penalty).
    cache: the cache returned by the last call of `step_fn`, one row per batch item.
"""


def write_at_position(buffer, index, values):
    """Writes `values` into the last axis of `buffer` at `index`.

    A masked `tf.where` rather than a slice update keeps every shape static, which the while
    loop and XLA need.
    """
    positions = tf.range(tf.shape(buffer)[-1])
    return tf.where(positions == index, tf.expand_dims(values, -1), buffer)


class Sampler:
    """Base class of the samplers: runs the decoding loop of an autoregressive decoder.

    The sampler owns one `tf.while_loop` that calls the model's `step_fn` once per position,
    writes each chosen token into a preallocated buffer, stops each sequence at its end token
    and sums the log-probabilities of the chosen tokens. Subclasses override only
    `get_next_token`, which picks the next token from the model's log-probabilities. Samplers
    run eagerly, inside `tf.function`, under `jit_compile=True` and in exported SavedModels.

    Call arguments:
        step_fn: callable `step_fn(token_ids, cache, index) -> (logits, cache)`. `token_ids` is
            int32 `(N,)`, the previous token of each sequence (`start_token_id` at index 0);
            `cache` is any `tf.nest` structure of tensors with leading dimension `N`, returned
            with the same structure and shapes; `index` is the int32 position being generated;
            `logits` is float `(N, vocabulary_size)`.
        cache: the initial cache (encoder outputs, RNN states, key/value buffers), or `None`.
        batch_size: int or int32 scalar, the number of sequences to generate.
        start_token_id: int, the token fed at index 0.
        end_token_id: int, the token that ends a sequence.
        max_length: int, the number of tokens to generate at most.
        pad_token_id: int, the token written after the end token. Defaults to `0`.

    Returns:
        A `zoo.decoding.DecodeResult`.

    Example:

    ```python
    # A toy model: the next token's logits depend only on the previous token.
    table = tf.random.normal([6, 6])

    def step_fn(token_ids, cache, index):
        return tf.gather(table, token_ids), cache

    result = zoo.decoding.GreedySampler()(
        step_fn, None, batch_size=2, start_token_id=2, end_token_id=3, max_length=5
    )
    result.token_ids  # int32, shape (2, 5)

    # A sampler that never emits token 1.
    class NoUnknownSampler(zoo.decoding.Sampler):
        def get_next_token(self, log_probs, index):
            allowed = tf.range(tf.shape(log_probs)[-1]) != 1
            log_probs = tf.where(allowed, log_probs, float("-inf"))
            return tf.argmax(log_probs, axis=-1, output_type=tf.int32)
    ```
    """

    def __call__(
        self,
        step_fn,
        cache,
        *,
        batch_size,
        start_token_id,
        end_token_id,
        max_length,
        pad_token_id=0,
    ):
        cache = () if cache is None else cache
        token_ids = tf.fill([batch_size, max_length], tf.constant(pad_token_id, tf.int32))
        previous_token_ids = tf.fill([batch_size], tf.constant(start_token_id, tf.int32))
        finished = tf.zeros([batch_size], tf.bool)
        scores = tf.zeros([batch_size], tf.float32)

        def cond(index, token_ids, previous_token_ids, finished, scores, cache):
            return tf.logical_and(index < max_length, tf.logical_not(tf.reduce_all(finished)))

        def body(index, token_ids, previous_token_ids, finished, scores, cache):
            logits, cache = step_fn(previous_token_ids, cache, index)
            log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32))
            next_token_ids = tf.cast(self.get_next_token(log_probs, index), tf.int32)
            # Finished sequences keep being fed (padding) but their tokens and scores freeze.
            next_token_ids = tf.where(finished, pad_token_id, next_token_ids)
            token_log_probs = tf.gather(log_probs, next_token_ids, batch_dims=1)
            scores += tf.where(finished, 0.0, token_log_probs)
            token_ids = write_at_position(token_ids, index, next_token_ids)
            finished = tf.logical_or(finished, next_token_ids == end_token_id)
            return index + 1, token_ids, next_token_ids, finished, scores, cache

        _, token_ids, _, _, scores, cache = tf.while_loop(
            cond,
            body,
            loop_vars=(tf.constant(0), token_ids, previous_token_ids, finished, scores, cache),
        )
        return DecodeResult(token_ids, scores, cache)

    def get_next_token(self, log_probs, index):
        """Chooses the next token of each sequence.

        Args:
            log_probs: float32 tensor of shape `(N, vocabulary_size)`, the model's
                log-probabilities for the next token.
            index: int32 scalar, the position being generated.

        Returns:
            int32 tensor of shape `(N,)`.
        """
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        return {}
