"""Reusable layers."""

from zoo.layers.attention import Attention
from zoo.layers.bahdanau_attention import BahdanauAttention
from zoo.layers.luong_attention import LuongAttention
from zoo.layers.reverse_padded_sequence import ReversePaddedSequence
from zoo.layers.scaled_dot_product_attention import ScaledDotProductAttention

__all__ = [
    "Attention",
    "BahdanauAttention",
    "LuongAttention",
    "ReversePaddedSequence",
    "ScaledDotProductAttention",
]
