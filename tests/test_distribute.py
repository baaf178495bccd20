"""Training under tf.distribute: two replicas of one process, and two worker processes on
localhost, each learn what one process learns from the same global batches.

Every run is a fresh process (tests/distributed_training.py): logical devices and
`TF_CONFIG` must be set before TensorFlow starts.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from zoo.training.batching import reshuffled

REPOSITORY = Path(__file__).resolve().parent.parent
SCRIPT = REPOSITORY / "tests" / "distributed_training.py"
# tests/distributed_training.py's corpus and epochs.
PAIRS, EPOCHS = 96, 2
# Replicas sum their gradients in another order than one process does: about 1e-7 apart
# after two epochs. Averaging the replicas' own token means instead of the global batch's
# (Keras' default) moves weights by about 3e-3.
SAME_WEIGHTS = 1e-6


def start_training(strategy, output, tf_config=None):
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    command = [sys.executable, str(SCRIPT), "--strategy", strategy, "--epochs", str(EPOCHS)]
    return subprocess.Popen(
        [*command, "--output", str(output)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finished(process):
    """The run's printed summary and its weights."""
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output[-3000:]
    summary = json.loads(output.strip().splitlines()[-1])
    weights = np.load(summary["output"])
    return summary, [weights[name] for name in weights.files]


def free_port():
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("distribute")
    cluster = {"worker": [f"localhost:{free_port()}", f"localhost:{free_port()}"]}
    # Workers of a cluster shuffle with a seed of their own: so does this one-worker run.
    one_worker = {
        "cluster": {"worker": cluster["worker"][:1]},
        "task": {"type": "worker", "index": 0},
    }
    processes = {
        "one process": start_training("none", directory / "one.npz"),
        "one worker": start_training("none", directory / "one_worker.npz", one_worker),
        "mirrored": start_training("mirrored", directory / "mirrored.npz"),
    }
    for index in range(2):
        tf_config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        processes[f"worker {index}"] = start_training(
            "multi-worker", directory / f"worker{index}.npz", tf_config
        )
    return {name: finished(process) for name, process in processes.items()}


def assert_same_weights(actual, expected, atol=SAME_WEIGHTS):
    assert len(actual) == len(expected)
    for actual_weight, expected_weight in zip(actual, expected, strict=True):
        np.testing.assert_allclose(actual_weight, expected_weight, rtol=0, atol=atol)


def test_two_replicas_learn_what_one_process_learns(runs):
    summary, weights = runs["mirrored"]
    assert summary["replicas"] == 2
    assert_same_weights(weights, runs["one process"][1])


def test_two_workers_learn_what_one_process_learns(runs):
    summary, weights = runs["worker 0"]
    assert summary["replicas"] == 2
    assert_same_weights(weights, runs["one worker"][1])


def test_two_workers_end_with_identical_weights(runs):
    assert_same_weights(runs["worker 1"][1], runs["worker 0"][1], atol=0)


def test_two_workers_see_each_pair_once_per_epoch(runs):
    assert runs["worker 0"][0]["pairs_seen"] == [PAIRS] * EPOCHS
    assert runs["mirrored"][0]["pairs_seen"] == [PAIRS] * EPOCHS


def test_workers_of_a_cluster_shuffle_alike_without_a_seed(monkeypatch):
    cluster = {"worker": ["localhost:1", "localhost:2"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster}))
    numbers = tf.data.Dataset.range(50)
    first, second = (list(reshuffled(numbers).as_numpy_iterator()) for _ in range(2))
    assert first == second != list(range(50))


def test_a_process_outside_a_cluster_shuffles_unseeded(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    numbers = tf.data.Dataset.range(50)
    orders = {tuple(reshuffled(numbers).as_numpy_iterator()) for _ in range(3)}
    assert len(orders) == 3
