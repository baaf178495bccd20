"""Training under tf.distribute: two replicas of one process, and two worker processes on
localhost, each learn what one device learns from the same global batches.

Every run is a fresh process (tests/distributed_training.py): logical devices and
`TF_CONFIG` must be set before TensorFlow starts.
"""

import json

import numpy as np
import pytest
import tensorflow as tf

from tests.processes import REPOSITORY, localhost_workers, output_of, start_python
from zoo.training.batching import reshuffled

SCRIPT = REPOSITORY / "tests" / "distributed_training.py"
# tests/distributed_training.py's examples, epochs and task kinds.
EXAMPLES, EPOCHS = 96, 2
TASKS = ("translator", "transformer", "captioner", "classifier", "segmenter", "question_answerer")
# Trained with SGD, replicas that sum their gradients in another order than one device
# end at most about 1e-6 apart (the captioner; 1e-8 to 1e-7 the others). Averaging the
# replicas' own means, Keras' default, moves them by about 3e-3 where batches split
# unevenly (measured: the translator, the classifier).
SAME_WEIGHTS = 1e-5
# The U-Net's synchronized batch normalization computes the global batch's variance from
# summed squares, another rounding than one process's: measured 4e-4 apart. Each replica
# normalizing by its own half-batch's statistics: 1.5e-2.
SAME_WEIGHTS_WITH_BATCH_NORM = 2e-3


def start_training(strategy, directory, tf_config=None):
    arguments = [SCRIPT, "--strategy", strategy, "--epochs", EPOCHS, "--output", directory]
    return start_python(arguments, tf_config)


def finished(process):
    """The runs' printed summaries, each with its weights (a list of arrays)."""
    summaries = json.loads(output_of(process).strip().splitlines()[-1])
    for summary in summaries.values():
        weights = np.load(summary["weights"])
        summary["weights"] = [weights[name] for name in weights.files]
    return summaries


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every task on one device and on two replicas (one process); then a translator on two
    workers and, as the reference, on one worker of its own cluster."""
    results = finished(start_training("mirrored", tmp_path_factory.mktemp("mirrored")))
    tf_configs = localhost_workers(2)
    workers = [
        start_training("multi-worker", tmp_path_factory.mktemp(f"worker{index}"), tf_config)
        for index, tf_config in enumerate(tf_configs)
    ]
    for index, worker in enumerate(workers):
        results[f"worker {index}"] = finished(worker)["translator multi-worker"]
    # Workers of a cluster shuffle with a seed of their own: so does this one-worker run.
    cluster = tf_configs[0]["cluster"]
    one_worker = {**tf_configs[0], "cluster": {"worker": cluster["worker"][:1]}}
    reference = start_training("none", tmp_path_factory.mktemp("one_worker"), one_worker)
    results["one worker"] = finished(reference)["translator none"]
    return results


def assert_same_weights(actual, expected, atol=SAME_WEIGHTS):
    assert len(actual) == len(expected)
    for actual_weight, expected_weight in zip(actual, expected, strict=True):
        np.testing.assert_allclose(actual_weight, expected_weight, rtol=0, atol=atol)


@pytest.mark.parametrize("task", TASKS)
def test_two_replicas_learn_what_one_device_learns(runs, task):
    run = runs[f"{task} mirrored"]
    assert run["replicas"] == 2
    atol = SAME_WEIGHTS_WITH_BATCH_NORM if task == "segmenter" else SAME_WEIGHTS
    assert_same_weights(run["weights"], runs[f"{task} none"]["weights"], atol)


@pytest.mark.parametrize("task", TASKS)
def test_two_replicas_see_each_example_once_per_epoch(runs, task):
    assert runs[f"{task} mirrored"]["examples_seen"] == [EXAMPLES] * EPOCHS


def test_fused_adam_updates_replicas_as_keras_adam_does(runs):
    # Measured 5.5e-5 apart: Adam's steps are about its learning rate (1e-2) wherever a
    # gradient is near zero, so the kernel's float32 1 - beta_2 shows. A replica whose copy
    # the kernel did not update would be off by such steps.
    zoo_adam, keras_adam = (
        runs["transformer mirrored zoo_adam"],
        runs["transformer mirrored keras_adam"],
    )
    assert_same_weights(zoo_adam["weights"], keras_adam["weights"], atol=1e-3)


def test_two_replicas_show_the_loss_one_device_shows(runs):
    # The captioner's doubly stochastic penalty, an `add_loss` term, counted once.
    expected = runs["captioner none"]["loss"]
    np.testing.assert_allclose(runs["captioner mirrored"]["loss"], expected, rtol=1e-2)


@pytest.mark.parametrize("run", ["translator mirrored", "worker 0", "worker 1"])
def test_a_distributed_model_saves_and_exports_what_it_predicts(runs, run):
    served = runs[run]["served"]
    outputs, scores = served["predict"]
    for name in ("reloaded", "export"):
        assert served[name][0] == outputs
        np.testing.assert_allclose(served[name][1], scores, rtol=1e-5)


def test_two_workers_learn_what_one_worker_learns(runs):
    assert runs["worker 0"]["replicas"] == 2
    assert_same_weights(runs["worker 0"]["weights"], runs["one worker"]["weights"])


def test_two_workers_end_with_identical_weights(runs):
    assert_same_weights(runs["worker 1"]["weights"], runs["worker 0"]["weights"], atol=0)


def test_two_workers_see_each_example_once_per_epoch(runs):
    assert runs["worker 0"]["examples_seen"] == [EXAMPLES] * EPOCHS


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
