"""bart_from_preset: a keras-hub BART preset directory, loaded into zoo's BART."""

import keras_hub

from zoo import checks, optimizers
from zoo.models.bart_backbone import BartBackbone
from zoo.models.hub_presets import assign_weights, attribute_at, check_preset_directory
from zoo.precision import dtype_policy
from zoo.tasks import Seq2Seq
from zoo.text import BytePairVectorizer

# What `save_to_preset` writes for a BART backbone and its tokenizer.
PRESET_CONFIGS = {
    "config.json": "keras_hub>BartBackbone",
    "tokenizer.json": "keras_hub>BartTokenizer",
}
PRESET_FILES = (
    *PRESET_CONFIGS,
    "model.weights.h5",
    "assets/tokenizer/vocabulary.json",
    "assets/tokenizer/merges.txt",
)

DEFAULT_SEQUENCE_LENGTH = 64

# keras-hub's BartBackbone object (by attribute path) -> ours that holds the same weights.
# The encoder layers are keras-hub's own `TransformerEncoder` on both sides.
BACKBONE_WEIGHTS = {
    "token_embedding.embeddings": "target_embedding.embeddings",
    "encoder_position_embedding.position_embeddings": "source_positions.position_embeddings",
    "decoder_position_embedding.position_embeddings": "target_positions.position_embeddings",
    "encoder_embeddings_layer_norm": "source_embedding_norm",
    "decoder_embeddings_layer_norm": "target_embedding_norm",
}
DECODER_LAYER_WEIGHTS = {
    "_self_attention_layer": "self_attention",
    "_self_attention_layer_norm": "norms.0",
    "_cross_attention_layer": "cross_attention",
    "_cross_attention_layer_norm": "norms.1",
    "_feedforward_intermediate_dense": "intermediate_dense",
    "_feedforward_output_dense": "output_dense",
    "_feedforward_layer_norm": "norms.2",
}


def bart_from_preset(
    path,
    *,
    sequence_length=None,
    sampler="greedy",
    learning_rate=2e-5,
    label_smoothing=0.0,
    dtype=None,
):
    """Loads a keras-hub BART preset directory as a compiled zoo BART model.

    The directory is one that keras-hub's `save_to_preset` wrote for a
    `keras_hub.models.BartBackbone` and its `keras_hub.models.BartTokenizer`. Its
    configuration becomes a `zoo.models.BartBackbone` (which computes the logits of
    keras-hub's `BartSeq2SeqLM`), every weight is copied across, and its byte-level BPE
    vocabulary becomes a `zoo.text.BytePairVectorizer` for both sides, which packs texts
    as keras-hub's BART preprocessor does. Only the local directory is read: nothing is
    downloaded. The model is compiled for fine-tuning as keras-hub compiles its
    sequence-to-sequence models (Adam at 2e-5), ready to `fit`, `predict`, `save` and
    `export`.

    Args:
        path: str or path-like, the preset directory.
        sequence_length: int, most tokens per text, "<s>" and "</s>" included; longer texts
            are truncated. At most the preset's `max_sequence_length`; None: 64, or that if
            less.
        sampler: default decoding strategy ("greedy", "beam", "random" or a Sampler).
        learning_rate: positive float, Adam's step size for fine-tuning.
        label_smoothing: float in [0, 1), the loss's label smoothing.
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or "auto" (see `zoo.dtype_policy`): the zoo model's policy,
            whatever the preset's.

    Returns:
        A compiled `zoo.tasks.Seq2Seq` whose source and target vectorizer are one object.

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: `path` is not a keras-hub BART preset, or `sequence_length` is more
            than its positions.

    Example:
    >>> keras_hub.models.BartBackbone(...).save_to_preset("my_bart")
    >>> keras_hub.models.BartTokenizer(vocabulary=..., merges=...).save_to_preset("my_bart")
    >>> model = zoo.bart_from_preset("my_bart")
    >>> model.fit(documents, summaries, epochs=3)
    """
    path = check_preset_directory(path, PRESET_CONFIGS, PRESET_FILES)
    checks.positive_number(learning_rate, "learning_rate")
    dtype = dtype_policy(dtype)
    hub_backbone = keras_hub.models.BartBackbone.from_preset(path)
    config = hub_backbone.get_config()
    if sequence_length is None:
        sequence_length = min(DEFAULT_SEQUENCE_LENGTH, config["max_sequence_length"])
    if not isinstance(sequence_length, int) or sequence_length > config["max_sequence_length"]:
        raise ValueError(
            f"`sequence_length` must be an int of at most the preset's "
            f"{config['max_sequence_length']} positions, got {sequence_length!r}."
        )
    backbone = BartBackbone(
        config["vocabulary_size"],
        num_encoder_layers=config["num_layers"],
        num_decoder_layers=config["num_layers"],
        hidden_dim=config["hidden_dim"],
        num_heads=config["num_heads"],
        intermediate_dim=config["intermediate_dim"],
        dropout=config["dropout"],
        max_sequence_length=config["max_sequence_length"],
        dtype=dtype,
    )
    copy_weights(hub_backbone, backbone)
    tokenizer = keras_hub.models.BartTokenizer.from_preset(path)
    vectorizer = BytePairVectorizer(tokenizer.vocabulary, tokenizer.merges, sequence_length)
    model = Seq2Seq(backbone, vectorizer, vectorizer)
    model.compile(
        optimizer=optimizers.Adam(learning_rate),
        label_smoothing=label_smoothing,
        sampler=sampler,
    )
    return model


def copy_weights(hub_backbone, backbone):
    """Copies every weight of a keras-hub `BartBackbone` into our `BartBackbone`.

    Raises:
        ValueError: a shape differs, or a weight of either backbone is left out.
    """
    layers = [
        (attribute_at(hub_backbone, hub_path), attribute_at(backbone, our_path))
        for hub_path, our_path in BACKBONE_WEIGHTS.items()
    ]
    for index in range(backbone.num_encoder_layers):
        layers.append(
            (hub_backbone.encoder_transformer_layers[index], backbone.encoder_layers[index])
        )
    for index in range(backbone.num_decoder_layers):
        hub_layer = hub_backbone.decoder_transformer_layers[index]
        our_layer = backbone.decoder_layers[index]
        for hub_name, our_name in DECODER_LAYER_WEIGHTS.items():
            layers.append((getattr(hub_layer, hub_name), attribute_at(our_layer, our_name)))
    pairs = []
    for theirs, ours in layers:
        # A weight maps to a weight; a layer's weights map in the order both layers make them.
        their_weights = [theirs] if hasattr(theirs, "assign") else theirs.weights
        our_weights = [ours] if hasattr(ours, "assign") else ours.weights
        if len(their_weights) != len(our_weights):
            raise ValueError(
                f"{ours.name!r} has {len(our_weights)} weights but keras-hub's "
                f"{theirs.name!r} has {len(their_weights)}."
            )
        pairs += [
            (mine.path, mine, their) for mine, their in zip(our_weights, their_weights, strict=True)
        ]
    assign_weights(pairs, hub_backbone, backbone)
