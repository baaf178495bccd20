"""t5_from_preset: a keras-hub T5 preset directory, loaded into zoo's T5."""

import keras_hub

from zoo.models.hub_presets import assign_weights, attribute_at, check_preset_directory
from zoo.models.t5 import t5_compile_options
from zoo.models.t5_backbone import FEED_FORWARDS, T5Backbone
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
    path = check_preset_directory(path, PRESET_CONFIGS, PRESET_FILES)
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
    pairs = []
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
        pairs.append((our_name, ours, theirs))
    assign_weights(pairs, hub_backbone, backbone)
