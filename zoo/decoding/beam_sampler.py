"""Beam search with the GNMT length penalty."""

import keras
import tensorflow as tf

from zoo import checks
from zoo.decoding.sampler import DecodeResult, Sampler, write_at_position
from zoo.decoding.top_k import top_k


@keras.saving.register_keras_serializable(package="zoo")
class BeamSampler(Sampler):
    """Keeps the `num_beams` best partial sequences of each batch item.

    Follows OpenNMT-tf: the cache is repeated `num_beams` times along its first axis (row
    `b * num_beams + k` is beam `k` of item `b`) and reordered with its beams at every step;
    only the first beam is live at the start; a finished beam can only be continued by padding,
    at no cost and without growing. Candidates are ranked by their length-penalised score

        sum of log-probabilities / ((5 + length) / 6) ** length_penalty

    where `length` counts the generated tokens including the end token. Decoding stops when
    every beam has finished or after `max_length` steps. With `num_beams=1` the output is
    exactly `GreedySampler`'s.

    Args:
        num_beams: int >= 1, the number of beams per batch item. Defaults to `4`.
        length_penalty: float >= 0. `0.0` ranks by the raw sum of log-probabilities; larger
            values favour longer sequences. Defaults to `0.0`.
        return_all_beams: bool. If `True`, `token_ids` has shape
            `(batch, num_beams, max_length)` and `scores` `(batch, num_beams)`, best first;
            otherwise only the best beam is returned. The cache is always the best beam's.
            Defaults to `False`.

    Example:

    ```python
    sampler = zoo.decoding.BeamSampler(num_beams=4, length_penalty=0.6)
    ```
    """

    def __init__(self, num_beams=4, length_penalty=0.0, return_all_beams=False):
        checks.int_at_least(num_beams, "num_beams", 1)
        checks.non_negative_number(length_penalty, "length_penalty")
        self.num_beams = num_beams
        self.length_penalty = length_penalty
        self.return_all_beams = return_all_beams

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
        num_beams = self.num_beams
        cache = () if cache is None else cache
        cache = tf.nest.map_structure(lambda x: tf.repeat(x, num_beams, axis=0), cache)
        token_ids = tf.fill(
            [batch_size, num_beams, max_length], tf.constant(pad_token_id, tf.int32)
        )
        previous_token_ids = tf.fill([batch_size * num_beams], tf.constant(start_token_id))
        # All beams start identical; only the first is live so that the first step does not
        # pick the same token num_beams times.
        initial_log_probs = tf.constant([[0.0] + [float("-inf")] * (num_beams - 1)])
        log_probs = tf.tile(initial_log_probs, [batch_size, 1])
        scores = log_probs
        lengths = tf.zeros([batch_size, num_beams], tf.int32)
        finished = tf.zeros([batch_size, num_beams], tf.bool)

        def cond(index, token_ids, previous_token_ids, log_probs, scores, lengths, finished, cache):
            # A beam at -inf can never climb back among the best, so it need not finish.
            done = tf.logical_or(finished, tf.equal(log_probs, float("-inf")))
            return tf.logical_and(index < max_length, tf.logical_not(tf.reduce_all(done)))

        def body(index, token_ids, previous_token_ids, log_probs, scores, lengths, finished, cache):
            # Read from a loop variable: inside the loop body a captured batch size tensor loses
            # its static value, and with it the static shapes the loop needs.
            batch_size = tf.shape(finished)[0]
            logits, next_cache = step_fn(previous_token_ids, cache, index)
            step_log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32))
            # Static where known: `top_k` takes its fast path only for rows of known length.
            vocabulary_size = logits.shape[-1] or tf.shape(logits)[-1]
            step_log_probs = tf.reshape(step_log_probs, [batch_size, num_beams, -1])
            pad_only = tf.where(tf.range(vocabulary_size) == pad_token_id, 0.0, float("-inf"))
            step_log_probs = tf.where(finished[:, :, None], pad_only, step_log_probs)

            candidate_log_probs = log_probs[:, :, None] + step_log_probs
            candidate_lengths = lengths + tf.cast(tf.logical_not(finished), tf.int32)
            candidate_scores = candidate_log_probs / self._penalty(candidate_lengths)[:, :, None]
            # top_k keeps the best candidates sorted, so the final beams come out best first.
            flat_scores = tf.reshape(candidate_scores, [batch_size, num_beams * vocabulary_size])
            scores, flat_indices = top_k(flat_scores, num_beams)
            beam_indices = flat_indices // vocabulary_size
            next_token_ids = flat_indices % vocabulary_size

            log_probs = tf.gather(
                tf.reshape(candidate_log_probs, [batch_size, -1]), flat_indices, batch_dims=1
            )
            lengths = tf.gather(candidate_lengths, beam_indices, batch_dims=1)
            finished = tf.logical_or(
                tf.gather(finished, beam_indices, batch_dims=1), next_token_ids == end_token_id
            )
            token_ids = tf.gather(token_ids, beam_indices, batch_dims=1)
            token_ids = write_at_position(token_ids, index, next_token_ids)
            cache = tf.nest.map_structure(
                lambda new, old: (
                    # What the step passed through unchanged (the encoder's outputs, the
                    # cross-attention keys) is still the same for every beam of an item, all
                    # copies from the start, and needs no reordering.
                    new if new is old else reorder_beams(new, beam_indices, batch_size, num_beams)
                ),
                next_cache,
                cache,
            )
            previous_token_ids = tf.reshape(next_token_ids, [-1])
            return (
                index + 1,
                token_ids,
                previous_token_ids,
                log_probs,
                scores,
                lengths,
                finished,
                cache,
            )

        loop_vars = (
            tf.constant(0),
            token_ids,
            previous_token_ids,
            log_probs,
            scores,
            lengths,
            finished,
            cache,
        )
        _, token_ids, _, _, scores, _, _, cache = tf.while_loop(cond, body, loop_vars)
        best_cache = tf.nest.map_structure(
            lambda x: split_beams(x, batch_size, num_beams)[:, 0], cache
        )
        if self.return_all_beams:
            return DecodeResult(token_ids, scores, best_cache)
        return DecodeResult(token_ids[:, 0], scores[:, 0], best_cache)

    def _penalty(self, lengths):
        return ((5.0 + tf.cast(lengths, tf.float32)) / 6.0) ** self.length_penalty

    def get_config(self):
        return {
            "num_beams": self.num_beams,
            "length_penalty": self.length_penalty,
            "return_all_beams": self.return_all_beams,
        }


def split_beams(x, batch_size, num_beams):
    """Reshapes `(batch * num_beams, ...)` to `(batch, num_beams, ...)`."""
    return tf.reshape(x, tf.concat([[batch_size, num_beams], tf.shape(x)[1:]], axis=0))


def reorder_beams(x, beam_indices, batch_size, num_beams):
    """Gives beam `k` of each item the row of its parent beam `beam_indices[:, k]`."""
    # tf.gather with batch_dims is far faster here than keras.ops.take_along_axis.
    parents = tf.gather(split_beams(x, batch_size, num_beams), beam_indices, batch_dims=1)
    return tf.reshape(parents, tf.shape(x))
