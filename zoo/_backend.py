"""Pins Keras to the TensorFlow backend before Keras is imported anywhere in zoo."""

import os
import sys


def use_tensorflow_backend():
    """Selects Keras' TensorFlow backend, or explains why it cannot.

    zoo's tokenizers, decoding loops and exports are TensorFlow graphs, so Keras
    must run on TensorFlow. Once Keras is imported its backend is fixed, hence
    the check rather than a silent switch.
    """
    if "keras" in sys.modules:
        import keras

        backend = keras.backend.backend()
        if backend != "tensorflow":
            raise ImportError(
                f"zoo needs Keras' TensorFlow backend, but Keras was already imported with "
                f"backend {backend!r}. Import zoo before keras, or set KERAS_BACKEND=tensorflow."
            )
    os.environ["KERAS_BACKEND"] = "tensorflow"
