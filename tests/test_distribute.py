"""Training under tf.distribute: two replicas of one process, and two worker processes on
localhost, each learn what one process learns from the same global batches.

Every run is a fresh process (tests/distributed_training.py): logical devices and
`TF_CONFIG` must be set before TensorFlow starts.
"""

import functools
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
# tests/distributed_training.py's examples, epochs and task kinds.
EXAMPLES, EPOCHS = 96, 2
TASKS = ("translator", "transformer", "captioner", "classifier", "segmenter", "question_answerer")
# Trained with SGD, replicas that sum their gradients in another order than one process
# end at most about 1e-6 apart (the captioner; 1e-8 to 1e-7 the others). Averaging the
# replicas' own means, Keras' default, moves them by about 1e-3 where batches split
# unevenly (the translator, the classifier).
SAME_WEIGHTS = 1e-5
# The U-Net's synchronized batch normalization computes the global batch's variance from
# summed squares, another rounding than one process's: measured 4e-4 apart. Each replica
# normalizing by its own half-batch's statistics: 1.5e-2.
SAME_WEIGHTS_WITH_BATCH_NORM = 2e-3


def start_training(task, strategy, output, tf_config=None):
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    command = [sys.executable, str(SCRIPT), "--task", task, "--strategy", strategy]
    return subprocess.Popen(
        [*command, "--epochs", str(EPOCHS), "--output", str(output)],
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


def run_all(processes):
    """Runs the processes two at a time (the machine has two cores); returns their results."""
    results, names = {}, list(processes)
    for begin in range(0, len(names), 2):
        started = {name: processes[name]() for name in names[begin : begin + 2]}
        results.update({name: finished(process) for name, process in started.items()})
    return results


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("distribute")
    processes = {}
    for task in TASKS:
        for strategy in ("none", "mirrored"):
            output = directory / f"{task}_{strategy}.npz"
            processes[(task, strategy)] = functools.partial(start_training, task, strategy, output)
    results = run_all(processes)
    # The two workers must run at once; the one-worker reference, beside them.
    cluster = {"worker": [f"localhost:{free_port()}", f"localhost:{free_port()}"]}
    workers = {}
    for index in range(2):
        tf_config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        output = directory / f"worker{index}.npz"
        workers[index] = start_training("translator", "multi-worker", output, tf_config)
    # Workers of a cluster shuffle with a seed of their own: so does this one-worker run.
    one_worker = {
        "cluster": {"worker": cluster["worker"][:1]},
        "task": {"type": "worker", "index": 0},
    }
    reference = start_training("translator", "none", directory / "one_worker.npz", one_worker)
    results.update({f"worker {index}": finished(process) for index, process in workers.items()})
    results["one worker"] = finished(reference)
    return results


def assert_same_weights(actual, expected, atol=SAME_WEIGHTS):
    assert len(actual) == len(expected)
    for actual_weight, expected_weight in zip(actual, expected, strict=True):
        np.testing.assert_allclose(actual_weight, expected_weight, rtol=0, atol=atol)


@pytest.mark.parametrize("task", TASKS)
def test_two_replicas_learn_what_one_process_learns(runs, task):
    summary, weights = runs[(task, "mirrored")]
    assert summary["replicas"] == 2
    atol = SAME_WEIGHTS_WITH_BATCH_NORM if task == "segmenter" else SAME_WEIGHTS
    assert_same_weights(weights, runs[(task, "none")][1], atol)


@pytest.mark.parametrize("task", TASKS)
def test_two_replicas_see_each_example_once_per_epoch(runs, task):
    assert runs[(task, "mirrored")][0]["examples_seen"] == [EXAMPLES] * EPOCHS


def test_two_replicas_show_the_loss_one_process_shows(runs):
    # The captioner's doubly stochastic penalty, an `add_loss` term, counted once.
    expected = runs[("captioner", "none")][0]["loss"]
    np.testing.assert_allclose(runs[("captioner", "mirrored")][0]["loss"], expected, rtol=1e-2)


@pytest.mark.parametrize("run", [("translator", "mirrored"), "worker 0", "worker 1"])
def test_a_distributed_model_saves_and_exports_what_it_predicts(runs, run):
    served = runs[run][0]["served"]
    outputs, scores = served["predict"]
    for name in ("reloaded", "export"):
        assert served[name][0] == outputs
        np.testing.assert_allclose(served[name][1], scores, rtol=1e-5)


def test_two_workers_learn_what_one_process_learns(runs):
    summary, weights = runs["worker 0"]
    assert summary["replicas"] == 2
    assert_same_weights(weights, runs["one worker"][1])


def test_two_workers_end_with_identical_weights(runs):
    assert_same_weights(runs["worker 1"][1], runs["worker 0"][1], atol=0)


def test_two_workers_see_each_example_once_per_epoch(runs):
    assert runs["worker 0"][0]["examples_seen"] == [EXAMPLES] * EPOCHS


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
