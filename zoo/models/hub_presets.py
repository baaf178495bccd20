"""What loading a keras-hub preset directory into a zoo model takes, whatever the family:
checking the directory, finding weights by attribute path, and copying them across."""

import json
import os

import keras


def check_preset_directory(path, configs, files):
    """The absolute path of a keras-hub preset directory, or a clear error.

    Absolute, because keras-hub reads a bare name such as "bart_base_en" as a built-in
    preset to download.

    Args:
        path: str or path-like.
        configs: dict, config file -> the class it must name ("keras_hub>BartBackbone").
        files: the files the directory must hold, configs included.
    """
    path = os.path.abspath(os.fspath(path))
    family = next(iter(configs.values())).split(">")[-1].removesuffix("Backbone")
    what = f"keras-hub {family} preset"
    if not os.path.exists(path):
        raise FileNotFoundError(f"No {what} at {path!r}: the path does not exist.")
    if not os.path.isdir(path):
        raise ValueError(f"{path!r} is not a {what} directory: it is a file.")
    missing = [name for name in files if not os.path.isfile(os.path.join(path, name))]
    if missing:
        raise ValueError(
            f"{path!r} is not a {what} (as `save_to_preset` writes one for a backbone and "
            f"its tokenizer): it lacks {missing}; it holds {sorted(os.listdir(path))}."
        )
    for name, expected in configs.items():
        found = registered_name(os.path.join(path, name))
        if found != expected:
            raise ValueError(
                f"{path!r} is not a {what}: its {name} describes {found!r}, not {expected!r}."
            )
    return path


def registered_name(config_path):
    """The class a keras-hub config file names ("keras_hub>T5Backbone"), or None (no such
    file, or one that names none)."""
    if not os.path.isfile(config_path):
        return None
    with open(config_path, encoding="utf-8") as file:
        try:
            config = json.load(file)
        except json.JSONDecodeError as error:
            raise ValueError(f"{config_path!r} is not JSON ({error}).") from None
    return config.get("registered_name") if isinstance(config, dict) else None


def attribute_at(root, path):
    """The object at a dotted attribute path ("layers.0.kernel"), or None if absent."""
    found = root
    for name in path.split("."):
        if found is None:
            return None
        found = found[int(name)] if name.isdigit() else getattr(found, name, None)
    return found


def assign_weights(pairs, hub_backbone, backbone):
    """Assigns each keras-hub weight to ours: `pairs` holds (our name, ours, theirs).

    Raises:
        ValueError: a shape differs, or a weight of either backbone is in no pair.
    """
    copied, assigned = set(), set()
    for our_name, ours, theirs in pairs:
        if tuple(ours.shape) != tuple(theirs.shape):
            raise ValueError(
                f"Weight {our_name!r} has shape {tuple(ours.shape)} but keras-hub's "
                f"{theirs.path!r} has {tuple(theirs.shape)}."
            )
        ours.assign(keras.ops.cast(theirs, ours.dtype))
        copied.add(id(theirs))
        assigned.add(id(ours))
    left_out = [weight.path for weight in hub_backbone.weights if id(weight) not in copied]
    left_out += [weight.path for weight in backbone.weights if id(weight) not in assigned]
    if left_out:
        raise ValueError(f"These weights have no counterpart in the mapping: {left_out}.")
