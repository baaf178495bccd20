"""Datasets for zoo's tasks, returned as plain Python data (no TensorFlow needed to load them)."""

from zoo.datasets.synthetic import reversal_pairs
from zoo.datasets.translation import TRANSLATION_DATASETS, load_translation

__all__ = ["TRANSLATION_DATASETS", "load_translation", "reversal_pairs"]
