"""Text: vocabulary learning and in-graph tokenization."""

from zoo.text.text_vectorizer import TextVectorizer
from zoo.text.vocabulary import LEVELS, RESERVED_TOKENS, learn_vocabulary

__all__ = ["LEVELS", "RESERVED_TOKENS", "TextVectorizer", "learn_vocabulary"]
