"""The uniform interface every family's model is used through."""

from zoo.tasks.image_caption_preprocessor import ImageCaptionPreprocessor
from zoo.tasks.image_captioner import ImageCaptioner
from zoo.tasks.image_segmenter import ImageSegmenter
from zoo.tasks.pretraining import SpanCorruption, TextInfilling
from zoo.tasks.question_answerer import QuestionAnswerer
from zoo.tasks.seq2seq import Seq2Seq
from zoo.tasks.task import Task
from zoo.tasks.text_classifier import TextClassifier
from zoo.tasks.text_pair_preprocessor import TextPairPreprocessor

__all__ = [
    "ImageCaptionPreprocessor",
    "ImageCaptioner",
    "ImageSegmenter",
    "QuestionAnswerer",
    "Seq2Seq",
    "SpanCorruption",
    "Task",
    "TextClassifier",
    "TextInfilling",
    "TextPairPreprocessor",
]
