"""SavedModel export: raw text in, text out, with the whole decoding loop in the graph."""

import keras
import tensorflow as tf


def export_text_model(model, filepath, sampler=None, max_length=None):
    """Writes `model` (a `zoo.tasks.Seq2Seq`) as a SavedModel for serving.

    Its `serving_default` signature takes `inputs`: tf.string [batch] and returns
    `outputs`: tf.string [batch] and `scores`: tf.float32 [batch]. Tokenization,
    decoding and detokenization all run in the graph, so the export loads with
    `tf.saved_model.load` in a process that imports only tensorflow and
    tensorflow_text (whose ops the tokenizer uses), and matches `model.predict`.

    Args:
        model: the `Seq2Seq` model to export.
        filepath: str or path, the SavedModel directory to write.
        sampler: decoding strategy baked into the export; defaults to the model's.
        max_length: int, most tokens to generate; defaults as in `predict`.

    Example:
    >>> model.export("saved_models/en_fr/1")
    >>> import tensorflow as tf, tensorflow_text  # noqa: F401 (registers the ops)
    >>> served = tf.saved_model.load("saved_models/en_fr/1")
    >>> served.signatures["serving_default"](inputs=tf.constant(["the dog runs."]))
    """
    generate_text = model.text_generator(sampler, max_length)
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serving_default",
        generate_text,
        input_signature=[tf.TensorSpec([None], tf.string, name="inputs")],
    )
    archive.write_out(str(filepath), verbose=False)
