"""The Transformer encoder-decoder of Vaswani et al. (2017): its backbone."""

import keras
import keras_hub

from zoo.models.transformer_decoding import (
    TransformerDecoding,
    check_transformer_options,
    embedding_initializer,
)


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
