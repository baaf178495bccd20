"""One module per model family: a backbone with decode functions, and its builder."""

from zoo.models.backbone import Backbone
from zoo.models.bart import BartBackbone, bart
from zoo.models.bart_preset import bart_from_preset
from zoo.models.convs2s import ConvS2SBackbone, convs2s
from zoo.models.hierarchical_attention import (
    HierarchicalAttentionBackbone,
    hierarchical_attention_classifier,
)
from zoo.models.image_captioner import ImageCaptionerBackbone, image_captioner
from zoo.models.memory_network import MemoryNetworkBackbone, memory_network
from zoo.models.recurrent_translator import (
    RecurrentTranslatorBackbone,
    attention_translator,
    lstm_translator,
)
from zoo.models.t5 import T5Backbone, t5
from zoo.models.t5_preset import t5_from_preset
from zoo.models.transformer import TransformerBackbone, transformer
from zoo.models.transformer_captioner import TransformerCaptionerBackbone

__all__ = [
    "Backbone",
    "BartBackbone",
    "ConvS2SBackbone",
    "HierarchicalAttentionBackbone",
    "ImageCaptionerBackbone",
    "MemoryNetworkBackbone",
    "RecurrentTranslatorBackbone",
    "T5Backbone",
    "TransformerBackbone",
    "TransformerCaptionerBackbone",
    "attention_translator",
    "bart",
    "bart_from_preset",
    "convs2s",
    "hierarchical_attention_classifier",
    "image_captioner",
    "lstm_translator",
    "memory_network",
    "t5",
    "t5_from_preset",
    "transformer",
]
