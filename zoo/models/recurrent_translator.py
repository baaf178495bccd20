"""Recurrent encoder-decoders: Sutskever et al. (2014), and with attention Bahdanau et al.
(2015) and Luong et al. (2015)."""

import warnings

import keras
import numpy as np
from keras import ops

from zoo import checks
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
from zoo.models.vectorizers import translation_vectorizers
from zoo.precision import dtype_policy
from zoo.tasks import Seq2Seq

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


def set_embedding_matrix(embedding, matrix, argument):
    """Loads a given (pretrained) matrix into an Embedding layer, checking its shape."""
    matrix = np.asarray(matrix, dtype="float32")
    expected = tuple(embedding.embeddings.shape)
    if matrix.shape != expected:
        raise ValueError(
            f"`{argument}` must have shape (vocabulary_size, embedding_dim) = {expected}, "
            f"got {matrix.shape}."
        )
    embedding.embeddings.assign(matrix)


# The options of `RecurrentTranslatorBackbone` that `lstm_translator` forwards.
BACKBONE_OPTIONS = checks.keyword_options(RecurrentTranslatorBackbone, excluded=("dtype",))


def lstm_translator(
    source_texts=None,
    target_texts=None,
    *,
    source_vectorizer=None,
    target_vectorizer=None,
    vocabulary_size=8000,
    tokenizer_level="subword",
    lowercase=False,
    sequence_length=64,
    pretrained_embeddings=None,
    sampler="greedy",
    dtype=None,
    **backbone_options,
):
    """Builds a compiled recurrent translator (Sutskever et al. 2014) from parallel texts.

    The vocabularies are learned from `source_texts` and `target_texts` unless vectorizers
    are given. See `RecurrentTranslatorBackbone` for the architecture options, and
    `zoo.attention_translator` for the same model with attention.

    Args:
        source_texts: list of str, the corpus to learn the source vocabulary from.
        target_texts: list of str, parallel to `source_texts`, for the target vocabulary.
        source_vectorizer: a ready `zoo.text.TextVectorizer`, instead of learning one.
        target_vectorizer: a ready `zoo.text.TextVectorizer`, instead of learning one.
        vocabulary_size: int, tokens per learned vocabulary.
        tokenizer_level: "subword", "word" or "character".
        lowercase: bool, whether learned vectorizers lower-case text.
        sequence_length: int, most tokens per text; longer texts are truncated.
        pretrained_embeddings: a dict with keys "source" and/or "target" mapping to
            matrices (e.g. pretrained word vectors, shape `(vocabulary_size, embedding_dim)`
            in the vectorizer's token order) that those embeddings start from;
            `trainable_embeddings=False` keeps them as they are.
        sampler: default decoding strategy ("greedy", "beam", "random" or a Sampler).
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or "auto": mixed bfloat16 on a CPU with bfloat16 units,
            mixed float16 on a GPU, float32 otherwise (see `zoo.dtype_policy`). Logits,
            softmaxes and the loss stay float32.
        **backbone_options: `RecurrentTranslatorBackbone`'s options, with its defaults:
            `cell`, `embedding_dim`, `units`, `num_layers`, `bidirectional`, `residual`,
            `layer_norm`, `dropout`, `reverse_source`, `embeddings_initializer` (a dict of
            matrices there, the former spelling of `pretrained_embeddings`, is still taken,
            with a DeprecationWarning), `trainable_embeddings`, `attention`,
            `input_feeding`, `attention_units`, `num_heads`, `window`.

    Returns:
        A compiled `zoo.tasks.Seq2Seq`.

    Example:
    >>> sources, targets = zoo.datasets.load_translation("tatoeba")
    >>> model = zoo.lstm_translator(sources, targets, units=256, num_layers=2)
    >>> model.fit(sources, targets, epochs=1)
    >>> model.predict("I am cold.")
    """
    checks.known_options(backbone_options, BACKBONE_OPTIONS, "lstm_translator")
    dtype = dtype_policy(dtype)
    source_vectorizer, target_vectorizer = translation_vectorizers(
        source_texts,
        target_texts,
        source_vectorizer,
        target_vectorizer,
        vocabulary_size,
        tokenizer_level,
        lowercase,
        sequence_length,
    )
    if isinstance(backbone_options.get("embeddings_initializer"), dict):
        warnings.warn(
            "Pass embedding matrices as `pretrained_embeddings`; `embeddings_initializer` as "
            "a dict is deprecated.",
            DeprecationWarning,
            stacklevel=2,
        )
        if pretrained_embeddings is not None:
            raise TypeError(
                "Pass `pretrained_embeddings`, not also a dict `embeddings_initializer`."
            )
        pretrained_embeddings = backbone_options.pop("embeddings_initializer")
    embedding_matrices = pretrained_embeddings or {}
    if not isinstance(embedding_matrices, dict) or set(embedding_matrices) - {"source", "target"}:
        raise ValueError(
            "`pretrained_embeddings` must be a dict with the keys 'source' and/or 'target', "
            f"got {type(embedding_matrices).__name__}: {list(embedding_matrices)}."
        )
    backbone = RecurrentTranslatorBackbone(
        source_vectorizer.vocabulary_size,
        target_vectorizer.vocabulary_size,
        dtype=dtype,
        **backbone_options,
    )
    for side, embedding in (
        ("source", backbone.encoder_embedding),
        ("target", backbone.decoder_embedding),
    ):
        if side in embedding_matrices:
            set_embedding_matrix(
                embedding, embedding_matrices[side], f"pretrained_embeddings['{side}']"
            )
    model = Seq2Seq(backbone, source_vectorizer, target_vectorizer)
    model.compile(sampler=sampler)
    return model


def attention_translator(source_texts=None, target_texts=None, attention="bahdanau", **options):
    """Builds a compiled recurrent translator that attends to every source token.

    The recurrent encoder-decoder of `zoo.lstm_translator` (and all its options), where
    each decoder step also reads an attention-weighted sum of the encoder outputs, so the
    decoder is no longer limited to one fixed vector. `predict(..., return_attention=True)`
    returns the weights and `export` adds a `translate_with_attention` signature.

    Args:
        source_texts: list of str, the corpus to learn the source vocabulary from.
        target_texts: list of str, parallel to `source_texts`.
        attention: "bahdanau" (Bahdanau et al. 2015: additive scores on the previous
            decoder state, context fed into the recurrence); "luong-dot", "luong-general",
            "luong-concat" (Luong et al. 2015: global attention on the current decoder
            state, output tanh(W [context; h])); "luong-local" (local-p: a predicted
            aligned position with a Gaussian window of half-width `window`) and
            "luong-local-m" (monotonic: aligned with the target position); "scaled-dot"
            and "multi-head" (`num_heads`; Vaswani et al. 2017 scores on recurrent states).
        **options: `input_feeding`, `attention_units`, `num_heads`, `window`, and every
            option of `zoo.lstm_translator`.

    Returns:
        A compiled `zoo.tasks.Seq2Seq`.

    Example:
    >>> model = zoo.attention_translator(sources, targets, attention="luong-general",
    ...                                  input_feeding=True, units=256)
    >>> model.fit(sources, targets, epochs=5)
    >>> translations, attention = model.predict(["I am cold."], return_attention=True)
    >>> zoo.plot_attention(**attention[0])
    """
    if attention is None:
        raise ValueError(
            f"`attention` must be one of {ATTENTIONS}, got None (for no attention use "
            "zoo.lstm_translator)."
        )
    return lstm_translator(source_texts, target_texts, attention=attention, **options)
