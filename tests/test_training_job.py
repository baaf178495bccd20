"""`zoo-train CONFIG`: the config's checks, and a run killed mid-epoch that resumes from its
backup and ends where an uninterrupted run ends."""

import json
import signal
import time

import pytest
import tensorflow as tf
import yaml

import zoo
from tests.processes import localhost_workers, output_of, start_python
from zoo.training_job import read_config

EPOCHS = 3
CONFIG = {
    "model": "lstm-small",
    "overrides": {"vocabulary_size": 300, "embedding_dim": 16, "units": 32},
    "data": {"name": "tatoeba", "max_pairs": 256},
    "epochs": EPOCHS,
    "batch_size": 16,
    "backup_every_steps": 4,
}


def write_config(directory, **changes):
    config = {
        **CONFIG,
        "backup_dir": str(directory / "backup"),
        "log_dir": str(directory / "logs"),
        "save": str(directory / "model.keras"),
        **changes,
    }
    path = directory / "config.json"
    path.write_text(json.dumps(config))
    return path


def start(config_path, tf_config=None):
    return start_python(["-m", "zoo.training_job", config_path], tf_config)


def wait_for_backup_inside_epoch(metadata_path, epoch, timeout=300):
    """Waits until a backup taken inside `epoch` (0-based) is on disk; returns its metadata."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            metadata = json.loads(metadata_path.read_text())
        except (OSError, ValueError):  # not written yet, or being written
            metadata = {}
        if metadata.get("epoch") == epoch and metadata.get("batch", 0) > 0:
            return metadata
        time.sleep(0.05)
    raise TimeoutError(f"no backup inside epoch {epoch} after {timeout}s")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    uninterrupted_dir = tmp_path_factory.mktemp("uninterrupted")
    uninterrupted = start(write_config(uninterrupted_dir))
    uninterrupted_output = output_of(uninterrupted)

    resumed_dir = tmp_path_factory.mktemp("resumed")
    config_path = write_config(resumed_dir)
    killed = start(config_path)
    backup = wait_for_backup_inside_epoch(resumed_dir / "backup" / "training_metadata.json", 1)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=60)
    resumed_output = output_of(start(config_path))
    return {
        "uninterrupted": (uninterrupted_dir, uninterrupted_output),
        "resumed": (resumed_dir, resumed_output),
        "backup": backup,
    }


def optimizer_steps(directory):
    return int(zoo.load(directory / "model.keras").optimizer.iterations)


def test_a_killed_run_resumes_from_its_backup(runs):
    _, output = runs["resumed"]
    epochs_run = [line for line in output.splitlines() if line.startswith("Epoch ")]
    # Keras resumes at the start of the epoch the last backup was taken in.
    assert epochs_run[0] == f"Epoch {runs['backup']['epoch'] + 1}/{EPOCHS}"


def test_a_resumed_run_takes_as_many_steps_as_an_uninterrupted_one(runs):
    steps = optimizer_steps(runs["uninterrupted"][0])
    assert steps > 0
    assert optimizer_steps(runs["resumed"][0]) == steps


def test_the_backup_is_deleted_when_training_ends(runs):
    assert not (runs["resumed"][0] / "backup").exists()


def test_tensorboard_logs_loss_accuracy_and_learning_rate(runs):
    directory, _ = runs["uninterrupted"]
    tags = set()
    for events in (directory / "logs" / "train").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            tags.update(value.tag for value in event.summary.value)
    assert {"epoch_loss", "epoch_token_accuracy", "epoch_learning_rate"} <= tags


def test_a_yaml_config_reads_as_its_json_twin(tmp_path):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    (tmp_path / "config.json").write_text(json.dumps(CONFIG))
    assert read_config(tmp_path / "config.yaml") == read_config(tmp_path / "config.json")


def test_every_worker_of_a_cluster_runs_the_same_command(tmp_path):
    config_path = write_config(tmp_path, strategy="multi-worker", epochs=1)
    workers = [start(config_path, tf_config) for tf_config in localhost_workers(2)]
    outputs = [output_of(worker) for worker in workers]
    # Both trained in step (the same final metrics); the chief wrote the model and the logs.
    assert outputs[0].strip().splitlines()[-1] == outputs[1].strip().splitlines()[-1]
    assert optimizer_steps(tmp_path) > 0
    assert (tmp_path / "logs").is_dir()
    # Each worker backed up in its own directory, deleted when training ended.
    assert not list((tmp_path / "backup").glob("worker-*"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model": "lstm-huge"}, "model"),
        ({"strategy": "parameter-server"}, "strategy"),
        ({"data": {"name": "wmt14"}}, "data.name"),
        ({"data": "tatoeba"}, "data"),
        ({"data": {"name": "multi30k"}}, "path"),
        ({"data": {"name": "flickr8k", "path": "flickr8k"}}, "captioners train on flickr8k"),
        ({"learning_rate": 0.1}, "learning_rate"),
        ({"minutes": 5}, "one of 'epochs' and 'minutes'"),
        ({"strategy": "multi-worker", "epochs": None}, "epochs"),
    ],
)
def test_a_bad_config_names_what_is_wrong(tmp_path, changes, message):
    config = {**CONFIG, **changes}
    if config.get("epochs") is None:
        config.pop("epochs")
        config["minutes"] = 5
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(ValueError, match=message):
        read_config(path)
