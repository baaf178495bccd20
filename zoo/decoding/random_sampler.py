"""Random sampling with temperature, top-k and nucleus (top-p) filtering."""

import keras
import tensorflow as tf

from zoo import checks
from zoo.decoding.sampler import Sampler


@keras.saving.register_keras_serializable(package="zoo")
class RandomSampler(Sampler):
    """Samples each next token from the model's distribution.

    The log-probabilities are divided by `temperature`, then restricted to the `top_k` most
    likely tokens, then to the smallest set of most likely tokens whose probability reaches
    `top_p`. Scores stay the model's own log-probabilities, unaffected by these filters.

    Sampling uses stateless Philox random numbers seeded from `(seed, index)`, so a fixed seed
    gives the same tokens on every call, eagerly, in `tf.function` and under XLA.

    Args:
        temperature: float > 0. Below 1 sharpens the distribution, above 1 flattens it.
            Defaults to `1.0`.
        top_k: int >= 1 or `None`. Keep only the `top_k` most likely tokens. Defaults to
            `None` (no limit).
        top_p: float in `(0, 1]` or `None`. Keep the most likely tokens until their
            probability adds up to `top_p`. Defaults to `None` (no limit).
        seed: int32 or `None`. `None` draws fresh randomness on every call. Defaults to `None`.

    Example:

    ```python
    sampler = zoo.decoding.RandomSampler(temperature=0.7, top_k=40, top_p=0.9, seed=1)
    ```
    """

    def __init__(self, temperature=1.0, top_k=None, top_p=None, seed=None):
        checks.positive_number(temperature, "temperature")
        checks.int_at_least(top_k, "top_k", 1, allow_none=True)
        if top_p is not None and not 0 < top_p <= 1:
            raise ValueError(f"`top_p` must be in (0, 1] or None, got {top_p!r}.")
        if seed is not None and not (isinstance(seed, int) and -(2**31) <= seed < 2**31):
            raise ValueError(f"`seed` must be an int32 or None, got {seed!r}.")
        self.temperature = temperature
        self.top_k = top_k
        self.top_p = top_p
        self.seed = seed

    def get_next_token(self, log_probs, index):
        logits = log_probs / self.temperature
        if self.top_k is not None:
            logits = keep_top_k(logits, self.top_k)
        if self.top_p is not None:
            logits = keep_top_p(logits, self.top_p)
        # Gumbel-max on integer Philox draws: for the same seed, XLA's stateless_categorical
        # and float uniforms differ from the CPU kernels' numbers, its integer draws do not.
        bits = tf.random.stateless_uniform(
            tf.shape(logits), self._step_seed(index), maxval=2**24, dtype=tf.int32, alg="philox"
        )
        uniform = (tf.cast(bits, tf.float32) + 0.5) / 2.0**24
        gumbel_noise = -tf.math.log(-tf.math.log(uniform))
        return tf.argmax(logits + gumbel_noise, axis=-1, output_type=tf.int32)

    def _step_seed(self, index):
        if self.seed is None:
            return tf.random.uniform([2], maxval=tf.int32.max, dtype=tf.int32)
        # XLA's stateless random ops take int32 seeds only.
        return tf.stack([tf.constant(self.seed, tf.int32), index])

    def get_config(self):
        return {
            "temperature": self.temperature,
            "top_k": self.top_k,
            "top_p": self.top_p,
            "seed": self.seed,
        }


def keep_top_k(logits, top_k):
    """Sets every logit below the `top_k`-th largest of its row to -inf."""
    # `tf.math.top_k` needs a static k under XLA, and k may not exceed the vocabulary.
    vocabulary_size = logits.shape[-1]
    if vocabulary_size is not None:
        top_k = min(top_k, vocabulary_size)
    threshold = tf.math.top_k(logits, top_k).values[:, -1:]
    return tf.where(logits < threshold, float("-inf"), logits)


def keep_top_p(logits, top_p):
    """Keeps the most likely tokens of each row until their probability reaches `top_p`."""
    sorted_logits = tf.sort(logits, axis=-1, direction="DESCENDING")
    # A token is kept while the mass of the tokens before it is below top_p, so the most
    # likely token always survives.
    mass_before = tf.cumsum(tf.nn.softmax(sorted_logits), axis=-1, exclusive=True)
    kept_logits = tf.where(mass_before < top_p, sorted_logits, float("inf"))
    threshold = tf.reduce_min(kept_logits, axis=-1, keepdims=True)
    return tf.where(logits < threshold, float("-inf"), logits)
