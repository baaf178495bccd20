"""Text: vocabulary learning, in-graph tokenization (WordPiece or SentencePiece) and span
corruption."""

from zoo.text.sentencepiece_vectorizer import SentencePieceVectorizer
from zoo.text.span_corruption import add_sentinels, sentinel_ids, span_corruption
from zoo.text.text_vectorizer import TextVectorizer
from zoo.text.vectorizer import Vectorizer
from zoo.text.vocabulary import LEVELS, RESERVED_TOKENS, learn_vocabulary

__all__ = [
    "LEVELS",
    "RESERVED_TOKENS",
    "SentencePieceVectorizer",
    "TextVectorizer",
    "Vectorizer",
    "add_sentinels",
    "learn_vocabulary",
    "sentinel_ids",
    "span_corruption",
]
