"""Trained models in the box: `zoo.from_preset`, `zoo.presets` and the preset format.

A preset is a directory laid out as keras-hub lays out its own (see `zoo.preset.format`):
the backbone's `config.json` and `model.weights.h5`, the task's `task.json`, vocabularies
under `assets/`, `metadata.json`, and a model card, `card.md`. The presets shipped in the
package live in `zoo/preset/shipped/`, trained here by `bench/train_preset.py`; nothing is
ever downloaded.
"""

from zoo.preset.format import from_preset, presets, save_to_preset

__all__ = ["from_preset", "presets", "save_to_preset"]
