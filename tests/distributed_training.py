"""Trains a small translator under a tf.distribute strategy and writes what it learned.

Run by tests/test_distribute.py, each run in a fresh process: logical devices and
`TF_CONFIG` must be set before TensorFlow starts.

    python tests/distributed_training.py --strategy mirrored --output weights.npz
"""

import argparse
import json

import tensorflow as tf

PAIRS = 96
GLOBAL_BATCH_SIZE = 16


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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

    class PairsSeen(keras.metrics.Sum):
        """Counts the pairs trained on, summed over every replica and worker."""

        def update_state(self, y_true, y_pred, sample_weight=None):
            super().update_state(tf.cast(tf.shape(y_true)[0], self.dtype))

    keras.utils.set_random_seed(0)
    sources, targets = zoo.datasets.reversal_pairs(PAIRS, seed=0)
    with strategy.scope():
        model = zoo.lstm_translator(sources, targets, units=32, embedding_dim=16)
        model.compile(metrics=[PairsSeen(name="pairs_seen")])
    history = model.fit(
        sources,
        targets,
        batch_size=GLOBAL_BATCH_SIZE,
        epochs=args.epochs,
        verbose=0,
    )
    np.savez(args.output, *model.get_weights())
    summary = {
        "output": args.output,
        "replicas": strategy.num_replicas_in_sync,
        "loss": history.history["loss"],
        "pairs_seen": history.history["pairs_seen"],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
