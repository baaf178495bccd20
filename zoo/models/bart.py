"""BART (Lewis et al. 2020): a Transformer encoder-decoder pre-trained as a denoiser."""

import keras
import keras_hub

from zoo import checks
from zoo.models.cached_encoder_decoder import with_stack_depths
from zoo.models.transformer_decoding import TransformerDecoding, check_transformer_options
from zoo.models.vectorizers import shared_vectorizer
from zoo.precision import dtype_policy
from zoo.schedules import transformer_optimizer
from zoo.tasks import Seq2Seq
from zoo.text import TextVectorizer, add_mask_token


def bart_initializer():
    """BART's initializer of every kernel, embedding and position: N(0, 0.02) truncated."""
    return keras.initializers.TruncatedNormal(stddev=0.02)


@keras.saving.register_keras_serializable(package="zoo")
class BartBackbone(TransformerDecoding):
    """BART's encoder-decoder: the Transformer with learned positions, GELU feed-forward
    networks and post-LN, whose embeddings are layer-normalised before the stacks.

    It computes what `keras_hub.models.BartBackbone` computes under
    `keras_hub.models.BartSeq2SeqLM`'s head: one token embedding for both sides, unscaled,
    plus each side's learned positions, then each side's layer normalisation and dropout;
    `keras_hub.layers.TransformerEncoder` layers; and the output projection is the token
    embedding transposed. The decoder is `zoo.layers.TransformerDecoderLayer`, which also
    decodes one token at a time with fixed-size key/value caches, and returns its
    cross-attention (keras-hub's `TransformerDecoder` cannot). Kernels, embeddings and
    positions start from N(0, 0.02) truncated, as BART's.

    Args:
        vocabulary_size: int, tokens of the one vocabulary both sides share.
        num_encoder_layers: int.
        num_decoder_layers: int.
        hidden_dim: int, the model's width.
        num_heads: int, attention heads; must divide `hidden_dim`.
        intermediate_dim: int, hidden size of the feed-forward networks.
        dropout: float, dropout on embeddings, sub-layer outputs and attention weights.
        max_sequence_length: int, the positions learned for each side.
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or a `keras.DTypePolicy`: every layer's policy.

    Example:
    >>> backbone = zoo.models.BartBackbone(8000, num_encoder_layers=3, num_decoder_layers=3)
    >>> logits = backbone({"encoder_token_ids": ..., "encoder_padding_mask": ...,
    ...                    "decoder_token_ids": ..., "decoder_padding_mask": ...})
    """

    pretraining_objective = "bart"
    positions = "learned"  # what `TransformerDecoding.encode` checks `max_length` against

    def __init__(
        self,
        vocabulary_size,
        num_encoder_layers=3,
        num_decoder_layers=3,
        hidden_dim=256,
        num_heads=4,
        intermediate_dim=1024,
        dropout=0.1,
        max_sequence_length=1024,
        dtype=None,
        **kwargs,
    ):
        check_transformer_options(
            hidden_dim,
            num_heads,
            dropout,
            self.positions,
            vocabulary_size=vocabulary_size,
            num_encoder_layers=num_encoder_layers,
            num_decoder_layers=num_decoder_layers,
            intermediate_dim=intermediate_dim,
            max_sequence_length=max_sequence_length,
        )
        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_encoder_layers = num_encoder_layers
        self.num_decoder_layers = num_decoder_layers
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.max_sequence_length = max_sequence_length

        # === Layers ===
        layer_options = {"activation": "gelu", "initializer": bart_initializer()}
        self._build_decoder(
            vocabulary_size,
            num_decoder_layers,
            hidden_dim,
            num_heads,
            intermediate_dim,
            dropout,
            self.positions,
            max_sequence_length,
            norm_first=False,
            tie_embeddings=True,
            dtype=dtype,
            **layer_options,
        )
        self.source_embedding = self.target_embedding
        self.source_positions = keras_hub.layers.PositionEmbedding(
            max_sequence_length,
            initializer=bart_initializer(),
            dtype=dtype,
            name="source_positions",
        )
        self.source_embedding_norm, self.target_embedding_norm = (
            keras.layers.LayerNormalization(
                epsilon=1e-5, dtype=dtype, name=f"{side}_embedding_norm"
            )
            for side in ("source", "target")
        )
        self._build_encoder_layers(
            num_encoder_layers,
            intermediate_dim,
            num_heads,
            dropout,
            norm_first=False,
            dtype=dtype,
            **layer_options,
        )

        # === Functional Model ===
        inputs, logits = self._teacher_forced_graph()
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype, **kwargs)

    def _embed(self, side, token_ids, start_index=0, training=None):
        # Unscaled, then normalised: BART's `layernorm_embedding`.
        tokens = getattr(self, f"{side}_embedding")(token_ids)
        x = tokens + getattr(self, f"{side}_positions")(tokens, start_index=start_index)
        x = getattr(self, f"{side}_embedding_norm")(x)
        return self.embedding_dropout(x, training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "num_encoder_layers": self.num_encoder_layers,
            "num_decoder_layers": self.num_decoder_layers,
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "max_sequence_length": self.max_sequence_length,
        }


# The options of `BartBackbone` that `bart` forwards; it derives the others.
BACKBONE_OPTIONS = checks.keyword_options(
    BartBackbone, excluded=("vocabulary_size", "max_sequence_length", "dtype")
)


def bart(
    texts=None,
    targets=None,
    *,
    vectorizer=None,
    vocabulary_size=8000,
    tokenizer_level="subword",
    lowercase=False,
    sequence_length=64,
    num_layers=3,
    label_smoothing=0.1,
    warmup_steps=4000,
    learning_rate_scale=1.0,
    sampler="greedy",
    dtype=None,
    **backbone_options,
):
    """Builds a compiled BART (Lewis et al. 2020) text-to-text model from paired texts.

    One vocabulary, learned from `texts` and `targets` together (or the given
    `vectorizer`), serves both sides, and holds the "[MASK]" token that BART's
    pre-training (`model.pretrain(texts, objective="bart")`: text infilling and sentence
    permutation) writes in place of each masked span. Then `fit` fine-tunes it on the
    pairs. The defaults are sized for a CPU; BART-base is num_layers=6, hidden_dim=768,
    num_heads=12, intermediate_dim=3072. Trained as the Transformer is (Adam with warm-up
    and inverse-square-root decay, label smoothing 0.1).
    `predict(..., return_attention=True)` returns the last decoder layer's
    cross-attention, averaged over heads.

    Args:
        texts: list of str, the inputs, to learn the vocabulary from.
        targets: list of str, parallel to `texts`.
        vectorizer: a ready `zoo.text.TextVectorizer` for both sides, instead of learning
            one (its vocabulary needs "[MASK]" for `pretrain`, see
            `zoo.text.add_mask_token`).
        vocabulary_size: int, tokens of the learned vocabulary.
        tokenizer_level: "subword", "word" or "character".
        lowercase: bool, whether a learned vectorizer lower-cases text.
        sequence_length: int, most tokens per text; longer texts are truncated.
        num_layers: int, layers of the encoder and of the decoder, unless
            `num_encoder_layers` / `num_decoder_layers` say otherwise.
        label_smoothing: float in [0, 1), the loss's label smoothing.
        warmup_steps: int, steps of linear learning-rate warm-up.
        learning_rate_scale: positive float, a factor on the Transformer's schedule: post-LN
            BART diverges at peaks that pre-LN models take (small models on few steps of
            warm-up train well at 0.25).
        sampler: default decoding strategy ("greedy", "beam", "random" or a Sampler).
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or "auto" (see `zoo.dtype_policy`). Logits, softmaxes and
            the loss stay float32.
        **backbone_options: `BartBackbone`'s options, with its defaults:
            `num_encoder_layers`, `num_decoder_layers`, `hidden_dim`, `num_heads`,
            `intermediate_dim`, `dropout`.

    Returns:
        A compiled `zoo.tasks.Seq2Seq` whose source and target vectorizer are one object.

    Example:
    >>> model = zoo.bart(sources, targets, num_layers=3)
    >>> model.pretrain(monolingual_texts, objective="bart", epochs=10)
    >>> model.fit(sources, targets, epochs=10)
    >>> model.predict("I am cold.")
    """
    checks.known_options(backbone_options, BACKBONE_OPTIONS, "bart")
    checks.positive_number(learning_rate_scale, "learning_rate_scale")
    backbone_options = with_stack_depths(num_layers, backbone_options)
    dtype = dtype_policy(dtype)
    if vectorizer is None:
        learned = shared_vectorizer(
            texts, targets, vocabulary_size, tokenizer_level, lowercase, sequence_length
        )
        vectorizer = TextVectorizer(add_mask_token(learned.vocabulary), lowercase, sequence_length)
    backbone = BartBackbone(
        vectorizer.vocabulary_size,
        max_sequence_length=vectorizer.sequence_length,
        dtype=dtype,
        **backbone_options,
    )
    model = Seq2Seq(backbone, vectorizer, vectorizer)
    model.compile(
        optimizer=transformer_optimizer(backbone.hidden_dim, warmup_steps, learning_rate_scale),
        label_smoothing=label_smoothing,
        sampler=sampler,
    )
    return model
