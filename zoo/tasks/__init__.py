"""The uniform interface every family's model is used through."""

from zoo.tasks.image_captioner import ImageCaptioner
from zoo.tasks.seq2seq import Seq2Seq
from zoo.tasks.task import Task
from zoo.tasks.text_classifier import TextClassifier

__all__ = ["ImageCaptioner", "Seq2Seq", "Task", "TextClassifier"]
