"""Show and Tell (Vinyals et al. 2015): the image is the LSTM's first input, before the
start token; the words never see the image again."""

import keras
from keras import ops

from zoo import checks
from zoo.layers.recurrent_decoder import RecurrentDecoder
from zoo.models.recurrent_captioner_backbone import RecurrentCaptionerBackbone

IMAGE_POOLINGS = ("max", "mean", "flatten")


@keras.saving.register_keras_serializable(package="zoo")
class ShowAndTellBackbone(RecurrentCaptionerBackbone):
    """A convolutional image encoder and an LSTM caption decoder that sees the image once.

    The encoder's feature grid, flattened to [batch, grid cells, channels], is embedded by a
    dense layer as the LSTM's first input (from a zero state): over the grid pooled to one
    vector, as the paper embeds GoogLeNet's pooled features (`image_pooling`: "max" or
    "mean" over the grid cells), or over the whole flattened grid ("flatten"). On the
    shapes captions max pooling learns where things are fastest; the mean learns slower,
    and the flattened grid plateaus near 10% exact.

    Args:
        vocabulary_size: int, size of the caption vocabulary.
        image_pooling: "max", "mean" or "flatten": how the feature grid becomes the vector
            the image embedding reads.
        **kwargs: the image encoder, `embedding_dim`, `units`, `dropout` and `dtype`, as
            `zoo.models.RecurrentCaptionerBackbone` takes them, and keras.Model's `name`.

    Example:
    >>> backbone = zoo.models.ShowAndTellBackbone(1000, image_shape=(64, 64, 3))
    >>> logits = backbone({"images": ..., "decoder_token_ids": ...,
    ...                    "decoder_padding_mask": ...})
    """

    has_attention = False

    def __init__(self, vocabulary_size, image_pooling="max", **kwargs):
        checks.one_of(image_pooling, IMAGE_POOLINGS, "image_pooling")
        self.image_pooling = image_pooling
        super().__init__(vocabulary_size, **kwargs)

    def _build_decoder(self, dtype):
        self.image_embedding = keras.layers.Dense(
            self.embedding_dim, dtype=dtype, name="image_embedding"
        )
        self.decoder = RecurrentDecoder(
            "lstm", self.units, dropout=self.dropout, dtype=dtype, name="decoder"
        )

    def _logits_from_features(self, features, token_ids, padding_mask, training=None):
        # The image is the first input, from a zero state; its output predicts nothing.
        image_step = ops.expand_dims(self._image_embedding(features), 1)
        outputs = self.decoder(
            ops.concatenate([image_step, self._embed(token_ids, training)], axis=1),
            [None],
            padding_mask=ops.concatenate(
                [ops.ones_like(padding_mask[:, :1]), padding_mask], axis=1
            ),
            training=training,
        )
        return self._project(outputs[:, 1:])

    def _image_embedding(self, features):
        """[batch, grid cells, channels] -> [batch, embedding_dim]."""
        if self.image_pooling == "max":
            pooled = ops.max(features, axis=1)
        elif self.image_pooling == "mean":
            pooled = ops.mean(features, axis=1)
        else:
            pooled = ops.reshape(features, (-1, features.shape[1] * features.shape[2]))
        return self.image_embedding(pooled)

    def _initial_cache(self, features):
        zeros = ops.zeros((ops.shape(features)[0], self.units), self.compute_dtype)
        _, state, _ = self.decoder.step(
            self._image_embedding(features), self.decoder.initial_state([[zeros, zeros]])
        )
        return {"decoder_state": state}

    def get_config(self):
        return {**super().get_config(), "image_pooling": self.image_pooling}
