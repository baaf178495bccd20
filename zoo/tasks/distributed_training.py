"""What a zoo task needs from Keras' training loop under a tf.distribute strategy (Keras 3.15)."""

import tensorflow as tf


class DistributedTraining:
    """A mixin of `keras.Model` (listed before it) that mends three things of Keras'
    TensorFlow trainer under a tf.distribute strategy: building, multi-worker step logs and
    `add_loss` terms. Without a strategy, each is Keras' own behaviour."""

    @property
    def losses(self):
        """The `add_loss` terms (and weight regularizers) of this replica's call.

        Under a MirroredStrategy, the replicas run the model in threads that share the
        layers' loss lists, and each replica would sum the terms of all of them into its
        loss (doubling what `fit` shows, not the gradients: each replica's tape sees its own
        ops only). Each replica keeps the terms made on its own device.
        """
        losses = super().losses
        if tf.distribute.get_replica_context() is None or not tf.inside_function():
            return losses
        if tf.distribute.get_strategy().num_replicas_in_sync == 1:
            return losses
        device = tf.constant(0.0).device
        return [loss for loss in losses if loss.device == device]

    def train_step(self, data):
        return _with_worker_axis(super().train_step(data))

    def test_step(self, data):
        return _with_worker_axis(super().test_step(data))

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Under a tf.distribute strategy, Keras builds the compiled loss and metrics from the
        # first batch averaged over the replicas, which fails on zoo's batches: bool padding
        # masks cannot be summed, and replicas' batches may differ in size. Their spec (shapes
        # and dtypes) is all that building needs.
        if iterator is not None and data_batch is None:
            dataset = iterator.data_adapter.get_tf_dataset()
            if isinstance(dataset, tf.data.Dataset):
                iterator, data_batch = None, dataset.element_spec
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)


def _with_worker_axis(logs):
    """A step's logs, each given a leading axis of one under a multi-worker strategy:
    Keras (3.15) averages them across workers over axis 0, which scalars lack
    (tensorflow/tensorflow#72388)."""
    strategy = tf.distribute.get_strategy()
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return logs
    cluster = strategy.cluster_resolver.cluster_spec()
    if sum(cluster.num_tasks(job) for job in cluster.jobs) < 2:
        return logs
    return {name: tf.reshape(value, [1]) for name, value in logs.items()}
