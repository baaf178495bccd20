"""The recurrent captioners' backbone: Show and Tell (Vinyals et al. 2015) and Show, Attend
and Tell (Xu et al. 2015) over a convolutional image encoder."""

import keras
from keras import ops

from zoo import checks
from zoo.decoding.attention_buffer import with_attention_buffer
from zoo.layers.bahdanau_attention import BahdanauAttention
from zoo.layers.doubly_stochastic_regularization import DoublyStochasticRegularization
from zoo.layers.hard_attention import INFERENCE_RULES, HardAttention
from zoo.layers.hard_attention_reinforce import HardAttentionReinforce
from zoo.layers.recurrent_decoder import RecurrentDecoder
from zoo.models.image_features import ImageFeatures
from zoo.models.inputs import captioning_inputs
from zoo.models.recurrent_decoding import RecurrentDecoding

RECURRENT_DECODERS = ("show-and-tell", "show-attend-tell")
IMAGE_POOLINGS = ("max", "mean", "flatten")
ATTENTIONS = ("soft", "hard")


@keras.saving.register_keras_serializable(package="zoo")
class ImageCaptionerBackbone(ImageFeatures, RecurrentDecoding):
    """A convolutional image encoder and an LSTM caption decoder.

    The encoder turns preprocessed images into a grid of feature vectors, flattened to
    [batch, grid_height * grid_width, channels]. The decoder is one of:
    - "show-and-tell" (Vinyals et al. 2015): an image embedding is the LSTM's first input,
      before the start token; the words never see the image again. The embedding is a dense
      layer over the grid pooled to one vector, as the paper embeds GoogLeNet's pooled
      features (`image_pooling`: "max" or "mean" over the grid cells), or over the whole
      flattened grid ("flatten"). On the shapes captions max pooling learns where things are
      fastest; the mean learns slower, and the flattened grid plateaus near 10% exact.
    - "show-attend-tell" (Xu et al. 2015): the LSTM state starts from two tanh layers over
      the mean feature vector, and every step reads the grid through additive (Bahdanau)
      attention computed from the previous state, scaled by a gating scalar
      sigmoid(w . h_{t-1}). Soft attention (`attention="soft"`) reads the attention-weighted
      sum of the grid's feature vectors; hard attention (`attention="hard"`,
      `zoo.layers.HardAttention`) reads one cell, drawn from the weights in training and
      trained by REINFORCE (`zoo.layers.HardAttentionReinforce`, entropy weight
      `entropy_regularization`), the argmax cell at inference. The doubly stochastic penalty
      (`zoo.layers.DoublyStochasticRegularization`, weight `attention_regularization`) on
      the attention weights is added to the training loss.

    The functional graph is the teacher-forced training graph: it maps `images` (float,
    preprocessed by the task's `zoo.vision.ImagePreprocessor`), `decoder_token_ids` and
    `decoder_padding_mask` to next-token logits. `encode(images, None, max_length)` and
    `step` run the same layers one token at a time for the samplers in `zoo.decoding`.

    Args:
        vocabulary_size: int, size of the caption vocabulary.
        image_shape: (height, width, 3), the size of the preprocessed images.
        decoder: one of `RECURRENT_DECODERS`.
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
        embedding_dim: int, size of the word (and show-and-tell image) embeddings.
        image_pooling: "max", "mean" or "flatten": how show-and-tell reduces the feature
            grid to the vector it embeds.
        units: int, size of the LSTM state.
        attention_units: int, hidden size of the attention scoring network; defaults to
            `units`.
        attention: "soft" or "hard" (show-attend-tell only).
        attention_inference: "argmax" or "expectation": what hard attention reads at
            inference.
        entropy_regularization: float >= 0, the weight of hard attention's entropy term.
        dropout: float, dropout on embeddings and decoder outputs.
        attention_regularization: float >= 0, the weight of the doubly stochastic penalty
            (show-attend-tell only; 0 turns it off).
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or a `keras.DTypePolicy`: every layer's policy, as in
            keras-hub backbones, but that of a keras.applications encoder, which is built
            under the global policy. Under a mixed policy the layers compute in 16 bits
            and keep float32 weights; the attention softmax, its penalty and the logits
            are float32.

    Example:
    >>> backbone = zoo.models.ImageCaptionerBackbone(1000, image_shape=(64, 64, 3))
    >>> logits = backbone({"images": ..., "decoder_token_ids": ...,
    ...                    "decoder_padding_mask": ...})
    """

    def __init__(
        self,
        vocabulary_size,
        image_shape=(224, 224, 3),
        decoder="show-attend-tell",
        encoder="small-cnn",
        encoder_filters=(32, 64, 128),
        encoder_batch_norm=True,
        encoder_alpha=1.0,
        encoder_weights=None,
        trainable_encoder=True,
        augmentation=None,
        embedding_dim=256,
        image_pooling="max",
        units=512,
        attention_units=None,
        attention="soft",
        attention_inference="argmax",
        entropy_regularization=0.01,
        dropout=0.0,
        attention_regularization=1.0,
        dtype=None,
        **kwargs,
    ):
        checks.one_of(decoder, RECURRENT_DECODERS, "decoder")
        checks.one_of(image_pooling, IMAGE_POOLINGS, "image_pooling")
        checks.one_of(attention, ATTENTIONS, "attention")
        checks.one_of(attention_inference, INFERENCE_RULES, "attention_inference")
        if attention == "hard" and decoder == "show-and-tell":
            raise ValueError('`attention="hard"` needs decoder="show-attend-tell".')
        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.decoder_name = decoder
        self.embedding_dim = embedding_dim
        self.image_pooling = image_pooling
        self.units = units
        self.attention_units = attention_units
        self.attention_name = attention
        self.attention_inference = attention_inference
        self.entropy_regularization = entropy_regularization
        self.dropout = dropout
        self.attention_regularization = attention_regularization

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
        if self.has_attention:
            self.initial_hidden = keras.layers.Dense(
                units, "tanh", dtype=dtype, name="initial_hidden"
            )
            self.initial_memory = keras.layers.Dense(
                units, "tanh", dtype=dtype, name="initial_memory"
            )
            scoring = BahdanauAttention(attention_units or units, dtype=dtype)
            if attention == "hard":
                scoring = HardAttention(scoring, attention_inference, dtype=dtype)
            self.decoder = RecurrentDecoder(
                "lstm",
                units,
                attention=scoring,
                attend_previous_state=True,
                context_gate=True,
                dropout=dropout,
                dtype=dtype,
                name="decoder",
            )
            self.regularization = (
                DoublyStochasticRegularization(
                    attention_regularization, dtype=dtype, name="regularization"
                )
                if attention_regularization
                else None
            )
            # float32: it reads the logits, as the loss does.
            self.reinforce = (
                HardAttentionReinforce(
                    entropy_weight=entropy_regularization, dtype="float32", name="reinforce"
                )
                if attention == "hard"
                else None
            )
        else:
            self.image_embedding = keras.layers.Dense(
                embedding_dim, dtype=dtype, name="image_embedding"
            )
            self.decoder = RecurrentDecoder(
                "lstm", units, dropout=dropout, dtype=dtype, name="decoder"
            )
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

    def _logits_from_features(self, features, token_ids, padding_mask, training=None):
        embedded = self.embedding_dropout(self.decoder_embedding(token_ids), training=training)
        if self.has_attention:
            outputs, weights, *read_positions = self.decoder(
                embedded,
                self._initial_states(features),
                features,
                None,
                padding_mask=padding_mask,
                return_attention=True,
                training=training,
            )
            if self.regularization is not None:
                outputs = self.regularization(outputs, weights, padding_mask)
        else:
            # The image is the first input, from a zero state; its output predicts nothing.
            image_step = ops.expand_dims(self._image_embedding(features), 1)
            outputs = self.decoder(
                ops.concatenate([image_step, embedded], axis=1),
                [None],
                padding_mask=ops.concatenate(
                    [ops.ones_like(padding_mask[:, :1]), padding_mask], axis=1
                ),
                training=training,
            )[:, 1:]
        # float32 whatever the policy: the loss and the samplers read them.
        logits = ops.cast(self.output_projection(outputs), "float32")
        if self.has_attention and self.reinforce is not None:
            logits = self.reinforce(
                logits, token_ids, padding_mask, weights, *read_positions, training=training
            )
        return logits

    def _initial_states(self, features):
        """Xu et al.: the LSTM's first state from the mean of the grid's feature vectors."""
        pooled = ops.mean(features, axis=1)
        return [[self.initial_hidden(pooled), self.initial_memory(pooled)]]

    def _image_embedding(self, features):
        """Show-and-tell's image vector: [batch, grid cells, channels] -> [batch, embedding]."""
        if self.image_pooling == "max":
            pooled = ops.max(features, axis=1)
        elif self.image_pooling == "mean":
            pooled = ops.mean(features, axis=1)
        else:
            pooled = ops.reshape(features, (-1, features.shape[1] * features.shape[2]))
        return self.image_embedding(pooled)

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
        if self.has_attention:
            state = self.decoder.initial_state(self._initial_states(features))
            cache = {"decoder_state": state, **self.attention_cache(features)}
        else:
            zeros = ops.zeros((ops.shape(images)[0], self.units), self.compute_dtype)
            _, state, _ = self.decoder.step(
                self._image_embedding(features), self.decoder.initial_state([[zeros, zeros]])
            )
            cache = {"decoder_state": state}
        if return_attention:
            if not self.has_attention:
                raise ValueError("Show-and-tell has no attention weights to return.")
            batch_size, grid_cells = ops.shape(features)[:2]
            cache = with_attention_buffer(cache, batch_size, grid_cells, max_length)
        return cache

    @property
    def has_attention(self):
        """Whether the decoder attends to the feature grid (and can return its weights)."""
        return self.decoder_name != "show-and-tell"

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            **self._image_config(),
            "decoder": self.decoder_name,
            "embedding_dim": self.embedding_dim,
            "image_pooling": self.image_pooling,
            "units": self.units,
            "attention_units": self.attention_units,
            "attention": self.attention_name,
            "attention_inference": self.attention_inference,
            "entropy_regularization": self.entropy_regularization,
            "dropout": self.dropout,
            "attention_regularization": self.attention_regularization,
        }
