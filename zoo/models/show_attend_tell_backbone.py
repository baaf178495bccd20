"""Show, Attend and Tell (Xu et al. 2015): every word reads the image's feature grid through
attention, soft (a weighted sum) or hard (one cell)."""

import keras
import keras_hub
from keras import ops

from zoo import checks
from zoo.layers.bahdanau_attention import BahdanauAttention
from zoo.layers.doubly_stochastic_regularization import DoublyStochasticRegularization
from zoo.layers.hard_attention import INFERENCE_RULES, HardAttention
from zoo.layers.hard_attention_reinforce import HardAttentionReinforce
from zoo.layers.recurrent_decoder import RecurrentDecoder
from zoo.models.recurrent_captioner_backbone import RecurrentCaptionerBackbone

ATTENTIONS = ("soft", "hard")


@keras.saving.register_keras_serializable(package="zoo")
class ShowAttendTellBackbone(RecurrentCaptionerBackbone):
    """A convolutional image encoder and an LSTM caption decoder that attends to its grid.

    The LSTM state starts from two tanh layers over the mean feature vector, and every step
    reads the grid through additive (Bahdanau) attention computed from the previous state,
    scaled by a gating scalar sigmoid(w . h_{t-1}). Soft attention (`attention="soft"`)
    reads the attention-weighted sum of the grid's feature vectors; hard attention
    (`attention="hard"`, `zoo.layers.HardAttention`) reads one cell, drawn from the weights
    in training and trained by REINFORCE (`zoo.layers.HardAttentionReinforce`, entropy
    weight `entropy_regularization`), the argmax cell (or the expectation) at inference. The
    doubly stochastic penalty (`zoo.layers.DoublyStochasticRegularization`, weight
    `attention_regularization`) on the attention weights is added to the training loss.

    Args:
        vocabulary_size: int, size of the caption vocabulary.
        attention_units: int, hidden size of the attention scoring network; defaults to
            `units`.
        attention: "soft" or "hard".
        attention_inference: "argmax" or "expectation": what hard attention reads at
            inference.
        entropy_regularization: float >= 0, the weight of hard attention's entropy term.
        attention_regularization: float >= 0, the weight of the doubly stochastic penalty
            (0 turns it off).
        grid_positions: bool, whether a learned embedding of each grid cell's position is
            added to its features before the decoder reads them (not in the paper, whose
            features come from a large pretrained CNN: it lets a cell say where it is, so
            the cell hard attention reads can be the one a word is about).
        **kwargs: the image encoder, `embedding_dim`, `units`, `dropout` and `dtype`, as
            `zoo.models.RecurrentCaptionerBackbone` takes them, and keras.Model's `name`.

    Example:
    >>> backbone = zoo.models.ShowAttendTellBackbone(1000, image_shape=(64, 64, 3))
    >>> logits = backbone({"images": ..., "decoder_token_ids": ...,
    ...                    "decoder_padding_mask": ...})
    """

    has_attention = True

    def __init__(
        self,
        vocabulary_size,
        attention_units=None,
        attention="soft",
        attention_inference="argmax",
        entropy_regularization=0.01,
        attention_regularization=1.0,
        grid_positions=False,
        **kwargs,
    ):
        checks.one_of(attention, ATTENTIONS, "attention")
        checks.one_of(attention_inference, INFERENCE_RULES, "attention_inference")
        if not isinstance(grid_positions, bool):
            raise ValueError(f"`grid_positions` must be a bool, got {grid_positions!r}.")
        self.attention_units = attention_units
        self.attention_name = attention
        self.attention_inference = attention_inference
        self.entropy_regularization = entropy_regularization
        self.attention_regularization = attention_regularization
        self.grid_positions = grid_positions
        super().__init__(vocabulary_size, **kwargs)

    def _build_decoder(self, dtype):
        self.grid_position_embedding = (
            keras_hub.layers.PositionEmbedding(
                self.grid_shape[0] * self.grid_shape[1], dtype=dtype, name="grid_positions"
            )
            if self.grid_positions
            else None
        )
        self.initial_hidden = keras.layers.Dense(
            self.units, "tanh", dtype=dtype, name="initial_hidden"
        )
        self.initial_memory = keras.layers.Dense(
            self.units, "tanh", dtype=dtype, name="initial_memory"
        )
        scoring = BahdanauAttention(self.attention_units or self.units, dtype=dtype)
        if self.attention_name == "hard":
            scoring = HardAttention(scoring, self.attention_inference, dtype=dtype)
        self.decoder = RecurrentDecoder(
            "lstm",
            self.units,
            attention=scoring,
            attend_previous_state=True,
            context_gate=True,
            dropout=self.dropout,
            dtype=dtype,
            name="decoder",
        )
        self.regularization = (
            DoublyStochasticRegularization(
                self.attention_regularization, dtype=dtype, name="regularization"
            )
            if self.attention_regularization
            else None
        )
        # float32: it reads the logits, as the loss does.
        self.reinforce = (
            HardAttentionReinforce(
                entropy_weight=self.entropy_regularization, dtype="float32", name="reinforce"
            )
            if self.attention_name == "hard"
            else None
        )

    def _logits_from_features(self, features, token_ids, padding_mask, training=None):
        features = self._with_positions(features)
        outputs, weights, *read_positions = self.decoder(
            self._embed(token_ids, training),
            self._initial_states(features),
            features,
            None,
            padding_mask=padding_mask,
            return_attention=True,
            training=training,
        )
        if self.regularization is not None:
            outputs = self.regularization(outputs, weights, padding_mask)
        logits = self._project(outputs)
        if self.reinforce is not None:
            logits = self.reinforce(
                logits, token_ids, padding_mask, weights, *read_positions, training=training
            )
        return logits

    def _with_positions(self, features):
        if self.grid_position_embedding is None:
            return features
        return features + self.grid_position_embedding(features)

    def _initial_states(self, features):
        """Xu et al.: the LSTM's first state from the mean of the grid's feature vectors."""
        pooled = ops.mean(features, axis=1)
        return [[self.initial_hidden(pooled), self.initial_memory(pooled)]]

    def _initial_cache(self, features):
        features = self._with_positions(features)
        state = self.decoder.initial_state(self._initial_states(features))
        return {"decoder_state": state, **self.attention_cache(features)}

    def get_config(self):
        return {
            **super().get_config(),
            "attention_units": self.attention_units,
            "attention": self.attention_name,
            "attention_inference": self.attention_inference,
            "entropy_regularization": self.entropy_regularization,
            "attention_regularization": self.attention_regularization,
            "grid_positions": self.grid_positions,
        }
