"""Training callbacks."""

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
