"""Datasets for zoo's tasks, returned as plain Python data (no TensorFlow needed to load them)."""

from zoo.datasets.keyword_documents import KEYWORD_CLASSES, NO_KEYWORD, keyword_documents
from zoo.datasets.synthetic import reversal_pairs
from zoo.datasets.translation import TRANSLATION_DATASETS, load_translation

__all__ = [
    "KEYWORD_CLASSES",
    "NO_KEYWORD",
    "TRANSLATION_DATASETS",
    "keyword_documents",
    "load_translation",
    "reversal_pairs",
]
