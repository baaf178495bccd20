"""Vectorizers for a translation builder: given ones, or learned from its corpora."""

from zoo.tasks.inputs import as_text_list
from zoo.text import TextVectorizer


def translation_vectorizers(
    source_texts,
    target_texts,
    source_vectorizer=None,
    target_vectorizer=None,
    vocabulary_size=8000,
    tokenizer_level="subword",
    lowercase=False,
    sequence_length=64,
):
    """Returns (source_vectorizer, target_vectorizer), learning any that is not given."""
    if source_vectorizer is None:
        source_texts, _ = as_text_list(source_texts, "source_texts")
        source_vectorizer = TextVectorizer.from_corpus(
            source_texts, vocabulary_size, tokenizer_level, lowercase, sequence_length
        )
    if target_vectorizer is None:
        target_texts, _ = as_text_list(target_texts, "target_texts")
        target_vectorizer = TextVectorizer.from_corpus(
            target_texts, vocabulary_size, tokenizer_level, lowercase, sequence_length
        )
    return source_vectorizer, target_vectorizer


def shared_vectorizer(
    source_texts,
    target_texts,
    vocabulary_size=8000,
    tokenizer_level="subword",
    lowercase=False,
    sequence_length=64,
):
    """Returns one vectorizer learned from both sides, for models that share a vocabulary."""
    source_texts, _ = as_text_list(source_texts, "source_texts")
    target_texts, _ = as_text_list(target_texts, "target_texts")
    return TextVectorizer.from_corpus(
        source_texts + target_texts, vocabulary_size, tokenizer_level, lowercase, sequence_length
    )
