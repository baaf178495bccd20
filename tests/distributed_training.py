"""Trains small models of every task kind with and without a tf.distribute strategy and
writes what they learned.

Run by tests/test_distribute.py, in fresh processes: logical devices and `TF_CONFIG` must
be set before TensorFlow runs anything (importing it runs nothing).

    python tests/distributed_training.py --strategy mirrored --output DIRECTORY
"""

import argparse
import functools
import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

import zoo

EXAMPLES = 96
GLOBAL_BATCH_SIZE = 16


def translator(zoo):
    sources, targets = zoo.datasets.reversal_pairs(EXAMPLES, seed=0)
    return zoo.lstm_translator(sources, targets, units=32, embedding_dim=16), (sources, targets)


def transformer(zoo):
    sources, targets = zoo.datasets.reversal_pairs(EXAMPLES, seed=0)
    model = zoo.transformer(
        sources,
        targets,
        tokenizer_level="word",
        num_layers=1,
        hidden_dim=16,
        num_heads=2,
        intermediate_dim=32,
        dropout=0.0,
    )
    return model, (sources, targets)


def captioner(zoo):
    images, captions = zoo.datasets.shapes_captions(EXAMPLES, seed=0, image_size=32)
    model = zoo.image_captioner(
        images, captions, image_size=32, encoder_filters=(8, 16), embedding_dim=16, units=32
    )
    return model, (images, captions)


def classifier(zoo):
    documents, labels = zoo.datasets.keyword_documents(EXAMPLES, seed=0)
    model = zoo.hierarchical_attention_classifier(documents, labels, embedding_dim=16, units=8)
    return model, (documents, labels)


def segmenter(zoo):
    images, masks = zoo.datasets.shapes_segmentation(EXAMPLES, seed=0, image_size=32)
    return zoo.unet(images, masks, depth=2, filters=8), (images, masks)


def question_answerer(zoo):
    stories, questions, answers = zoo.datasets.babi_tasks(1, EXAMPLES, seed=0)
    return zoo.memory_network(stories, questions, answers), (stories, questions, answers)


TASKS = {
    build.__name__: build
    for build in (translator, transformer, captioner, classifier, segmenter, question_answerer)
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--strategy",
        choices=("mirrored", "multi-worker", "none"),
        help="mirrored: every task, on one device and then on two replicas of this process; "
        "multi-worker: the translator on the workers TF_CONFIG names; none: the translator",
    )
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--output", required=True, help="a directory for the weights")
    return parser.parse_args()


def main():
    args = parse_args()
    runs = [("translator", args.strategy, "sgd")]
    if args.strategy == "mirrored":  # two replicas on the one CPU; one device is /cpu:0
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
        runs = [(task, strategy, "sgd") for task in TASKS for strategy in ("none", "mirrored")]
        runs += [("transformer", "mirrored", adam) for adam in ("zoo_adam", "keras_adam")]
    summaries = {run_name(*run): train(*run, args) for run in runs}
    print(json.dumps(summaries))


def run_name(task, strategy_name, optimizer_name):
    """A run's key: its task and strategy, and its optimizer unless that is SGD."""
    parts = [task, strategy_name] + ([optimizer_name] if optimizer_name != "sgd" else [])
    return " ".join(parts)


OPTIMIZERS = {
    # Plain SGD: Adam's steps are about its learning rate for any gradient near zero,
    # which would turn float rounding into visible weight differences.
    "sgd": lambda: keras.optimizers.SGD(0.1),
    # zoo's fused Adam updates replicas' variables as Keras' own does.
    "zoo_adam": lambda: zoo.optimizers.Adam(1e-2),
    "keras_adam": lambda: keras.optimizers.Adam(1e-2),
}


def train(task, strategy_name, optimizer_name, args):
    """Trains `task` under the strategy; writes its weights, returns its summary."""
    strategy = STRATEGIES[strategy_name]()
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model, data = TASKS[task](zoo)
        model.compile(
            OPTIMIZERS[optimizer_name](),
            model.loss,
            metrics=[ExamplesSeen(name="examples_seen")],
        )
    history = model.fit(*data, batch_size=GLOBAL_BATCH_SIZE, epochs=args.epochs, verbose=0)
    output = Path(args.output) / f"{task}_{strategy_name}_{optimizer_name}"
    np.savez(f"{output}.npz", *model.get_weights())
    summary = {
        "weights": f"{output}.npz",
        "replicas": strategy.num_replicas_in_sync,
        "loss": history.history["loss"],
        "examples_seen": history.history["examples_seen"],
    }
    if task == "translator":  # saved and exported as usual: they answer as predict does
        inputs = list(data[0][:4])
        model.save(f"{output}.keras")
        model.export(f"{output}_export")
        reloaded = zoo.load(f"{output}.keras")
        answers = tf.saved_model.load(f"{output}_export").signatures["serving_default"](
            inputs=tf.constant(inputs)
        )
        # With the scores (log-probabilities), which the weights decide even where the
        # words are still empty.
        summary["served"] = {
            name: [outputs, np.asarray(scores).tolist()]
            for name, (outputs, scores) in {
                "predict": model.predict(inputs, return_scores=True),
                "reloaded": reloaded.predict(inputs, return_scores=True),
                "export": (
                    [text.decode() for text in answers["outputs"].numpy()],
                    answers["scores"].numpy(),
                ),
            }.items()
        }
    return summary


@functools.cache  # one of each per process: a second MirroredStrategy's collectives clash
def mirrored():
    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])


STRATEGIES = {
    "mirrored": mirrored,
    "multi-worker": functools.cache(tf.distribute.MultiWorkerMirroredStrategy),
    "none": tf.distribute.get_strategy,
}


@keras.saving.register_keras_serializable(package="tests")  # the saved model compiles it
class ExamplesSeen(keras.metrics.Sum):
    """Counts the examples trained on, summed over every replica and worker."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(tf.cast(tf.shape(y_true)[0], self.dtype))


if __name__ == "__main__":
    main()
