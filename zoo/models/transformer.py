"""The Transformer encoder-decoder of Vaswani et al. (2017)."""

import keras
import keras_hub

from zoo import checks
from zoo.models.cached_encoder_decoder import with_stack_depths
from zoo.models.transformer_decoding import (
    TransformerDecoding,
    check_transformer_options,
    embedding_initializer,
)
from zoo.models.vectorizers import shared_vectorizer, translation_vectorizers
from zoo.precision import dtype_policy
from zoo.schedules import transformer_optimizer
from zoo.tasks import Seq2Seq


@keras.saving.register_keras_serializable(package="zoo")
class TransformerBackbone(TransformerDecoding):
    """A Transformer encoder-decoder: self-attention, causal self-attention and
    cross-attention instead of recurrence.

    Token embeddings are scaled by sqrt(hidden_dim) and added to position encodings
    (sinusoidal, or learned up to `max_sequence_length`); the encoder is a stack of
    `keras_hub.layers.TransformerEncoder`, the decoder a stack of
    `zoo.layers.TransformerDecoderLayer`; with `norm_first` both stacks end in a layer
    normalisation. The output projection is the target embedding transposed when
    `tie_embeddings` (the paper), else its own matrix.

    The functional graph is the teacher-forced training graph over the named translation
    inputs. `encode` and `step` (from `TransformerDecoding`) decode one token at a time with
    fixed-size key/value caches; `attention_weights` gives the last decoder layer's
    cross-attention.

    Args:
        source_vocabulary_size: int.
        target_vocabulary_size: int.
        num_encoder_layers: int.
        num_decoder_layers: int.
        hidden_dim: int, the model's width (d_model).
        num_heads: int, attention heads; must divide `hidden_dim`.
        intermediate_dim: int, hidden size of the feed-forward networks (d_ff).
        dropout: float, dropout on embeddings, sub-layer outputs and attention weights.
        positions: "sinusoidal" or "learned".
        max_sequence_length: int, the longest sequence learned positions cover.
        norm_first: bool, pre-LN (normalise each sub-layer's input) instead of the paper's
            post-LN.
        shared_embeddings: bool, whether source and target share one embedding table (they
            must then share one vocabulary).
        tie_embeddings: bool, whether the output projection is the target embedding.
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or a `keras.DTypePolicy`: every layer's policy, as in
            keras-hub backbones. Under a mixed policy the layers compute in 16 bits and
            keep float32 weights; the decoder's attention softmaxes and the logits are
            float32.

    Example:
    >>> backbone = zoo.models.TransformerBackbone(8000, 8000, num_encoder_layers=3)
    >>> logits = backbone({"encoder_token_ids": ..., "encoder_padding_mask": ...,
    ...                    "decoder_token_ids": ..., "decoder_padding_mask": ...})
    """

    def __init__(
        self,
        source_vocabulary_size,
        target_vocabulary_size,
        num_encoder_layers=3,
        num_decoder_layers=3,
        hidden_dim=256,
        num_heads=4,
        intermediate_dim=1024,
        dropout=0.1,
        positions="sinusoidal",
        max_sequence_length=512,
        norm_first=False,
        shared_embeddings=False,
        tie_embeddings=True,
        dtype=None,
        **kwargs,
    ):
        check_transformer_options(
            hidden_dim,
            num_heads,
            dropout,
            positions,
            source_vocabulary_size=source_vocabulary_size,
            target_vocabulary_size=target_vocabulary_size,
            num_encoder_layers=num_encoder_layers,
            num_decoder_layers=num_decoder_layers,
            intermediate_dim=intermediate_dim,
            max_sequence_length=max_sequence_length,
        )
        if shared_embeddings and source_vocabulary_size != target_vocabulary_size:
            raise ValueError(
                "`shared_embeddings=True` needs one vocabulary for both sides, got vocabulary "
                f"sizes {source_vocabulary_size} (source) and {target_vocabulary_size} (target)."
            )
        # === Config ===
        self.source_vocabulary_size = source_vocabulary_size
        self.target_vocabulary_size = target_vocabulary_size
        self.num_encoder_layers = num_encoder_layers
        self.num_decoder_layers = num_decoder_layers
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.positions = positions
        self.max_sequence_length = max_sequence_length
        self.norm_first = norm_first
        self.shared_embeddings = shared_embeddings
        self.tie_embeddings = tie_embeddings

        # === Layers ===
        self._build_decoder(
            target_vocabulary_size,
            num_decoder_layers,
            hidden_dim,
            num_heads,
            intermediate_dim,
            dropout,
            positions,
            max_sequence_length,
            norm_first,
            tie_embeddings,
            dtype,
        )
        self.source_embedding = (
            self.target_embedding
            if shared_embeddings
            else keras.layers.Embedding(
                source_vocabulary_size,
                hidden_dim,
                embeddings_initializer=embedding_initializer(hidden_dim),
                dtype=dtype,
                name="source_embedding",
            )
        )
        # Sinusoidal encodings have no weights: both sides use the decoder's.
        self.source_positions = (
            self.target_positions
            if positions == "sinusoidal"
            else keras_hub.layers.PositionEmbedding(
                max_sequence_length, dtype=dtype, name="source_positions"
            )
        )
        self._build_encoder_layers(
            num_encoder_layers, intermediate_dim, num_heads, dropout, norm_first, dtype
        )

        # === Functional Model ===
        inputs, logits = self._teacher_forced_graph()
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype, **kwargs)

    def get_config(self):
        return {
            **super().get_config(),
            "source_vocabulary_size": self.source_vocabulary_size,
            "target_vocabulary_size": self.target_vocabulary_size,
            "num_encoder_layers": self.num_encoder_layers,
            "num_decoder_layers": self.num_decoder_layers,
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "positions": self.positions,
            "max_sequence_length": self.max_sequence_length,
            "norm_first": self.norm_first,
            "shared_embeddings": self.shared_embeddings,
            "tie_embeddings": self.tie_embeddings,
        }

    @classmethod
    def from_config(cls, config):
        # Saved before `tied_embeddings` was renamed `tie_embeddings`, the name T5's has.
        if "tied_embeddings" in config:
            config = {**config, "tie_embeddings": config["tied_embeddings"]}
            del config["tied_embeddings"]
        return super().from_config(config)


# The options of `TransformerBackbone` that `transformer` forwards; it derives the others.
BACKBONE_OPTIONS = checks.keyword_options(
    TransformerBackbone, excluded=("max_sequence_length", "shared_embeddings", "dtype")
)


def transformer(
    source_texts=None,
    target_texts=None,
    *,
    source_vectorizer=None,
    target_vectorizer=None,
    vocabulary_size=8000,
    shared_vocabulary=False,
    tokenizer_level="subword",
    lowercase=False,
    sequence_length=64,
    num_layers=3,
    label_smoothing=0.1,
    warmup_steps=4000,
    sampler="greedy",
    dtype=None,
    **backbone_options,
):
    """Builds a compiled Transformer translator (Vaswani et al. 2017) from parallel texts.

    Trained as in the paper by default: Adam (beta_2 0.98, epsilon 1e-9) with the warm-up /
    inverse-square-root learning rate of `zoo.schedules.InverseSquareRootSchedule`, and
    label smoothing 0.1. `predict(..., return_attention=True)` returns the last decoder
    layer's cross-attention, averaged over heads.

    Args:
        source_texts: list of str, the corpus to learn the source vocabulary from.
        target_texts: list of str, parallel to `source_texts`.
        source_vectorizer: a ready `zoo.text.TextVectorizer`, instead of learning one.
        target_vectorizer: a ready `zoo.text.TextVectorizer`, instead of learning one.
        vocabulary_size: int, tokens per learned vocabulary.
        shared_vocabulary: bool, whether to learn one vocabulary from both sides, then share
            one embedding table between encoder and decoder (with `tie_embeddings`, the
            paper's three-way tying).
        tokenizer_level: "subword", "word" or "character".
        lowercase: bool, whether learned vectorizers lower-case text.
        sequence_length: int, most tokens per text; longer texts are truncated.
        num_layers: int, layers of the encoder and of the decoder, unless
            `num_encoder_layers` / `num_decoder_layers` say otherwise.
        label_smoothing: float in [0, 1), the loss's label smoothing.
        warmup_steps: int, steps of linear learning-rate warm-up.
        sampler: default decoding strategy ("greedy", "beam", "random" or a Sampler).
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or "auto": mixed bfloat16 on a CPU with bfloat16 units,
            mixed float16 on a GPU, float32 otherwise (see `zoo.dtype_policy`). Logits,
            softmaxes and the loss stay float32.
        **backbone_options: `TransformerBackbone`'s options, with its defaults:
            `num_encoder_layers`, `num_decoder_layers`, `hidden_dim`, `num_heads`,
            `intermediate_dim`, `dropout`, `positions`, `norm_first`, `tie_embeddings`
            (`tied_embeddings`, its former name, is still taken, with a DeprecationWarning).

    Returns:
        A compiled `zoo.tasks.Seq2Seq`.

    Example:
    >>> sources, targets = zoo.datasets.load_translation("tatoeba")
    >>> model = zoo.transformer(sources, targets, hidden_dim=256, num_layers=3)
    >>> model.fit(sources, targets, epochs=10)
    >>> model.predict("I am cold.")
    """
    backbone_options = checks.renamed_option(backbone_options, "tied_embeddings", "tie_embeddings")
    checks.known_options(backbone_options, BACKBONE_OPTIONS, "transformer")
    backbone_options = with_stack_depths(num_layers, backbone_options)
    dtype = dtype_policy(dtype)
    vectorizer_options = (vocabulary_size, tokenizer_level, lowercase, sequence_length)
    if shared_vocabulary:
        if source_vectorizer is None and target_vectorizer is None:
            source_vectorizer = shared_vectorizer(source_texts, target_texts, *vectorizer_options)
        source_vectorizer = target_vectorizer = source_vectorizer or target_vectorizer
    source_vectorizer, target_vectorizer = translation_vectorizers(
        source_texts, target_texts, source_vectorizer, target_vectorizer, *vectorizer_options
    )
    backbone = TransformerBackbone(
        source_vectorizer.vocabulary_size,
        target_vectorizer.vocabulary_size,
        max_sequence_length=max(
            source_vectorizer.sequence_length, target_vectorizer.sequence_length
        ),
        shared_embeddings=shared_vocabulary,
        dtype=dtype,
        **backbone_options,
    )
    model = Seq2Seq(backbone, source_vectorizer, target_vectorizer)
    model.compile(
        optimizer=transformer_optimizer(backbone.hidden_dim, warmup_steps),
        label_smoothing=label_smoothing,
        sampler=sampler,
    )
    return model
