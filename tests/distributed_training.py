"""Trains a small model of one task kind under a tf.distribute strategy and writes what it
learned.

Run by tests/test_distribute.py, each run in a fresh process: logical devices and
`TF_CONFIG` must be set before TensorFlow starts.

    python tests/distributed_training.py --task translator --strategy mirrored --output w.npz
"""

import argparse
import json

import tensorflow as tf

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
    parser.add_argument("--task", choices=sorted(TASKS), default="translator")
    parser.add_argument("--strategy", choices=("none", "mirrored", "multi-worker"))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--output", required=True, help="an .npz file of the final weights")
    return parser.parse_args()


def make_strategy(name):
    if name == "mirrored":  # two replicas on the one CPU
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
        return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    if name == "multi-worker":  # one replica per worker process, TF_CONFIG names them
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def main():
    args = parse_args()
    strategy = make_strategy(args.strategy)

    import keras
    import numpy as np

    import zoo

    @keras.saving.register_keras_serializable(package="tests")  # the saved model compiles it
    class ExamplesSeen(keras.metrics.Sum):
        """Counts the examples trained on, summed over every replica and worker."""

        def update_state(self, y_true, y_pred, sample_weight=None):
            super().update_state(tf.cast(tf.shape(y_true)[0], self.dtype))

    keras.utils.set_random_seed(0)
    with strategy.scope():
        model, data = TASKS[args.task](zoo)
        # Plain SGD: Adam's steps are about its learning rate for any gradient near zero,
        # which would turn float rounding into visible weight differences.
        optimizer = keras.optimizers.SGD(0.1)
        model.compile(optimizer, model.loss, metrics=[ExamplesSeen(name="examples_seen")])
    history = model.fit(*data, batch_size=GLOBAL_BATCH_SIZE, epochs=args.epochs, verbose=0)
    np.savez(args.output, *model.get_weights())
    summary = {"served": None}
    if args.task == "translator":  # saved and exported as usual: they answer as predict does
        inputs = list(data[0][:4])
        model.save(args.output.replace(".npz", ".keras"))
        model.export(args.output.replace(".npz", "_export"))
        reloaded = zoo.load(args.output.replace(".npz", ".keras"))
        served = tf.saved_model.load(args.output.replace(".npz", "_export"))
        answers = served.signatures["serving_default"](inputs=tf.constant(inputs))
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
    summary = {
        **summary,
        "output": args.output,
        "replicas": strategy.num_replicas_in_sync,
        "loss": history.history["loss"],
        "examples_seen": history.history["examples_seen"],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
