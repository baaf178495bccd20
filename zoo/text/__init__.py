"""Text: vocabulary learning, in-graph tokenization (WordPiece, SentencePiece or byte-level
BPE), span corruption and text infilling."""

from zoo.text.byte_pair_vectorizer import BytePairVectorizer
from zoo.text.sentencepiece_vectorizer import SentencePieceVectorizer
from zoo.text.span_corruption import add_sentinels, sentinel_ids, span_corruption
from zoo.text.text_infilling import (
    add_mask_token,
    mask_token_id,
    permute_sentences,
    text_infilling,
)
from zoo.text.text_vectorizer import TextVectorizer
from zoo.text.vectorizer import Vectorizer
from zoo.text.vocabulary import LEVELS, RESERVED_TOKENS, learn_vocabulary

__all__ = [
    "BytePairVectorizer",
    "LEVELS",
    "RESERVED_TOKENS",
    "SentencePieceVectorizer",
    "TextVectorizer",
    "Vectorizer",
    "add_mask_token",
    "add_sentinels",
    "learn_vocabulary",
    "mask_token_id",
    "permute_sentences",
    "sentinel_ids",
    "span_corruption",
    "text_infilling",
]
