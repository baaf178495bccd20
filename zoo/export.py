"""SavedModel export: raw strings in, everything the model computes from them out."""

import base64
import functools
import json
import subprocess
import sys
import textwrap

import keras
import tensorflow as tf

from zoo.saving import write_atomically


def export_endpoints(model, filepath, endpoints, vectorizers=(), input_names=("inputs",)):
    """Writes `model` as a SavedModel whose signatures are the given string functions.

    Each endpoint takes one tf.string [batch] per name of `input_names` (by default one,
    `inputs`) and returns a dict of tensors. All the
    pre- and post-processing runs in the graph, so the export loads with
    `tf.saved_model.load` in a process that imports only tensorflow and tensorflow_text
    (whose ops the tokenizers use).

    Args:
        model: the Keras model whose variables the endpoints use.
        filepath: str or path, the SavedModel directory to write: whole or not at all (an
            earlier export there survives a failure; see `zoo.saving.write_atomically`).
        endpoints: dict, signature name -> callable from tf.string [batch] to a dict of
            tensors; it must include "serving_default".
        vectorizers: the `zoo.text.Vectorizer`s the endpoints call, whose tokenizer
            resources (a SentencePiece model) the SavedModel must hold.
        input_names: the names of the endpoints' tf.string [batch] inputs, in order.
    """
    archive = keras.export.ExportArchive()
    archive.track(model)
    for vectorizer in vectorizers:
        for resource in vectorizer.resources:
            archive.track(resource)
    signature = [tf.TensorSpec([None], tf.string, name=name) for name in input_names]
    for name, function in endpoints.items():
        archive.add_endpoint(name, _batch_only(function), input_signature=signature)
    write_atomically(filepath, lambda temporary: archive.write_out(str(temporary), verbose=False))


def _batch_only(function):
    """`function` behind a check that each input is a batch, [batch]: a loaded signature
    checks its inputs' dtype but not their rank, and the pipeline would read a string of
    another rank wrongly. Another rank raises InvalidArgumentError naming the input before
    any work."""

    @functools.wraps(function)
    def endpoint(*inputs):
        return function(*(tf.ensure_shape(batch, [None]) for batch in inputs))

    return endpoint


def export_text_model(model, filepath, sampler=None, max_length=None):
    """Writes `model` (a `zoo.tasks.Seq2Seq`) as a SavedModel for serving.

    Its `serving_default` signature takes `inputs`: tf.string [batch] and returns
    `outputs`: tf.string [batch] and `scores`: tf.float32 [batch], and matches
    `model.predict`. A model with attention also gets a second signature, named by its
    `attention_signature` (`translate_with_attention` for a translator), that adds
    `attention` [batch, max_length, source_length] (with a layers axis after the batch's
    for ConvS2S) and the tokens that label it (see
    `Seq2Seq.text_generator`).

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
    endpoints = {"serving_default": model.text_generator(sampler, max_length)}
    if model.has_attention:
        endpoints[model.attention_signature] = model.text_generator(
            sampler, max_length, return_attention=True
        )
    export_endpoints(model, filepath, endpoints, model.preprocessor.vectorizers)


# What a serving client runs: TensorFlow and tensorflow-text, and neither zoo nor Keras.
_SERVING_CLIENT = textwrap.dedent(
    """
    import base64, json, sys
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the tokenizer ops)

    served = tf.saved_model.load(sys.argv[1]).signatures[sys.argv[2]]
    inputs = json.loads(sys.argv[3])
    if isinstance(inputs, dict):
        inputs = [base64.b64decode(item) for item in inputs["base64"]]
    result = served(inputs=tf.constant(inputs))
    assert "zoo" not in sys.modules and "keras_hub" not in sys.modules
    def as_json(value):
        if isinstance(value, list):
            return [as_json(item) for item in value]
        if not isinstance(value, bytes):
            return value
        try:
            return value.decode()
        except UnicodeDecodeError:  # binary, e.g. an encoded image
            return {"base64": base64.b64encode(value).decode("ascii")}
    print(json.dumps({
        name: {"value": as_json(value.numpy().tolist()), "dtype": value.dtype.name}
        for name, value in result.items()
    }))
    """
)


def serve_in_fresh_process(export_dir, texts, signature="serving_default"):
    """Calls an exported signature in a process that imports only tensorflow and
    tensorflow_text; returns {output name: (nested lists of values, dtype name)}.

    `texts` is a list of str, or of bytes (e.g. encoded images), sent as base64. Outputs
    that are not UTF-8 text (e.g. encoded masks) come back as bytes."""
    if texts and isinstance(texts[0], bytes):
        texts = {"base64": [base64.b64encode(item).decode("ascii") for item in texts]}
    completed = subprocess.run(
        [sys.executable, "-c", _SERVING_CLIENT, str(export_dir), signature, json.dumps(texts)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode:
        raise RuntimeError(f"The serving process failed:\n{completed.stderr[-3000:]}")
    served = json.loads(completed.stdout.strip().splitlines()[-1])
    return {name: (_from_json(output["value"]), output["dtype"]) for name, output in served.items()}


def _from_json(value):
    if isinstance(value, list):
        return [_from_json(item) for item in value]
    if isinstance(value, dict):
        return base64.b64decode(value["base64"])
    return value
