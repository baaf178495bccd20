"""`.keras` archives saved by an earlier zoo, brought to today's layout so that they load.

Keras files a layer's weights under a path made of the snake-cased class names of the objects
that hold it, so splitting a class moves its weights. The captioners' `ImageCaptionerBackbone`
(one class for both recurrent decoders in earlier versions) is now `ShowAndTellBackbone` and
`ShowAttendTellBackbone`: `current_layout` rewrites a copy of an archive that holds one, its
config and its weights' paths. The user's file is never changed.
"""

import json
import os
import zipfile

import h5py

_OLD_BACKBONE = "ImageCaptionerBackbone"
# By the old config's "decoder": the new class, and the old options it does not take.
_SPLIT_BACKBONES = {
    "show-and-tell": (
        "ShowAndTellBackbone",
        (
            "attention_units",
            "attention",
            "attention_inference",
            "entropy_regularization",
            "attention_regularization",
        ),
    ),
    "show-attend-tell": ("ShowAttendTellBackbone", ("image_pooling",)),
}
_WEIGHTS = "model.weights.h5"


def current_layout(path, directory):
    """The path of `path`'s archive in today's layout: `path` itself, or an upgraded copy
    written in `directory` (a temporary directory the caller removes after loading)."""
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
        renamed = _upgrade_captioner_backbone(config)
        if renamed is None:
            return path
        upgraded = os.path.join(directory, os.path.basename(path))
        with zipfile.ZipFile(upgraded, "w") as copy:
            for name in archive.namelist():
                if name == "config.json":
                    copy.writestr(name, json.dumps(config))
                elif name == _WEIGHTS:
                    weights = archive.extract(name, directory)
                    _rename_groups(weights, *renamed)
                    copy.write(weights, name)
                else:
                    copy.writestr(name, archive.read(name))
    return upgraded


def _upgrade_captioner_backbone(config):
    """Turns the old backbone's config in `config` (in place) into its new class's; returns
    (old weights group name, new one), or None if there is none."""
    for entry in _configs(config):
        if entry.get("class_name") != _OLD_BACKBONE:
            continue
        options = entry["config"]
        new_class, dropped = _SPLIT_BACKBONES[options.pop("decoder")]
        for option in dropped:
            options.pop(option, None)
        entry.update(
            class_name=new_class,
            module=f"zoo.models.{_snake_case(new_class)}",
            registered_name=f"zoo>{new_class}",
        )
        return _snake_case(_OLD_BACKBONE), _snake_case(new_class)
    return None


def _configs(value):
    """Every dict in a nested config, outermost first."""
    if isinstance(value, dict):
        yield value
        children = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return
    for child in children:
        yield from _configs(child)


def _rename_groups(weights_path, old, new):
    with h5py.File(weights_path, "r+") as weights:
        groups = []
        weights.visit(lambda name: groups.append(name) if name.split("/")[-1] == old else None)
        for name in groups:
            weights.move(name, f"{name[: -len(old)]}{new}")


def _snake_case(class_name):
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in class_name).lstrip("_")
