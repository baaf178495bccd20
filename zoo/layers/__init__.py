"""Reusable layers."""

from zoo.layers.attention import Attention
from zoo.layers.attention_pooling import AttentionPooling
from zoo.layers.bahdanau_attention import BahdanauAttention
from zoo.layers.cached_attention import CachedMultiHeadAttention
from zoo.layers.doubly_stochastic_regularization import DoublyStochasticRegularization
from zoo.layers.feed_forward import FeedForward
from zoo.layers.gated_convolution import GatedConvolution
from zoo.layers.hard_attention import HardAttention
from zoo.layers.hard_attention_reinforce import HardAttentionReinforce
from zoo.layers.luong_attention import LuongAttention
from zoo.layers.luong_local_attention import LuongLocalAttention
from zoo.layers.masked_softmax import masked_softmax
from zoo.layers.multi_head_attention import MultiHeadAttention
from zoo.layers.multi_step_attention import MultiStepAttention
from zoo.layers.recurrent_decoder import RecurrentDecoder
from zoo.layers.recurrent_encoder import RecurrentEncoder
from zoo.layers.recurrent_stack import RecurrentStack
from zoo.layers.relative_position_bias import RelativePositionBias, relative_position_bucket
from zoo.layers.reverse_padded_sequence import ReversePaddedSequence
from zoo.layers.scaled_dot_product_attention import ScaledDotProductAttention
from zoo.layers.t5_attention import T5Attention
from zoo.layers.t5_decoder_layer import T5DecoderLayer
from zoo.layers.t5_encoder_layer import T5EncoderLayer
from zoo.layers.transformer_decoder_layer import TransformerDecoderLayer

__all__ = [
    "Attention",
    "AttentionPooling",
    "BahdanauAttention",
    "CachedMultiHeadAttention",
    "DoublyStochasticRegularization",
    "FeedForward",
    "GatedConvolution",
    "HardAttention",
    "HardAttentionReinforce",
    "LuongAttention",
    "LuongLocalAttention",
    "MultiHeadAttention",
    "MultiStepAttention",
    "RecurrentDecoder",
    "RecurrentEncoder",
    "RecurrentStack",
    "RelativePositionBias",
    "ReversePaddedSequence",
    "ScaledDotProductAttention",
    "T5Attention",
    "T5DecoderLayer",
    "T5EncoderLayer",
    "TransformerDecoderLayer",
    "masked_softmax",
    "relative_position_bucket",
]
