"""The backbone of BART (Lewis et al. 2020), a Transformer encoder-decoder pre-trained as a
denoiser."""

import keras
import keras_hub

from zoo.models.transformer_decoding import TransformerDecoding, check_transformer_options


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
