"""Datasets for zoo's tasks, returned as plain Python data (no TensorFlow needed to load them)."""

from zoo.datasets.babi import babi_tasks
from zoo.datasets.flickr8k import FLICKR8K_SPLITS, load_flickr8k
from zoo.datasets.keyword_documents import KEYWORD_CLASSES, NO_KEYWORD, keyword_documents
from zoo.datasets.segmentation import (
    SEGMENTATION_CLASSES,
    load_segmentation,
    shapes_segmentation,
)
from zoo.datasets.shapes import SHAPES_CAPTIONS_VOCABULARY, shapes_captions
from zoo.datasets.synthetic import reversal_pairs
from zoo.datasets.text_to_text import text_to_text, translation_tasks
from zoo.datasets.translation import TRANSLATION_DATASETS, load_translation

__all__ = [
    "FLICKR8K_SPLITS",
    "KEYWORD_CLASSES",
    "NO_KEYWORD",
    "SEGMENTATION_CLASSES",
    "SHAPES_CAPTIONS_VOCABULARY",
    "TRANSLATION_DATASETS",
    "babi_tasks",
    "keyword_documents",
    "load_flickr8k",
    "load_segmentation",
    "load_translation",
    "reversal_pairs",
    "shapes_captions",
    "shapes_segmentation",
    "text_to_text",
    "translation_tasks",
]
