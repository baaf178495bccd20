"""An image captioner with a Transformer decoder cross-attending to the CNN's feature grid."""

import keras
import keras_hub

from zoo import checks
from zoo.models.image_features import ImageFeatures
from zoo.models.inputs import captioning_inputs
from zoo.models.transformer_decoding import TransformerDecoding, check_transformer_options


@keras.saving.register_keras_serializable(package="zoo")
class TransformerCaptionerBackbone(ImageFeatures, TransformerDecoding):
    """A convolutional image encoder and a Transformer caption decoder.

    The encoder's feature grid, flattened to [batch, grid cells, channels], is projected to
    `hidden_dim`, given a learned embedding of each cell's position (the decoder could not
    otherwise tell "above" from "below") and refined by `num_encoder_layers` Transformer
    encoder layers (`keras_hub.layers.TransformerEncoder`; 0 keeps the projected grid), as
    in the keras.io captioning example. The decoder is `TransformerDecoding`'s: masked
    self-attention over the caption, cross-attention over the grid cells, fixed-size
    key/value caches for step-by-step decoding; `predict(..., return_attention=True)` shows
    its last layer's cross-attention, averaged over heads.

    The functional graph is the teacher-forced training graph over the captioning inputs:
    `images` (float, preprocessed by the task's `zoo.vision.ImagePreprocessor`),
    `decoder_token_ids` and `decoder_padding_mask`.

    Args:
        vocabulary_size: int, size of the caption vocabulary.
        image_shape: (height, width, 3), the size of the preprocessed images.
        encoder, encoder_filters, encoder_batch_norm, encoder_alpha, encoder_weights,
            trainable_encoder, augmentation: the image encoder, as in
            `zoo.models.RecurrentCaptionerBackbone`.
        num_encoder_layers: int >= 0, Transformer encoder layers over the grid.
        num_decoder_layers: int, Transformer decoder layers.
        hidden_dim: int, the model's width.
        num_heads: int, attention heads; must divide `hidden_dim`.
        intermediate_dim: int, hidden size of the feed-forward networks.
        dropout: float, dropout on embeddings, sub-layer outputs and attention weights.
        positions: "sinusoidal" or "learned", the caption's position encodings.
        max_sequence_length: int, the longest caption learned positions cover.
        norm_first: bool, pre-LN instead of post-LN.
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or a `keras.DTypePolicy`: every layer's policy, as in
            keras-hub backbones, but that of a keras.applications encoder, which is built
            under the global policy. Under a mixed policy the layers compute in 16 bits
            and keep float32 weights; the decoder's attention softmaxes and the logits
            are float32.

    Example:
    >>> backbone = zoo.models.TransformerCaptionerBackbone(1000, image_shape=(64, 64, 3))
    >>> logits = backbone({"images": ..., "decoder_token_ids": ...,
    ...                    "decoder_padding_mask": ...})
    """

    def __init__(
        self,
        vocabulary_size,
        image_shape=(224, 224, 3),
        encoder="small-cnn",
        encoder_filters=(32, 64, 128),
        encoder_batch_norm=True,
        encoder_alpha=1.0,
        encoder_weights=None,
        trainable_encoder=True,
        augmentation=None,
        num_encoder_layers=1,
        num_decoder_layers=2,
        hidden_dim=256,
        num_heads=4,
        intermediate_dim=1024,
        dropout=0.1,
        positions="sinusoidal",
        max_sequence_length=64,
        norm_first=False,
        dtype=None,
        **kwargs,
    ):
        check_transformer_options(
            hidden_dim,
            num_heads,
            dropout,
            positions,
            vocabulary_size=vocabulary_size,
            num_decoder_layers=num_decoder_layers,
            intermediate_dim=intermediate_dim,
            max_sequence_length=max_sequence_length,
        )
        checks.int_at_least(num_encoder_layers, "num_encoder_layers", 0)
        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.num_encoder_layers = num_encoder_layers
        self.num_decoder_layers = num_decoder_layers
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.positions = positions
        self.max_sequence_length = max_sequence_length
        self.norm_first = norm_first

        # === Layers ===
        self._build_image_encoder(
            image_shape,
            encoder,
            encoder_filters,
            encoder_batch_norm,
            encoder_weights,
            encoder_alpha,
            trainable_encoder,
            augmentation,
            dtype,
        )
        self.grid_projection = keras.layers.Dense(hidden_dim, dtype=dtype, name="grid_projection")
        self.grid_positions = keras_hub.layers.PositionEmbedding(
            self.grid_shape[0] * self.grid_shape[1], dtype=dtype, name="grid_positions"
        )
        self._build_encoder_layers(
            num_encoder_layers, intermediate_dim, num_heads, dropout, norm_first, dtype
        )
        self._build_decoder(
            vocabulary_size,
            num_decoder_layers,
            hidden_dim,
            num_heads,
            intermediate_dim,
            dropout,
            positions,
            max_sequence_length,
            norm_first,
            tie_embeddings=True,
            dtype=dtype,
        )

        # === Functional Model ===
        inputs, logits = self._teacher_forced_graph(captioning_inputs(self.image_shape))
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype, **kwargs)

    def _source(self, inputs):
        # Every grid cell is attended to: no padding mask.
        return inputs["images"], None

    def _run_encoder(self, images, padding_mask, training=None):
        return self._encode_grid(self._image_features(images, training=training), training)

    def _encode_grid(self, features, training=None):
        x = self.grid_projection(features)
        x = self.embedding_dropout(x + self.grid_positions(x), training=training)
        for layer in self.encoder_layers:
            x = layer(x, training=training)
        return self.encoder_norm(x)

    def _logits_from_features(self, features, token_ids, padding_mask, training=None):
        encoder_outputs = self._encode_grid(features, training)
        decoder_outputs, _ = self._run_decoder(
            token_ids, padding_mask, encoder_outputs, None, training=training
        )
        return self._logits(decoder_outputs)

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            **self._image_config(),
            "num_encoder_layers": self.num_encoder_layers,
            "num_decoder_layers": self.num_decoder_layers,
            "hidden_dim": self.hidden_dim,
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "dropout": self.dropout,
            "positions": self.positions,
            "max_sequence_length": self.max_sequence_length,
            "norm_first": self.norm_first,
        }
