"""`zoo.lstm_translator` and `zoo.attention_translator`: build recurrent translators from
parallel texts."""

import warnings

import numpy as np

from zoo import checks
from zoo.models.recurrent_translator_backbone import ATTENTIONS, RecurrentTranslatorBackbone
from zoo.models.vectorizers import translation_vectorizers
from zoo.precision import dtype_policy
from zoo.tasks import Seq2Seq


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
