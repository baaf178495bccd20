"""One module per model family: a backbone with decode functions, and its builder."""

from zoo.models.recurrent_translator import (
    RecurrentTranslatorBackbone,
    attention_translator,
    lstm_translator,
)

__all__ = ["RecurrentTranslatorBackbone", "attention_translator", "lstm_translator"]
