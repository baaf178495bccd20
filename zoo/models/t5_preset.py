"""t5_from_preset: a keras-hub T5 preset directory, loaded into zoo's T5."""

import json
import os

import keras
import keras_hub

from zoo.models.t5 import FEED_FORWARDS, T5Backbone, t5_compile_options
from zoo.precision import dtype_policy
from zoo.tasks import Seq2Seq
from zoo.text import SentencePieceVectorizer

# What `save_to_preset` writes for a T5 backbone and its tokenizer: two configs, each
# naming its class, the weights and the SentencePiece model.
PRESET_CONFIGS = {
    "config.json": "keras_hub>T5Backbone",
    "tokenizer.json": "keras_hub>T5Tokenizer",
}
PRESET_FILES = (*PRESET_CONFIGS, "model.weights.h5", "assets/tokenizer/vocabulary.spm")

# Each weight of our `T5Backbone`, by attribute path, and the keras-hub `T5Backbone` weight
# it takes. A path through an absent layer (the untied projection, the gate) finds None.
BACKBONE_WEIGHTS = {
    "token_embedding.embeddings": "token_embedding.embeddings",
    "output_projection.kernel": "token_embedding.reverse_embeddings",
    # keras-hub keeps each stack's position bias in its first layer's self-attention.
    "encoder_position_bias.embeddings": (
        "encoder_transformer_layers.0.self_attention.relative_attention_bias"
    ),
    "decoder_position_bias.embeddings": (
        "decoder_transformer_layers.0.self_attention.relative_attention_bias"
    ),
    "encoder_norm.scale": "encoder_layer_norm.weight",
    "decoder_norm.scale": "decoder_layer_norm.weight",
}
ENCODER_LAYER_WEIGHTS = {
    "self_attention_norm.scale": "self_attention_layer_norm.weight",
    "self_attention.query_dense.kernel": "self_attention.query_projector.kernel",
    "self_attention.key_dense.kernel": "self_attention.key_projector.kernel",
    "self_attention.value_dense.kernel": "self_attention.value_projector.kernel",
    "self_attention.output_dense.kernel": "self_attention.output_projector.kernel",
    "feed_forward_norm.scale": "layer_norm.weight",
    "feed_forward.input_projection.kernel": "input_projector.kernel",
    "feed_forward.gate_projection.kernel": "gate_projector.kernel",
    "feed_forward.output_projection.kernel": "output_projector.kernel",
}
DECODER_LAYER_WEIGHTS = {
    **ENCODER_LAYER_WEIGHTS,
    "cross_attention_norm.scale": "cross_attention_layer_norm.weight",
    "cross_attention.query_dense.kernel": "cross_attention.query_projector.kernel",
    "cross_attention.key_dense.kernel": "cross_attention.key_projector.kernel",
    "cross_attention.value_dense.kernel": "cross_attention.value_projector.kernel",
    "cross_attention.output_dense.kernel": "cross_attention.output_projector.kernel",
}


def t5_from_preset(
    path,
    *,
    sequence_length=64,
    sampler="greedy",
    learning_rate=0.01,
    label_smoothing=0.0,
    dtype=None,
):
    """Loads a keras-hub T5 preset directory as a compiled zoo T5 model.

    The directory is one that keras-hub's `save_to_preset` wrote for a
    `keras_hub.models.T5Backbone` and its `keras_hub.models.T5Tokenizer`. Its configuration
    becomes a `zoo.models.T5Backbone` (one that computes the same logits as keras-hub's
    backbone under `keras_hub.models.T5Seq2SeqLM`'s head), every weight is copied across
    by name, and its SentencePiece model becomes a `zoo.text.SentencePieceVectorizer` for
    both sides. Only the local directory is read: nothing is downloaded. The model is
    compiled as `zoo.t5` compiles (Adafactor), ready to `fit`, `predict`, `save` and
    `export`.

    Args:
        path: str or path-like, the preset directory.
        sequence_length: int, most tokens per text, the end token included; longer texts
            are truncated.
        sampler: default decoding strategy ("greedy", "beam", "random" or a Sampler).
        learning_rate: float, Adafactor's step size until 1/sqrt(step) falls below it.
        label_smoothing: float in [0, 1), the loss's label smoothing.
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or "auto" (see `zoo.dtype_policy`): the zoo model's policy,
            whatever the preset's; the weights are cast to its variables' dtype (float32
            under a mixed policy).

    Returns:
        A compiled `zoo.tasks.Seq2Seq` whose source and target vectorizer are one object.

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: `path` is not a keras-hub T5 preset, or holds a T5 that
            `zoo.models.T5Backbone` cannot represent.

    Example:
    >>> keras_hub.models.T5Backbone(...).save_to_preset("my_t5")
    >>> keras_hub.models.T5Tokenizer(proto=...).save_to_preset("my_t5")
    >>> model = zoo.t5_from_preset("my_t5")
    >>> model.predict("translate English to German: That is good.")
    """
    path = _check_preset_directory(path)
    compile_options = t5_compile_options(learning_rate, label_smoothing, sampler)
    dtype = dtype_policy(dtype)
    hub_backbone = keras_hub.models.T5Backbone.from_preset(path)
    backbone = T5Backbone(**_backbone_options(hub_backbone, path), dtype=dtype)
    _copy_weights(hub_backbone, backbone)
    proto = keras_hub.models.T5Tokenizer.from_preset(path).proto
    vectorizer = SentencePieceVectorizer(proto, sequence_length=sequence_length)
    model = Seq2Seq(backbone, vectorizer, vectorizer)
    model.compile(**compile_options)
    return model


def _check_preset_directory(path):
    """The absolute path of a keras-hub T5 preset directory, or a clear error.

    Absolute, because keras-hub reads a bare name such as "t5_small_multi" as a built-in
    preset to download.
    """
    path = os.path.abspath(os.fspath(path))
    if not os.path.exists(path):
        raise FileNotFoundError(f"No keras-hub T5 preset at {path!r}: the path does not exist.")
    if not os.path.isdir(path):
        raise ValueError(f"{path!r} is not a keras-hub T5 preset directory: it is a file.")
    missing = [name for name in PRESET_FILES if not os.path.isfile(os.path.join(path, name))]
    if missing:
        raise ValueError(
            f"{path!r} is not a keras-hub T5 preset (as `save_to_preset` writes one for a "
            f"T5Backbone and a T5Tokenizer): it lacks {missing}; it holds "
            f"{sorted(os.listdir(path))}."
        )
    for name, expected in PRESET_CONFIGS.items():
        with open(os.path.join(path, name), encoding="utf-8") as file:
            try:
                config = json.load(file)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path!r}: its {name} is not JSON ({error}).") from None
        found = config.get("registered_name") if isinstance(config, dict) else None
        if found != expected:
            raise ValueError(
                f"{path!r} is not a keras-hub T5 preset: its {name} describes {found!r}, "
                f"not {expected!r}."
            )
    return path


def _backbone_options(hub_backbone, path):
    """keras-hub's T5Backbone configuration -> `zoo.models.T5Backbone` arguments."""
    config = hub_backbone.get_config()
    activation = config["activation"]
    if isinstance(activation, str):
        # Registered activations serialize with their package: "keras_hub>gelu_approximate".
        activation = activation.split(">")[-1]
    feed_forwards = {options: name for name, options in FEED_FORWARDS.items()}
    feed_forward = feed_forwards.get((activation, config["use_gated_activation"]))
    if feed_forward is None:
        raise ValueError(
            f"The T5 of {path!r} has activation={config['activation']!r} with "
            f"use_gated_activation={config['use_gated_activation']}; zoo's T5 supports "
            f"(activation, gated) in {list(feed_forwards)}."
        )
    # keras-hub fixes the buckets on the attention layer rather than in the config.
    attention = hub_backbone.encoder_transformer_layers[0].self_attention
    return {
        "vocabulary_size": config["vocabulary_size"],
        "num_encoder_layers": config["num_layers"],
        "num_decoder_layers": config["num_layers"],
        "hidden_dim": config["hidden_dim"],
        "num_heads": config["num_heads"],
        "intermediate_dim": config["intermediate_dim"],
        "key_value_dim": config["key_value_dim"],
        "dropout": config["dropout"],
        "feed_forward": feed_forward,
        "num_buckets": attention.relative_attention_buckets,
        "max_distance": attention.relative_attention_max_distance,
        "tie_embeddings": config["tie_embedding_weights"],
        "layer_norm_epsilon": config["layer_norm_epsilon"],
    }


def _weight_names(backbone):
    """Our backbone's weights, by attribute path -> the keras-hub weight each takes."""
    names = dict(BACKBONE_WEIGHTS)
    stacks = (
        ("encoder", backbone.num_encoder_layers, ENCODER_LAYER_WEIGHTS),
        ("decoder", backbone.num_decoder_layers, DECODER_LAYER_WEIGHTS),
    )
    for side, num_layers, layer_weights in stacks:
        for index in range(num_layers):
            for our_name, hub_name in layer_weights.items():
                names[f"{side}_layers.{index}.{our_name}"] = (
                    f"{side}_transformer_layers.{index}.{hub_name}"
                )
    return names


def _copy_weights(hub_backbone, backbone):
    """Copies every weight of a keras-hub `T5Backbone` into our `T5Backbone`, by name.

    Raises:
        ValueError: a weight has no counterpart, a shape differs, or a weight of either
            backbone is left out of the mapping.
    """
    copied, assigned = set(), set()
    for our_name, hub_name in _weight_names(backbone).items():
        ours, theirs = attribute_at(backbone, our_name), attribute_at(hub_backbone, hub_name)
        if ours is None and theirs is None:  # a layer neither configuration has
            continue
        if ours is None or theirs is None:
            raise ValueError(
                f"Weight {our_name!r} ({'absent' if ours is None else 'present'} here) has "
                f"no counterpart: keras-hub's {hub_name!r} is "
                f"{'absent' if theirs is None else 'present'}."
            )
        if tuple(ours.shape) != tuple(theirs.shape):
            raise ValueError(
                f"Weight {our_name!r} has shape {tuple(ours.shape)} but keras-hub's "
                f"{hub_name!r} has {tuple(theirs.shape)}."
            )
        ours.assign(keras.ops.cast(theirs, ours.dtype))
        copied.add(id(theirs))
        assigned.add(id(ours))
    left_out = [weight.path for weight in hub_backbone.weights if id(weight) not in copied]
    left_out += [weight.path for weight in backbone.weights if id(weight) not in assigned]
    if left_out:
        raise ValueError(f"These weights have no counterpart in the mapping: {left_out}.")


def attribute_at(root, path):
    """The object at a dotted attribute path ("layers.0.kernel"), or None if absent."""
    found = root
    for name in path.split("."):
        if found is None:
            return None
        found = found[int(name)] if name.isdigit() else getattr(found, name, None)
    return found
