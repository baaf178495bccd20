"""Training callbacks."""

import json
import os
import time

import keras

from zoo import checks
from zoo.tasks.seq2seq import Seq2Seq


class TimeLimit(keras.callbacks.Callback):
    """Stops training once `seconds` of training have passed (checked after each batch and
    each epoch, so time spent validating counts too).

    Example:
    >>> model.fit(sources, targets, epochs=100, callbacks=[zoo.callbacks.TimeLimit(600)])
    """

    def __init__(self, seconds):
        super().__init__()
        checks.positive_number(seconds, "seconds")
        self.seconds = seconds

    def on_train_begin(self, logs=None):
        self.deadline = time.monotonic() + self.seconds

    def on_train_batch_end(self, batch, logs=None):
        self._stop_if_out_of_time()

    def on_epoch_end(self, epoch, logs=None):
        self._stop_if_out_of_time()

    def _stop_if_out_of_time(self):
        if time.monotonic() >= self.deadline:
            self.model.stop_training = True


class GenerationMetrics(keras.callbacks.Callback):
    """Decodes validation inputs at the end of every epoch and adds the task's metrics of
    the outputs (`evaluate`'s: BLEU for a translator, BLEU-1 to 4 for a captioner) to the
    epoch's logs as `val_bleu`, ... where `keras.callbacks.EarlyStopping`,
    `ModelCheckpoint` and the history see them.

    Keras' validation scores teacher-forced tokens only, not the decoded outputs a user
    keeps a model for. List it before the callbacks that read its metrics.

    Args:
        x: the validation inputs, as `model.predict` takes them (source texts, images).
        y: their references, as `model.evaluate` takes them.
        sampler: the decoding strategy; defaults to the compiled one.
        batch_size: int, the decoding batch size.

    Example:
    >>> model.fit(sources, targets, epochs=30, callbacks=[
    ...     zoo.callbacks.GenerationMetrics(validation_sources, validation_targets),
    ...     keras.callbacks.EarlyStopping("val_bleu", mode="max", patience=3,
    ...                                   restore_best_weights=True)])
    """

    def __init__(self, x, y, sampler=None, batch_size=64):
        super().__init__()
        if len(x) != len(y):
            raise ValueError(
                f"`x` and `y` must be parallel: got {len(x)} inputs and {len(y)} references."
            )
        checks.positive_int(batch_size, "batch_size")
        self.x, self.y, self.sampler, self.batch_size = x, y, sampler, batch_size

    def set_model(self, model):
        if not isinstance(model, Seq2Seq):
            raise TypeError(
                "GenerationMetrics decodes with a zoo.Seq2Seq (translators, captioners, T5, "
                f"BART): got a {type(model).__name__}."
            )
        super().set_model(model)

    def on_epoch_end(self, epoch, logs=None):
        outputs = self.model.predict(self.x, sampler=self.sampler, batch_size=self.batch_size)
        metrics = self.model.preprocessor.generation_metrics(outputs, self.y)
        if logs is not None:
            logs.update({f"val_{name}": value for name, value in metrics.items()})


class BackupAndRestore(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` that ends a resumed run at the step an
    uninterrupted one would have ended at.

    A run killed after a mid-epoch backup (`save_freq` in steps) resumes, as Keras does,
    from the backed-up weights and optimizer state at the start of the interrupted epoch,
    whose batches it draws again; Keras would then train that epoch's backed-up steps twice.
    This stops training once the optimizer has taken as many steps in the run as
    `epochs` x steps per epoch, however many times the run was resumed. Takes Keras'
    arguments; `double_checkpoint` defaults to True, so that a process killed while writing
    a backup resumes from the one before.

    Example:
    >>> model.fit(sources, targets, epochs=20,
    ...           callbacks=[zoo.callbacks.BackupAndRestore("runs/backup", save_freq=500)])
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=True, **kwargs):
        super().__init__(backup_dir, save_freq, double_checkpoint, **kwargs)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        # Beside Keras' backup, and deleted with it when training ends.
        target_path = os.path.join(self.backup_dir, "target_step.json")
        self.target_step = None
        if os.path.exists(target_path):  # resumed: the first run set the target
            with open(target_path) as file:
                self.target_step = json.load(file)["target_step"]
        elif self.params.get("steps"):
            steps = self.params["epochs"] * self.params["steps"]
            self.target_step = self._steps_taken() + steps
            os.makedirs(self.backup_dir, exist_ok=True)
            with open(target_path, "w") as file:
                json.dump({"target_step": self.target_step}, file)

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)
        if self.target_step is not None and self._steps_taken() >= self.target_step:
            self.model.stop_training = True

    def _steps_taken(self):
        # A mirrored variable under tf.distribute, which int() does not take.
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
