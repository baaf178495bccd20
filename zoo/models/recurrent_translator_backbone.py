"""Recurrent encoder-decoders, Sutskever et al. (2014), and with attention Bahdanau et al.
(2015) and Luong et al. (2015): their backbone."""

import keras
from keras import ops

from zoo.decoding.attention_buffer import with_attention_buffer
from zoo.layers.bahdanau_attention import BahdanauAttention
from zoo.layers.luong_attention import LuongAttention
from zoo.layers.luong_local_attention import LuongLocalAttention
from zoo.layers.multi_head_attention import MultiHeadAttention
from zoo.layers.recurrent_decoder import RecurrentDecoder
from zoo.layers.recurrent_encoder import RecurrentEncoder
from zoo.layers.reverse_padded_sequence import ReversePaddedSequence
from zoo.layers.scaled_dot_product_attention import ScaledDotProductAttention
from zoo.models.inputs import translation_inputs
from zoo.models.recurrent_decoding import RecurrentDecoding

ATTENTIONS = (
    "bahdanau",
    "luong-dot",
    "luong-general",
    "luong-concat",
    "luong-local",
    "luong-local-m",
    "scaled-dot",
    "multi-head",
)


@keras.saving.register_keras_serializable(package="zoo")
class RecurrentTranslatorBackbone(RecurrentDecoding):
    """A stacked LSTM/GRU encoder-decoder, with or without attention over the source.

    Without attention it is the translator of Sutskever et al. (2014): the encoder's final
    states start the decoder, which sees nothing else of the source. With attention every
    decoder step also reads a weighted sum of all encoder outputs (Bahdanau et al. 2015,
    Luong et al. 2015); see `zoo.layers.RecurrentDecoder`.

    The functional graph is the teacher-forced training graph: it maps the inputs
    `encoder_token_ids`, `encoder_padding_mask`, `decoder_token_ids` and
    `decoder_padding_mask` to next-token logits. `encode` and `step` run the same
    layers one token at a time for the samplers in `zoo.decoding` (`step` comes from
    `RecurrentDecoding`).

    Args:
        source_vocabulary_size: int, size of the source vocabulary.
        target_vocabulary_size: int, size of the target vocabulary.
        cell: "lstm" or "gru".
        embedding_dim: int, size of the token embeddings.
        units: int, size of every recurrent layer's state. A bidirectional encoder
            gives each direction `units // 2`, so its concatenated states fit the decoder.
        num_layers: int, recurrent layers in the encoder and in the decoder; decoder
            layer i starts from the final state of encoder layer i.
        bidirectional: bool, whether the encoder reads the source both ways.
        residual: bool, whether each stacked layer after the first adds its input to its output.
        layer_norm: bool, whether to layer-normalise between stacked layers.
        dropout: float, dropout on embeddings and between layers.
        reverse_source: bool, whether to feed the source backwards (Sutskever's trick).
            Attention weights still index the source as written.
        embeddings_initializer: initializer for both embedding tables.
        trainable_embeddings: bool, whether the embedding tables are trained.
        attention: None, or one of `ATTENTIONS`: "bahdanau" (additive, on the previous
            decoder state), "luong-dot", "luong-general", "luong-concat" (global, on the
            current decoder state), "luong-local" (local-p) and "luong-local-m", "scaled-dot"
            and "multi-head".
        input_feeding: bool, whether to feed each attentional state into the next step
            (Luong et al. 2015).
        attention_units: int, hidden size of the additive scoring networks ("bahdanau",
            "luong-concat"); defaults to `units`.
        num_heads: int, heads of "multi-head" attention; must divide `units`.
        window: int, half-width D of the local attention window.
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or a `keras.DTypePolicy`: every layer's policy, as in
            keras-hub backbones. Under a mixed policy the layers compute in 16 bits and
            keep float32 weights; the attention softmax and the logits are float32.

    Example:
    >>> backbone = zoo.models.RecurrentTranslatorBackbone(8000, 8000, attention="bahdanau")
    >>> logits = backbone({"encoder_token_ids": ..., "encoder_padding_mask": ...,
    ...                    "decoder_token_ids": ..., "decoder_padding_mask": ...})
    """

    def __init__(
        self,
        source_vocabulary_size,
        target_vocabulary_size,
        cell="lstm",
        embedding_dim=256,
        units=512,
        num_layers=1,
        bidirectional=False,
        residual=False,
        layer_norm=False,
        dropout=0.0,
        reverse_source=False,
        embeddings_initializer="uniform",
        trainable_embeddings=True,
        attention=None,
        input_feeding=False,
        attention_units=None,
        num_heads=4,
        window=10,
        dtype=None,
        **kwargs,
    ):
        # === Config ===
        self.source_vocabulary_size = source_vocabulary_size
        self.target_vocabulary_size = target_vocabulary_size
        self.cell = cell
        self.embedding_dim = embedding_dim
        self.units = units
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.residual = residual
        self.layer_norm = layer_norm
        self.dropout = dropout
        self.reverse_source = reverse_source
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.trainable_embeddings = trainable_embeddings
        self.attention = attention
        self.input_feeding = input_feeding
        self.attention_units = attention_units
        self.num_heads = num_heads
        self.window = window

        # === Layers ===
        stack = {
            "cell": cell,
            "units": units,
            "num_layers": num_layers,
            "residual": residual,
            "layer_norm": layer_norm,
            "dropout": dropout,
            "dtype": dtype,
        }
        self.source_reverser = (
            ReversePaddedSequence(dtype=dtype, name="source_reverser") if reverse_source else None
        )
        self.encoder_embedding = keras.layers.Embedding(
            source_vocabulary_size,
            embedding_dim,
            embeddings_initializer=embeddings_initializer,
            trainable=trainable_embeddings,
            dtype=dtype,
            name="encoder_embedding",
        )
        self.decoder_embedding = keras.layers.Embedding(
            target_vocabulary_size,
            embedding_dim,
            embeddings_initializer=embeddings_initializer,
            trainable=trainable_embeddings,
            dtype=dtype,
            name="decoder_embedding",
        )
        self.embedding_dropout = keras.layers.Dropout(
            dropout, dtype=dtype, name="embedding_dropout"
        )
        self.encoder = RecurrentEncoder(bidirectional=bidirectional, name="encoder", **stack)
        self.decoder = RecurrentDecoder(
            attention=_attention_layer(attention, units, attention_units, num_heads, window, dtype),
            attend_previous_state=attention == "bahdanau",
            input_feeding=input_feeding,
            name="decoder",
            **stack,
        )
        self.output_projection = keras.layers.Dense(
            target_vocabulary_size, dtype=dtype, name="output_projection"
        )

        # === Functional Model ===
        inputs = translation_inputs()
        encoder_outputs, encoder_states = self._run_encoder(
            inputs["encoder_token_ids"], inputs["encoder_padding_mask"]
        )
        decoder_outputs = self.decoder(
            self.embedding_dropout(self.decoder_embedding(inputs["decoder_token_ids"])),
            encoder_states,
            encoder_outputs,
            inputs["encoder_padding_mask"],
            padding_mask=inputs["decoder_padding_mask"],
        )
        # float32 whatever the policy: the loss and the samplers read them.
        logits = ops.cast(self.output_projection(decoder_outputs), "float32")
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype, **kwargs)

    def _run_encoder(self, token_ids, padding_mask, training=None):
        """Returns the encoder outputs (in source order) and each layer's final states."""
        if self.source_reverser is not None:
            token_ids = self.source_reverser(token_ids, padding_mask=padding_mask)
        x = self.embedding_dropout(self.encoder_embedding(token_ids), training=training)
        outputs, final_states = self.encoder(x, padding_mask=padding_mask, training=training)
        if self.source_reverser is not None:
            outputs = self.source_reverser(outputs, padding_mask=padding_mask)
        return outputs, final_states

    def attention_weights(self, inputs):
        """The decoder's attention over the source when it reads the given (teacher-forced)
        inputs: float32 [batch, decoder_length, source_length]."""
        self._require_attention()
        encoder_outputs, encoder_states = self._run_encoder(
            inputs["encoder_token_ids"], inputs["encoder_padding_mask"], training=False
        )
        _, weights = self.decoder(
            self.decoder_embedding(inputs["decoder_token_ids"]),
            encoder_states,
            encoder_outputs,
            inputs["encoder_padding_mask"],
            padding_mask=inputs["decoder_padding_mask"],
            training=False,
            return_attention=True,
        )
        return ops.cast(weights, "float32")

    # === Decode functions ===
    def encode(self, encoder_token_ids, encoder_padding_mask, max_length, return_attention=False):
        """Runs the encoder; returns the decoder's initial cache for `max_length` steps.

        With `return_attention`, the cache also holds a zeroed float32 "attention_weights"
        buffer [batch, source_length, max_length] that `step` fills column by column.
        """
        outputs, final_states = self._run_encoder(
            encoder_token_ids, encoder_padding_mask, training=False
        )
        cache = {"decoder_state": self.decoder.initial_state(final_states)}
        if self.has_attention:
            cache.update(self.attention_cache(outputs, encoder_padding_mask))
        if return_attention:
            self._require_attention()
            batch_size, source_length = keras.ops.shape(encoder_token_ids)[:2]
            cache = with_attention_buffer(cache, batch_size, source_length, max_length)
        return cache

    @property
    def has_attention(self):
        """Whether the decoder attends to the source (and can return its weights)."""
        return self.attention is not None

    def _require_attention(self):
        if not self.has_attention:
            raise ValueError("This model has no attention weights to return (attention=None).")

    def get_config(self):
        return {
            **super().get_config(),
            "source_vocabulary_size": self.source_vocabulary_size,
            "target_vocabulary_size": self.target_vocabulary_size,
            "cell": self.cell,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "num_layers": self.num_layers,
            "bidirectional": self.bidirectional,
            "residual": self.residual,
            "layer_norm": self.layer_norm,
            "dropout": self.dropout,
            "reverse_source": self.reverse_source,
            "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
            "trainable_embeddings": self.trainable_embeddings,
            "attention": self.attention,
            "input_feeding": self.input_feeding,
            "attention_units": self.attention_units,
            "num_heads": self.num_heads,
            "window": self.window,
        }


def _attention_layer(attention, units, attention_units, num_heads, window, dtype=None):
    """The scoring layer for an `attention` name (None for no attention)."""
    if attention is None:
        return None
    if attention not in ATTENTIONS:
        raise ValueError(f"`attention` must be None or one of {ATTENTIONS}, got {attention!r}.")
    attention_units = attention_units or units
    if attention == "multi-head" and (not isinstance(num_heads, int) or units % num_heads):
        raise ValueError(
            f"`num_heads` must be an int that divides `units` ({units}), got {num_heads!r}."
        )
    layers = {
        "bahdanau": lambda: BahdanauAttention(attention_units, dtype=dtype),
        "luong-dot": lambda: LuongAttention("dot", dtype=dtype),
        "luong-general": lambda: LuongAttention("general", dtype=dtype),
        "luong-concat": lambda: LuongAttention("concat", units=attention_units, dtype=dtype),
        "luong-local": lambda: LuongLocalAttention(
            "general", window=window, predictive=True, dtype=dtype
        ),
        "luong-local-m": lambda: LuongLocalAttention(
            "general", window=window, predictive=False, dtype=dtype
        ),
        "scaled-dot": lambda: ScaledDotProductAttention(dtype=dtype),
        "multi-head": lambda: MultiHeadAttention(num_heads, dtype=dtype),
    }
    return layers[attention]()
