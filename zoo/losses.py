"""The losses of zoo's tasks: cross-entropies on sparse labels whose means are those of the
global batch under tf.distribute.

Under a tf.distribute strategy, Keras averages the replicas' own means, which weighs an
example (or a real token) of a replica holding few of them more than one of a replica
holding many: length-bucketed batches split unevenly. `GlobalBatchMean` divides each
replica's sum by the count of the whole global batch instead. Keras'
SparseCategoricalCrossentropy has no `label_smoothing`, and the dense
CategoricalCrossentropy needs one-hot labels the size of the whole vocabulary.
"""

import keras
import tensorflow as tf
from keras import ops

from zoo import checks

MEAN_REDUCTIONS = ("sum_over_batch_size", "mean_with_sample_weight")


class GlobalBatchMean:
    """Makes a `keras.losses.Loss` subclass's mean reductions ("sum_over_batch_size",
    "mean_with_sample_weight") the global batch's under a tf.distribute strategy with
    several replicas: each replica's weighted sum over the count of every replica's
    elements (or their summed weights). Keras sums the replicas' gradients, so their shares
    add up to the gradient of one process's mean. Other reductions, and a single replica,
    go through Keras' own reduction."""

    def __call__(self, y_true, y_pred, sample_weight=None):
        replica = tf.distribute.get_replica_context()
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if replica is None or replicas == 1 or self.reduction not in MEAN_REDUCTIONS:
            return super().__call__(y_true, y_pred, sample_weight)
        # As Keras' `Loss.__call__` does before `call`.
        y_true, y_pred = (ops.convert_to_tensor(y, dtype=self.dtype) for y in (y_true, y_pred))
        losses = ops.cast(self.call(y_true, y_pred), "float32")
        if sample_weight is None:
            weights = ops.ones_like(losses)
        else:
            weights = ops.cast(sample_weight, "float32")
            while len(weights.shape) < len(losses.shape):
                weights = ops.expand_dims(weights, -1)
            weights = ops.broadcast_to(weights, ops.shape(losses))
        replica_sum = ops.sum(losses * weights)
        if self.reduction == "mean_with_sample_weight":
            count = ops.sum(weights)
        else:
            count = ops.cast(ops.size(losses), "float32")
        global_count = replica.all_reduce(tf.distribute.ReduceOp.SUM, count)
        return ops.cast(ops.divide_no_nan(replica_sum, global_count), self.dtype)


@keras.saving.register_keras_serializable(package="zoo")
class SparseCategoricalCrossentropy(GlobalBatchMean, keras.losses.SparseCategoricalCrossentropy):
    """`keras.losses.SparseCategoricalCrossentropy` whose mean is the global batch's under
    tf.distribute (`GlobalBatchMean`): the loss of zoo's classifiers, segmenters and
    question answerers compiled with `loss="auto"`. Takes Keras' arguments."""


@keras.saving.register_keras_serializable(package="zoo")
class LabelSmoothedCrossentropy(GlobalBatchMean, keras.losses.Loss):
    """Per-token cross-entropy against label-smoothed targets, from integer labels: the
    loss of every `zoo.Seq2Seq` compiled with `loss="auto"`.

    The target puts `1 - label_smoothing + label_smoothing / vocabulary_size` on the label
    and `label_smoothing / vocabulary_size` on every other token, as
    `keras.losses.CategoricalCrossentropy(label_smoothing=...)` does on one-hot labels.
    From logits it runs through TensorFlow's fused softmax cross-entropy kernels
    (`cross_entropy_from_logits`, timed by bench/fused_kernels.py); from probabilities it is
    `-(1 - eps) * log p[label] - eps / V * sum(log p)`.

    Args:
        label_smoothing: float in [0, 1), the probability mass spread uniformly over the
            vocabulary. 0 gives plain sparse cross-entropy.
        from_logits: bool, whether `y_pred` holds logits (True) or probabilities.
        reduction: str or None, a `keras.losses.Loss` reduction. The default divides by
            the summed sample weights, so padding weighted out does not dilute the mean;
            under tf.distribute, by those of the global batch (`GlobalBatchMean`).
        name: str, the name of the loss.
        dtype: the dtype of the reduction; the log-softmax itself is float32.

    Example:
    >>> loss = zoo.losses.LabelSmoothedCrossentropy(label_smoothing=0.1)
    >>> loss(target_ids, logits, sample_weight=target_padding_mask)  # ids [batch, length]
    """

    def __init__(
        self,
        label_smoothing=0.1,
        from_logits=True,
        reduction="mean_with_sample_weight",
        name="label_smoothed_crossentropy",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        checks.fraction(label_smoothing, "label_smoothing")
        self.label_smoothing = float(label_smoothing)
        self.from_logits = from_logits

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        # Loss.__call__ casts labels to the loss dtype; lookups need integers.
        label_ids = ops.cast(y_true, "int32")
        if self.from_logits:
            return cross_entropy_from_logits(label_ids, y_pred, self.label_smoothing)
        # Normalise and clip as keras.ops.categorical_crossentropy does.
        probs = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
        epsilon = keras.config.epsilon()
        log_probs = ops.log(ops.clip(probs, epsilon, 1.0 - epsilon))
        label_ids = ops.expand_dims(label_ids, -1)
        label_log_probs = ops.squeeze(ops.take_along_axis(log_probs, label_ids, axis=-1), -1)
        if not self.label_smoothing:
            return -label_log_probs
        vocabulary_size = ops.cast(ops.shape(log_probs)[-1], "float32")
        return -(1.0 - self.label_smoothing) * label_log_probs - (
            self.label_smoothing / vocabulary_size
        ) * ops.sum(log_probs, axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "label_smoothing": self.label_smoothing,
            "from_logits": self.from_logits,
            "dtype": self.dtype,
        }


def cross_entropy_from_logits(label_ids, logits, label_smoothing):
    """Per-token cross-entropy of float32 `logits` against `label_ids`, smoothed, through
    TensorFlow's fused kernels: they compute the gradient (softmax minus target) with the
    loss, in one pass over the logits, where a log-softmax, a gather and a sum take several
    there and back. The smoothed target is built whole, as one-hot rows."""
    if not label_smoothing:
        return tf.nn.sparse_softmax_cross_entropy_with_logits(label_ids, logits)
    off_value = label_smoothing / tf.cast(tf.shape(logits)[-1], logits.dtype)
    targets = tf.one_hot(
        label_ids,
        tf.shape(logits)[-1],
        on_value=1.0 - label_smoothing + off_value,
        off_value=off_value,
        dtype=logits.dtype,
    )
    return tf.nn.softmax_cross_entropy_with_logits(targets, logits)
