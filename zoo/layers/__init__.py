"""Reusable layers."""

from zoo.layers.reverse_padded_sequence import ReversePaddedSequence

__all__ = ["ReversePaddedSequence"]
