"""The image side shared by the captioning backbones: a CNN whose feature grid is flattened."""

import keras

from zoo.vision.image_encoders import image_encoder


class ImageFeatures:
    """Mixin of the captioning backbones: the optional augmentation, the convolutional
    encoder, and its feature grid read as a sequence of grid-cell vectors (row-major).

    `_build_image_encoder` sets the image options, `image_encoder`, `grid_shape` (grid
    height, grid width) and the flattening layer, under the backbone's `dtype` (but a
    keras.applications encoder takes no policy: it is built under the global one);
    `_image_features(images)` gives [batch, grid cells, channels]; `_image_config()` the
    options for `get_config`;
    `set_trainable_encoder` freezes or unfreezes the encoder (recompile the task after it).
    A backbone implements `_logits_from_features(features, decoder_token_ids,
    decoder_padding_mask, training)`, its training graph after the image encoder, which
    `call_with_features` runs on feature grids computed once (`has_fixed_features`).
    """

    def _build_image_encoder(
        self,
        image_shape,
        encoder,
        filters,
        batch_norm,
        weights,
        alpha,
        trainable,
        augmentation,
        dtype=None,
    ):
        self.image_shape = tuple(image_shape)
        self.encoder_name = encoder
        self.encoder_filters = list(filters)
        self.encoder_batch_norm = batch_norm
        self.encoder_alpha = alpha
        # Keras random preprocessing layers: active in training only, so `fit` sees a new
        # variant of each image every epoch while `predict` and `export` see it as it is.
        self.augmentation = [
            keras.saving.deserialize_keras_object(layer) if isinstance(layer, dict) else layer
            for layer in augmentation or ()
        ]
        self.image_encoder = image_encoder(
            encoder, self.image_shape, filters, weights, alpha, batch_norm, dtype
        )
        self.set_trainable_encoder(trainable)
        grid = self.image_encoder.compute_output_shape((None, *self.image_shape))
        self.grid_shape = tuple(grid[1:3])
        self.grid_flatten = keras.layers.Reshape((-1, grid[-1]), dtype=dtype, name="grid_flatten")

    def _image_features(self, images, training=None):
        """float images -> the flattened feature grid [batch, grid cells, channels]."""
        for layer in self.augmentation:
            images = layer(images, training=training)
        return self.grid_flatten(self.image_encoder(images, training=training))

    @property
    def has_fixed_features(self):
        """Whether an image's feature grid is the same at every training step (a frozen
        encoder, no augmentation), so that training can compute it once."""
        return not self.augmentation and not self.image_encoder.trainable_weights

    def image_features(self, images):
        """float preprocessed images -> their flattened feature grids [batch, grid cells,
        channels], as inference computes them."""
        return self._image_features(images, training=False)

    def call_with_features(self, inputs, training=None):
        """The teacher-forced logits, as the functional graph gives them, from
        `image_features` (the `image_features` of the images) in place of `images`."""
        return self._logits_from_features(
            inputs["image_features"],
            inputs["decoder_token_ids"],
            inputs["decoder_padding_mask"],
            training=training,
        )

    def _image_config(self):
        return {
            "image_shape": list(self.image_shape),
            "encoder": self.encoder_name,
            "encoder_filters": self.encoder_filters,
            "encoder_batch_norm": self.encoder_batch_norm,
            "encoder_alpha": self.encoder_alpha,
            "trainable_encoder": self.trainable_encoder,
            "augmentation": [
                keras.saving.serialize_keras_object(layer) for layer in self.augmentation
            ],
        }

    def set_trainable_encoder(self, trainable):
        """Sets which encoder weights train, and records it in the config so that a saved
        model reloads the same way.

        Args:
            trainable: True (all of the encoder trains), False (frozen), or an int n: only
                the last n layers that hold weights train, batch normalisation excepted,
                which stays in inference mode with the statistics it has (fine-tuning the
                top of a pretrained keras.applications network, as the keras.io transfer
                learning guide does). An n above the encoder's layer count fine-tunes all.

        Example:
        >>> model.backbone.set_trainable_encoder(20)
        >>> model.compile(optimizer=keras.optimizers.Adam(1e-4), sampler=model.sampler)
        """
        set_trainable_layers(self.image_encoder, trainable)
        self.trainable_encoder = trainable


def set_trainable_layers(encoder, trainable):
    """`ImageFeatures.set_trainable_encoder` on the encoder layer itself."""
    if isinstance(trainable, bool):
        encoder.trainable = trainable
        return
    if not isinstance(trainable, int) or trainable < 0:
        raise ValueError(
            "`trainable_encoder` must be True, False or the number of last encoder layers "
            f"to fine-tune (an int >= 0), got {trainable!r}."
        )
    if not isinstance(encoder, keras.Model):
        raise ValueError(
            "`trainable_encoder` as a number of layers is for keras.applications encoders; "
            f"the small CNN trains whole or not at all, got trainable_encoder={trainable!r}."
        )
    encoder.trainable = True
    weighted = [layer for layer in encoder.layers if layer.weights]
    for position, layer in enumerate(weighted):
        layer.trainable = position >= len(weighted) - trainable and not isinstance(
            layer, keras.layers.BatchNormalization
        )
