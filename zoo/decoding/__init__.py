"""Samplers that run the decoding loop of every zoo model."""

from zoo.decoding.beam_sampler import BeamSampler
from zoo.decoding.greedy_sampler import GreedySampler
from zoo.decoding.random_sampler import RandomSampler
from zoo.decoding.sampler import DecodeResult, Sampler
from zoo.decoding.serialization import get, serialize

__all__ = [
    "BeamSampler",
    "DecodeResult",
    "GreedySampler",
    "RandomSampler",
    "Sampler",
    "get",
    "serialize",
]
