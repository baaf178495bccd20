"""Two parts of a training step, zoo's fused TensorFlow kernels against Keras' ops, in one run.

- Adam's update: `zoo.optimizers.Adam` (`ResourceApplyAdam`, one kernel per variable)
  against `keras.optimizers.Adam` (a chain of elementwise operations), applying random
  gradients to the trainable weights of a catalog model (transformer-small by default: 9.6
  million weights, its vocabularies learned from Multi30k) inside one `tf.function`.
- The label-smoothed cross-entropy and its gradient on logits of 64 x 18 tokens (a
  Multi30k batch's) over the model's target vocabulary: `zoo.losses.LabelSmoothedCrossentropy`
  (TensorFlow's fused softmax cross-entropy) against `keras.losses.CategoricalCrossentropy`
  on one-hot labels and against the same loss spelled in separate ops (log-softmax, a gather
  of the labels' log-probabilities, a sum), as zoo computed it before.

Each pair takes turns, so the drift of a shared machine falls on both alike.

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/fused_kernels.py [--model lstm-small]

The last line printed is one JSON object with every figure.
"""

import argparse

import keras
import numpy as np
import tensorflow as tf
from common import add_record_option, interleaved_median_seconds, machine_conditions, print_json

import zoo

BATCH, LENGTH, LABEL_SMOOTHING = 64, 18, 0.1


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", default="transformer-small", help="catalog name")
    parser.add_argument("--data", default="../shared/data/multi30k", help="Multi30k directory")
    parser.add_argument("--repeats", type=int, default=30)
    add_record_option(parser)
    return parser.parse_args()


def adam_update(optimizer, variables):
    """A function applying one fixed set of random gradients to `variables`."""
    optimizer.build(variables)
    rng = np.random.default_rng(0)
    gradients = [tf.constant(rng.normal(size=v.shape).astype("float32")) for v in variables]

    @tf.function
    def update():
        optimizer.apply(gradients, variables)

    return update


def loss_and_gradient(loss, labels, logits):
    """A function computing `loss(labels, logits)` and its gradient."""

    @tf.function
    def compute():
        with tf.GradientTape() as tape:
            tape.watch(logits)
            value = loss(labels, logits)
        return tape.gradient(value, logits)

    return compute


def log_softmax_crossentropy(labels, logits):
    """The label-smoothed cross-entropy in separate ops, mean over tokens."""
    log_probabilities = tf.nn.log_softmax(logits)
    label_term = tf.gather(log_probabilities, labels, batch_dims=2)
    vocabulary_size = logits.shape[-1]
    per_token = -(1 - LABEL_SMOOTHING) * label_term - LABEL_SMOOTHING / vocabulary_size * (
        tf.reduce_sum(log_probabilities, axis=-1)
    )
    return tf.reduce_mean(per_token)


def timed(functions, repeats):
    """Median milliseconds of each function, and the last one's speedup over each other."""
    for function in functions.values():
        function()  # traces
    seconds = interleaved_median_seconds(functions, repeats)
    milliseconds = {name: round(1000 * value, 1) for name, value in seconds.items()}
    *references, zoo_name = functions
    speedups = {name: round(seconds[name] / seconds[zoo_name], 2) for name in references}
    return {"ms": milliseconds, "speedup": speedups}


def main():
    args = parse_args()
    conditions = machine_conditions()
    sources, targets = zoo.datasets.load_translation("multi30k", "train", path=args.data)
    model = zoo.build(args.model, sources, targets)
    variables = model.trainable_variables
    weights = sum(int(np.prod(v.shape)) for v in variables)
    # A learning rate of zero keeps the weights where they are, for both alike.
    adam = timed(
        {
            "keras_adam": adam_update(keras.optimizers.Adam(0.0), variables),
            "zoo_adam": adam_update(zoo.optimizers.Adam(0.0), variables),
        },
        args.repeats,
    )
    vocabulary_size = model.target_vectorizer.vocabulary_size
    rng = np.random.default_rng(0)
    logits = tf.constant(rng.normal(size=(BATCH, LENGTH, vocabulary_size)).astype("float32"))
    label_ids = rng.integers(0, vocabulary_size, size=(BATCH, LENGTH))
    one_hot = tf.one_hot(label_ids, vocabulary_size)
    options = {"label_smoothing": LABEL_SMOOTHING, "from_logits": True}
    loss = timed(
        {
            "keras_categorical_crossentropy": loss_and_gradient(
                keras.losses.CategoricalCrossentropy(**options), one_hot, logits
            ),
            "log_softmax_crossentropy": loss_and_gradient(
                log_softmax_crossentropy, tf.constant(label_ids), logits
            ),
            "zoo_label_smoothed_crossentropy": loss_and_gradient(
                zoo.losses.LabelSmoothedCrossentropy(**options), tf.constant(label_ids), logits
            ),
        },
        args.repeats,
    )
    figures = {
        "benchmark": "fused_kernels",
        "model": args.model,
        "weights": weights,
        "variables": len(variables),
        "adam_update": adam,
        "loss_and_gradient": {"logits_shape": [BATCH, LENGTH, vocabulary_size], **loss},
        "conditions": conditions,
    }
    loss_ms = loss["ms"]
    print(
        f"{args.model} ({weights:,} weights in {len(variables)} variables), Adam's update: "
        f"Keras {adam['ms']['keras_adam']} ms, zoo {adam['ms']['zoo_adam']} ms; "
        f"label-smoothed cross-entropy and gradient on {BATCH} x {LENGTH} x "
        f"{vocabulary_size} logits: Keras {loss_ms['keras_categorical_crossentropy']} ms, "
        f"separate ops {loss_ms['log_softmax_crossentropy']} ms, "
        f"zoo {loss_ms['zoo_label_smoothed_crossentropy']} ms",
        flush=True,
    )
    print_json(figures, record=args.record)


if __name__ == "__main__":
    main()
