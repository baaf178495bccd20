"""Greedy decoding: always the most likely next token."""

import keras
import tensorflow as tf

from zoo.decoding.sampler import Sampler


@keras.saving.register_keras_serializable(package="zoo")
class GreedySampler(Sampler):
    """Picks the most likely token at every step.

    Ties go to the lowest token id, as with `BeamSampler(num_beams=1)`.

    Example:

    ```python
    table = tf.random.normal([6, 6])
    result = zoo.decoding.GreedySampler()(
        lambda token_ids, cache, index: (tf.gather(table, token_ids), cache),
        None,
        batch_size=2,
        start_token_id=2,
        end_token_id=3,
        max_length=5,
    )
    ```
    """

    def get_next_token(self, log_probs, index):
        return tf.argmax(log_probs, axis=-1, output_type=tf.int32)
