"""Task: what every zoo model shares, whatever it reads and writes."""

import functools

import keras
import tensorflow as tf

from zoo import checks, optimizers
from zoo.losses import SparseCategoricalCrossentropy
from zoo.saving import save_atomically
from zoo.tasks.distributed_training import DistributedTraining


class Task(DistributedTraining, keras.Model):
    """The base of zoo's models, as keras-hub's `Task` is of its: a functional model over a
    backbone, holding the objects that turn raw inputs into the backbone's inputs and its
    outputs back (vectorizers, an image preprocessor), with the plumbing that the verbs of
    every task share, and what Keras needs under tf.distribute (`DistributedTraining`).

    A subclass lists those objects in `components` (constructor arguments that are Keras
    objects, serialized by `get_config`), builds its batches from raw inputs, and
    decorates its `evaluate` with `evaluates_raw_inputs`.

    Args:
        backbone: a functional `keras.Model`, the task's layers from inputs to logits.
    """

    # The constructor arguments that are Keras objects, serialized in `get_config`.
    components = ("backbone",)
    # The name of the "auto" metric of `compile`.
    accuracy_name = "accuracy"

    def __init__(self, backbone, **kwargs):
        inputs = backbone.input
        outputs = backbone(inputs)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.backbone = backbone
        # As keras-hub's Task: `compile` then scales the loss under mixed_float16.
        self.dtype_policy = backbone.dtype_policy

    # === Training ===
    def compile(self, optimizer="auto", loss="auto", *, metrics="auto", **kwargs):
        """`keras.Model.compile` with defaults for tasks that pick one class per output:
        `optimizer="auto"` is Adam (`zoo.optimizers.Adam`, learning rate 1e-3, gradient norm
        clipped to 1),
        `loss="auto"` sparse categorical cross-entropy from logits (averaged over the global
        batch under tf.distribute: `zoo.losses.SparseCategoricalCrossentropy`),
        `metrics="auto"` the accuracy, named by the class attribute `accuracy_name`."""
        if optimizer == "auto":
            optimizer = optimizers.Adam(learning_rate=1e-3, clipnorm=1.0)
        if loss == "auto":
            loss = SparseCategoricalCrossentropy(from_logits=True)
        if metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy(name=self.accuracy_name)]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def fit_batches(self, dataset, **kwargs):
        """`keras.Model.fit` on a `tf.data.Dataset` of ready `(x, y[, sample_weight])`
        batches, shuffled as it should be (Keras cannot shuffle a dataset itself)."""
        steps = int(dataset.cardinality())
        if steps > 0 and "steps_per_epoch" not in kwargs:
            # One iterator for every epoch: Keras makes a new one per epoch otherwise, and
            # each costs time before any training.
            dataset, kwargs["steps_per_epoch"] = dataset.repeat(), steps
        return super().fit(dataset, shuffle=False, **kwargs)

    # === Evaluation ===
    def evaluate_batches(self, dataset, **kwargs):
        """`keras.Model.evaluate` on a dataset of ready batches: a dict of the compiled
        loss and metrics."""
        kwargs.pop("return_dict", None)
        return super().evaluate(dataset, return_dict=True, **kwargs)

    # === Inference ===
    @staticmethod
    def batches_through(function, inputs, batch_size, pad_to_batch_size=False):
        """Yields `function`'s outputs (dicts of tensors) on `inputs` (a tensor, or a tuple of
        tensors of one length, passed as separate arguments), `batch_size` rows at a time,
        as dicts of NumPy arrays.

        With `pad_to_batch_size`, a short last batch of several is padded to full size
        (with copies of its first row, cut from the outputs again): XLA compiles the
        function once per batch shape.
        """
        checks.positive_int(batch_size, "batch_size")
        inputs = inputs if isinstance(inputs, tuple) else (inputs,)
        count = int(tf.shape(inputs[0])[0])
        for begin in range(0, count, batch_size):
            batch = [tensor[begin : begin + batch_size] for tensor in inputs]
            size = int(tf.shape(batch[0])[0])
            if pad_to_batch_size and count > batch_size:
                batch = [
                    tf.concat([part, tf.repeat(part[:1], batch_size - size, axis=0)], 0)
                    for part in batch
                ]
            yield {name: value.numpy()[:size] for name, value in function(*batch).items()}

    # === Saving ===
    def save(self, filepath, overwrite=True, **kwargs):
        """`keras.Model.save`, written to a temporary file beside `filepath` and renamed when
        complete (`zoo.saving.write_atomically`): a failure leaves an earlier file whole.
        `overwrite=False` on an existing file raises FileExistsError."""
        save_atomically(super().save, filepath, overwrite, **kwargs)

    def save_to_preset(self, path, card=None, weights_dtype="float32", metadata=None):
        """Writes a preset directory that `zoo.from_preset(path)` loads; see
        `zoo.preset.save_to_preset`."""
        from zoo.preset import save_to_preset

        save_to_preset(self, path, card=card, weights_dtype=weights_dtype, metadata=metadata)

    def get_config(self):
        components = {
            key: keras.saving.serialize_keras_object(getattr(self, key)) for key in self.components
        }
        return {**components, "name": self.name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in cls.components:
            if config.get(key) is not None:
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def evaluates_raw_inputs(evaluate):
    """Decorates a task's `evaluate`, which takes raw inputs (texts, images), so that the
    validation pass of Keras' `fit`, which calls `evaluate` on its prepared batches, goes to
    `keras.Model.evaluate` instead."""

    @functools.wraps(evaluate)
    def evaluate_raw_inputs_or_validation_batches(self, *args, **kwargs):
        if kwargs.pop("_use_cached_eval_dataset", False):
            return keras.Model.evaluate(self, *args, _use_cached_eval_dataset=True, **kwargs)
        return evaluate(self, *args, **kwargs)

    return evaluate_raw_inputs_or_validation_batches


def requested(outputs, **extras):
    """What `predict` returns: `outputs`, or the tuple of `outputs` and the extras asked for,
    in keyword order; each extra is `(asked, value)`."""
    asked = [value for wanted, value in extras.values() if wanted]
    return (outputs, *asked) if asked else outputs
