"""Looks samplers up by name, instance or config."""

import keras

from zoo.decoding.beam_sampler import BeamSampler
from zoo.decoding.greedy_sampler import GreedySampler
from zoo.decoding.random_sampler import RandomSampler
from zoo.decoding.sampler import Sampler

SAMPLERS_BY_NAME = {
    "beam": BeamSampler,
    "greedy": GreedySampler,
    "random": RandomSampler,
}


def serialize(sampler):
    """Returns a config dict of `sampler` that `zoo.decoding.get` turns back into a sampler."""
    return keras.saving.serialize_keras_object(sampler)


def get(identifier):
    """Returns a sampler from a `Sampler`, a name or a `serialize` config.

    Args:
        identifier: a `Sampler` instance (returned as is), one of the names `"beam"`,
            `"greedy"` or `"random"` (a sampler with default arguments), or a dict made by
            `zoo.decoding.serialize`.

    Example:

    ```python
    zoo.decoding.get("beam")  # BeamSampler(num_beams=4)
    config = zoo.decoding.serialize(zoo.decoding.RandomSampler(top_k=10))
    zoo.decoding.get(config)  # RandomSampler(top_k=10)
    ```
    """
    if isinstance(identifier, Sampler):
        return identifier
    if isinstance(identifier, str):
        if identifier not in SAMPLERS_BY_NAME:
            raise ValueError(
                f"Unknown sampler {identifier!r}. Known names: {sorted(SAMPLERS_BY_NAME)}."
            )
        return SAMPLERS_BY_NAME[identifier]()
    if isinstance(identifier, dict):
        sampler = keras.saving.deserialize_keras_object(identifier)
        if isinstance(sampler, Sampler):
            return sampler
    raise ValueError(
        f"Expected a Sampler, one of the names {sorted(SAMPLERS_BY_NAME)} or a config made by "
        f"zoo.decoding.serialize, got {identifier!r}."
    )
