"""One module per model family: a backbone with decode functions, and its builder."""

from zoo.models.lstm_translator import LSTMTranslatorBackbone, lstm_translator

__all__ = ["LSTMTranslatorBackbone", "lstm_translator"]
