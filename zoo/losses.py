"""Token cross-entropy on sparse labels, label-smoothed, averaged over the real tokens of
the global batch.

Keras' SparseCategoricalCrossentropy has no `label_smoothing`, and the dense
CategoricalCrossentropy needs one-hot labels the size of the whole vocabulary. Under a
tf.distribute strategy, Keras averages the replicas' own means, which weighs a token of a
replica holding few real tokens more than one of a replica holding many.
"""

import keras
import tensorflow as tf
from keras import ops

from zoo import checks


@keras.saving.register_keras_serializable(package="zoo")
class LabelSmoothedCrossentropy(keras.losses.Loss):
    """Per-token cross-entropy against label-smoothed targets, from integer labels: the
    loss of every `zoo.Seq2Seq` compiled with `loss="auto"`.

    The target puts `1 - label_smoothing + label_smoothing / vocabulary_size` on the label
    and `label_smoothing / vocabulary_size` on every other token, as
    `keras.losses.CategoricalCrossentropy(label_smoothing=...)` does on one-hot labels.
    The loss is computed as `-(1 - eps) * log p[label] - eps / V * sum(log p)`, so the
    one-hot labels are never built.

    Args:
        label_smoothing: float in [0, 1), the probability mass spread uniformly over the
            vocabulary. 0 gives plain sparse cross-entropy.
        from_logits: bool, whether `y_pred` holds logits (True) or probabilities.
        reduction: str or None, a `keras.losses.Loss` reduction. The default divides by
            the summed sample weights, so padding weighted out does not dilute the mean;
            under a tf.distribute strategy, by those of the whole global batch (all
            replicas), so the mean is the one a single replica would compute.
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

    def __call__(self, y_true, y_pred, sample_weight=None):
        replica = tf.distribute.get_replica_context()
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        if (
            self.reduction != "mean_with_sample_weight"
            or sample_weight is None
            or replica is None
            or replicas == 1
        ):
            return super().__call__(y_true, y_pred, sample_weight)
        weights = ops.cast(sample_weight, "float32")
        replica_sum = ops.sum(self.call(y_true, y_pred) * weights)
        global_weight = replica.all_reduce(tf.distribute.ReduceOp.SUM, ops.sum(weights))
        # Keras sums the replicas' gradients: the replicas' shares add up to the global mean.
        return ops.cast(ops.divide_no_nan(replica_sum, global_weight), self.dtype)

    def call(self, y_true, y_pred):
        y_pred = ops.cast(y_pred, "float32")
        if self.from_logits:
            log_probs = ops.log_softmax(y_pred, axis=-1)
        else:
            # Normalise and clip as keras.ops.categorical_crossentropy does.
            probs = y_pred / ops.sum(y_pred, axis=-1, keepdims=True)
            epsilon = keras.config.epsilon()
            log_probs = ops.log(ops.clip(probs, epsilon, 1.0 - epsilon))
        # Loss.__call__ casts labels to the loss dtype; the gather needs integers.
        label_ids = ops.expand_dims(ops.cast(y_true, "int32"), -1)
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
