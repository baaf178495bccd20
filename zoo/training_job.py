"""`zoo-train CONFIG`: one training command for one process, the cores of one machine, or
every worker of a cluster.

The config is a JSON file (or YAML, ending in .yaml or .yml, with the same keys):

    {
      "model": "transformer-small",          a `zoo.catalog` name
      "overrides": {"vocabulary_size": 4000}, its builder's options
      "data": {"name": "tatoeba"},            (+ "max_pairs": N: the first N of each split)
                                              or {"name": "multi30k", "path": ...,
                                              "source_language": "en", "target_language": "de"},
                                              or {"name": "flickr8k", "path": ...}
      "epochs": 10,                           or "minutes": 30 (one process or "mirrored")
      "batch_size": 64,                       global: split across replicas and workers
      "batch_tokens": null,                   instead of batch_size
      "dtype": "auto",
      "strategy": "none",                     "mirrored" or "multi-worker" (TF_CONFIG)
      "seed": 0,
      "backup_dir": "runs/en_fr/backup",      BackupAndRestore: a rerun resumes from it
      "backup_every_steps": 500,              and at every epoch's end
      "log_dir": "runs/en_fr/logs",           TensorBoard
      "save": "runs/en_fr/model.keras",
      "export": "saved_models/en_fr/1"
    }

Every key but "model" and "data" is optional. Under "multi-worker" every worker runs the
same command with its own `TF_CONFIG`; the first worker (the chief) writes the logs, the
`.keras` file and the export, and each worker backs up under its own `backup_dir/worker-N`.
"""

import argparse
import json
import pathlib

import keras
import tensorflow as tf
import yaml

from zoo import catalog, checks, datasets
from zoo.callbacks import BackupAndRestore, TimeLimit
from zoo.training.cluster import worker_index

STRATEGIES = ("none", "mirrored", "multi-worker")
DATASETS = ("tatoeba", "multi30k", "flickr8k")
SPLITS = ("train", "validation")
KEYS = {
    "model",
    "overrides",
    "data",
    "epochs",
    "minutes",
    "batch_size",
    "batch_tokens",
    "dtype",
    "strategy",
    "seed",
    "backup_dir",
    "backup_every_steps",
    "log_dir",
    "save",
    "export",
}


def read_config(path):
    """Reads and checks a config file (JSON, or YAML for a .yaml or .yml name); returns it as
    a dict with its defaults filled in."""
    text = pathlib.Path(path).read_text()
    if pathlib.Path(path).suffix in (".yaml", ".yml"):
        config = yaml.safe_load(text)
    else:
        config = json.loads(text)
    if not isinstance(config, dict):
        raise ValueError(f"The config must be a mapping of keys, got {type(config).__name__}.")
    unknown = sorted(set(config) - KEYS)
    if unknown:
        raise ValueError(f"Unknown config keys {unknown}; known: {sorted(KEYS)}.")
    for key in ("model", "data"):
        if key not in config:
            raise ValueError(f"The config needs {key!r}.")
    checks.one_of(config["model"], tuple(catalog.CATALOG), "model")
    if not isinstance(config["data"], dict):
        raise ValueError(
            f'\'data\' must be an object such as {{"name": "tatoeba"}}, got {config["data"]!r}.'
        )
    data = config["data"]
    checks.one_of(data.get("name"), DATASETS, "data.name")
    if data["name"] != "tatoeba" and "path" not in data:
        raise ValueError(f"'data' needs the 'path' of {data['name']}: nothing is downloaded.")
    if config["model"].startswith("captioner-") != (data["name"] == "flickr8k"):
        raise ValueError(
            f"'model' {config['model']!r} cannot train on {data['name']}: captioners train on "
            "flickr8k, translators on tatoeba or multi30k."
        )
    config = {"overrides": {}, "strategy": "none", "seed": 0, "dtype": None, **config}
    checks.one_of(config["strategy"], STRATEGIES, "strategy")
    if ("epochs" in config) == ("minutes" in config):
        raise ValueError("The config needs one of 'epochs' and 'minutes'.")
    if "minutes" in config and config["strategy"] == "multi-worker":
        # Each worker's clock would stop it at another step, and the others would wait.
        raise ValueError("'minutes' cannot end a multi-worker run: give 'epochs'.")
    return config


def make_strategy(name):
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi-worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def load_data(data):
    """The config's "data" -> `(train, validation)`, each a pair of parallel lists."""
    options = {key: value for key, value in data.items() if key not in ("name", "max_pairs")}
    if data["name"] == "flickr8k":
        splits = [datasets.load_flickr8k(options["path"], split) for split in SPLITS]
    else:
        splits = [datasets.load_translation(data["name"], split, **options) for split in SPLITS]
    limit = data.get("max_pairs")
    return tuple((inputs[:limit], outputs[:limit]) for inputs, outputs in splits)


def callbacks(config, is_chief):
    chosen = []
    if "minutes" in config:
        chosen.append(TimeLimit(60.0 * config["minutes"]))
    if config.get("backup_dir"):
        directory = pathlib.Path(config["backup_dir"])
        if config["strategy"] == "multi-worker":
            directory = directory / f"worker-{worker_index()}"
        save_freq = config.get("backup_every_steps") or "epoch"
        chosen.append(BackupAndRestore(str(directory), save_freq=save_freq))
    if config.get("log_dir") and is_chief:
        chosen.append(keras.callbacks.TensorBoard(config["log_dir"], update_freq="epoch"))
    return chosen


def train(config):
    """Builds, trains, saves and exports what `config` (as `read_config` returns it) says;
    returns the model and its Keras `History`."""
    strategy = make_strategy(config["strategy"])
    keras.utils.set_random_seed(config["seed"])
    (sources, targets), validation = load_data(config["data"])
    with strategy.scope():
        options = {**config["overrides"]}
        if config["dtype"] is not None:
            options["dtype"] = config["dtype"]
        model = catalog.build(config["model"], sources, targets, **options)
    is_chief = worker_index() == 0
    history = model.fit(
        sources,
        targets,
        batch_size=config.get("batch_size"),
        batch_tokens=config.get("batch_tokens"),
        epochs=config.get("epochs", 10_000),  # else the time limit ends training
        validation_data=validation,
        callbacks=callbacks(config, is_chief),
        verbose=2,
    )
    if is_chief and config.get("save"):
        model.save(config["save"])
    if is_chief and config.get("export"):
        model.export(config["export"])
    return model, history


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="zoo-train",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("config", help="a JSON config file, or YAML (.yaml, .yml)")
    args = parser.parse_args(argv)
    try:
        config = read_config(args.config)
    except (OSError, ValueError) as error:
        parser.error(f"{args.config}: {error}")
    _, history = train(config)
    print(json.dumps({key: values[-1] for key, values in history.history.items()}))


if __name__ == "__main__":
    main()
