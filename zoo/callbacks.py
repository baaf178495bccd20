"""Training callbacks."""

import json
import os
import time

import keras

from zoo import checks


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
