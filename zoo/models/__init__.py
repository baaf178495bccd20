"""Two modules per model family: `<family>_backbone.py`, the backbone with its decode functions,
and `<family>.py`, the builder that learns vocabularies and returns the compiled task."""

from zoo.models.backbone import Backbone
from zoo.models.bart import bart
from zoo.models.bart_backbone import BartBackbone
from zoo.models.bart_preset import bart_from_preset
from zoo.models.convs2s import convs2s
from zoo.models.convs2s_backbone import ConvS2SBackbone
from zoo.models.hierarchical_attention import hierarchical_attention_classifier
from zoo.models.hierarchical_attention_backbone import HierarchicalAttentionBackbone
from zoo.models.image_captioner import image_captioner
from zoo.models.memory_network import memory_network
from zoo.models.memory_network_backbone import MemoryNetworkBackbone
from zoo.models.recurrent_captioner_backbone import RecurrentCaptionerBackbone
from zoo.models.recurrent_translator import attention_translator, lstm_translator
from zoo.models.recurrent_translator_backbone import RecurrentTranslatorBackbone
from zoo.models.show_and_tell_backbone import ShowAndTellBackbone
from zoo.models.show_attend_tell_backbone import ShowAttendTellBackbone
from zoo.models.t5 import t5
from zoo.models.t5_backbone import T5Backbone
from zoo.models.t5_preset import t5_from_preset
from zoo.models.transformer import transformer
from zoo.models.transformer_backbone import TransformerBackbone
from zoo.models.transformer_captioner_backbone import TransformerCaptionerBackbone
from zoo.models.unet import unet
from zoo.models.unet_backbone import UNetBackbone

__all__ = [
    "Backbone",
    "BartBackbone",
    "ConvS2SBackbone",
    "HierarchicalAttentionBackbone",
    "MemoryNetworkBackbone",
    "RecurrentCaptionerBackbone",
    "RecurrentTranslatorBackbone",
    "ShowAndTellBackbone",
    "ShowAttendTellBackbone",
    "T5Backbone",
    "TransformerBackbone",
    "TransformerCaptionerBackbone",
    "UNetBackbone",
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
    "unet",
]
