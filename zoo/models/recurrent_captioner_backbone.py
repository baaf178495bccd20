"""What the recurrent captioners' backbones share: a convolutional image encoder, the caption
words' embedding and output projection around an LSTM decoder."""

import keras
from keras import ops

from zoo.decoding.attention_buffer import with_attention_buffer
from zoo.models.image_features import ImageFeatures
from zoo.models.inputs import captioning_inputs
from zoo.models.recurrent_decoding import RecurrentDecoding


class RecurrentCaptionerBackbone(ImageFeatures, RecurrentDecoding):
    """Base of `ShowAndTellBackbone` and `ShowAttendTellBackbone`.

    A subclass builds its decoder layers in `_build_decoder(dtype)` (among them `decoder`, a
    `zoo.layers.RecurrentDecoder`), gives the teacher-forced logits in
    `_logits_from_features(features, token_ids, padding_mask, training)` (with `_embed` and
    `_project`) and the decoding cache in `_initial_cache(features)`. This class builds the
    rest and the functional graph: the teacher-forced training graph from `images` (float,
    preprocessed by the task's `zoo.vision.ImagePreprocessor`), `decoder_token_ids` and
    `decoder_padding_mask` to next-token logits. `encode(images, None, max_length)` and
    `step` run the same layers one token at a time for the samplers in `zoo.decoding`.

    Args:
        vocabulary_size: int, size of the caption vocabulary.
        image_shape: (height, width, 3), the size of the preprocessed images.
        encoder: one of `zoo.vision.ENCODERS`: "small-cnn" or a keras.applications name.
        encoder_filters: list of ints, the small CNN's channels per block.
        encoder_batch_norm: bool, whether the small CNN batch-normalises its convolutions.
        encoder_alpha: float, the width multiplier of the MobileNet encoders.
        encoder_weights: None or the path of a local weights file for a keras.applications
            encoder, loaded when the backbone is built (and not kept in its config: a saved
            model holds all its weights).
        trainable_encoder: bool, whether training updates the encoder; or an int n: only
            its last n layers that hold weights train (keras.applications encoders).
        augmentation: None or a list of Keras random preprocessing layers (e.g.
            `keras.layers.RandomTranslation(0.1, 0.1)`) applied to the preprocessed images
            in training only.
        embedding_dim: int, size of the word embeddings.
        units: int, size of the LSTM state.
        dropout: float, dropout on embeddings and decoder outputs.
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or a `keras.DTypePolicy`: every layer's policy, as in
            keras-hub backbones, but that of a keras.applications encoder, which is built
            under the global policy. Under a mixed policy the layers compute in 16 bits
            and keep float32 weights; attention softmaxes and the logits are float32.
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
        embedding_dim=256,
        units=512,
        dropout=0.0,
        dtype=None,
        **kwargs,
    ):
        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.dropout = dropout

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
        self.decoder_embedding = keras.layers.Embedding(
            vocabulary_size, embedding_dim, dtype=dtype, name="decoder_embedding"
        )
        self.embedding_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embedding_dropout"
        )
        self._build_decoder(dtype)
        self.output_projection = keras.layers.Dense(
            vocabulary_size, dtype=dtype, name="output_projection"
        )

        # === Functional Model ===
        inputs = captioning_inputs(self.image_shape)
        logits = self._logits_from_features(
            self._image_features(inputs["images"]),
            inputs["decoder_token_ids"],
            inputs["decoder_padding_mask"],
        )
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype, **kwargs)

    def _embed(self, token_ids, training=None):
        return self.embedding_dropout(self.decoder_embedding(token_ids), training=training)

    def _project(self, decoder_outputs):
        # float32 whatever the policy: the loss and the samplers read the logits.
        return ops.cast(self.output_projection(decoder_outputs), "float32")

    # === Decode functions ===
    def encode(self, images, padding_mask, max_length, return_attention=False):
        """Runs the image encoder; returns the decoder's initial cache for `max_length` steps.

        Args:
            images: float [batch, *image_shape], preprocessed.
            padding_mask: None: every grid cell is attended to. (The argument keeps one
                `encode(source, padding_mask, ...)` contract for every backbone.)
            max_length: int, the steps the cache is for.
            return_attention: bool, whether the cache also holds a zeroed float32
                "attention_weights" buffer [batch, grid cells, max_length] that `step` fills.
        """
        features = self._image_features(images, training=False)
        cache = self._initial_cache(features)
        if return_attention:
            if not self.has_attention:
                raise ValueError(f"{type(self).__name__} has no attention weights to return.")
            batch_size, grid_cells = ops.shape(features)[:2]
            cache = with_attention_buffer(cache, batch_size, grid_cells, max_length)
        return cache

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            **self._image_config(),
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "dropout": self.dropout,
        }
