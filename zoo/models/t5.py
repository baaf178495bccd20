"""`zoo.t5`: builds a T5 text-to-text model from texts."""

import keras

from zoo import checks
from zoo.models.cached_encoder_decoder import with_stack_depths
from zoo.models.t5_backbone import T5Backbone
from zoo.models.vectorizers import shared_vectorizer
from zoo.precision import dtype_policy
from zoo.tasks import Seq2Seq
from zoo.tasks.inputs import as_text_list
from zoo.text import TextVectorizer, add_sentinels

# The options of `T5Backbone` that `t5` forwards; the vocabulary gives its size.
BACKBONE_OPTIONS = checks.keyword_options(T5Backbone, excluded=("dtype",))


def t5(
    texts=None,
    targets=None,
    *,
    vectorizer=None,
    vocabulary_size=8000,
    tokenizer_level="subword",
    lowercase=False,
    sequence_length=64,
    sentinels=100,
    num_layers=3,
    label_smoothing=0.0,
    learning_rate=0.01,
    sampler="greedy",
    dtype=None,
    **backbone_options,
):
    """Builds a compiled T5 (Raffel et al. 2020) text-to-text model from paired texts.

    One vocabulary, learned from `texts` and `targets` together (or the given
    `vectorizer`), serves both sides, as T5's single SentencePiece vocabulary does; being
    shared, it also holds the `sentinels` that span-corruption pre-training
    (`Seq2Seq.pretrain`) puts in place of the dropped spans. The defaults are sized for a
    CPU. T5-small is num_layers=6, hidden_dim=512, num_heads=8 (key_value_dim 64),
    intermediate_dim=2048, dropout=0.1, 32 buckets up to distance 128 and a 32k vocabulary
    (60M parameters); T5.1.1-small is num_layers=8, hidden_dim=512, num_heads=6,
    key_value_dim=64, intermediate_dim=1024, feed_forward="gated-gelu",
    tie_embeddings=False, with no dropout in pre-training. `predict(...,
    return_attention=True)` returns the last decoder layer's cross-attention, averaged over
    heads.

    Trained as T5 was: Adafactor (`keras.optimizers.Adafactor`: factored second moments, no
    momentum, updates clipped to RMS 1 and scaled by each weight's RMS) whose step is
    min(learning_rate, 1/sqrt(step)) — T5's constant 0.01 for 10^4 steps, then its
    inverse-square-root decay — and no label smoothing.

    Args:
        texts: list of str, the inputs, to learn the vocabulary from.
        targets: list of str, parallel to `texts`.
        vectorizer: a ready `zoo.text.TextVectorizer` for both sides, instead of learning one.
        vocabulary_size: int, tokens of the learned vocabulary.
        tokenizer_level: "subword", "word" or "character".
        lowercase: bool, whether a learned vectorizer lower-cases text.
        sequence_length: int, most tokens per text; longer texts are truncated.
        sentinels: int, sentinel tokens appended to a learned vocabulary for `pretrain`
            (see `zoo.text.add_sentinels`; T5 has 100), or 0 for none.
        num_layers: int, layers of the encoder and of the decoder, unless
            `num_encoder_layers` / `num_decoder_layers` say otherwise.
        label_smoothing: float in [0, 1), the loss's label smoothing.
        learning_rate: float, Adafactor's step size until 1/sqrt(step) falls below it.
        sampler: default decoding strategy ("greedy", "beam", "random" or a Sampler).
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or "auto": mixed bfloat16 on a CPU with bfloat16 units,
            mixed float16 on a GPU, float32 otherwise (see `zoo.dtype_policy`). Logits,
            softmaxes and the loss stay float32.
        **backbone_options: `T5Backbone`'s options, with its defaults:
            `num_encoder_layers`, `num_decoder_layers`, `hidden_dim`, `num_heads`,
            `intermediate_dim`, `key_value_dim`, `dropout`, `feed_forward`, `num_buckets`,
            `max_distance`, `tie_embeddings`, `layer_norm_epsilon`.

    Returns:
        A compiled `zoo.tasks.Seq2Seq` whose source and target vectorizer are one object.

    Example:
    >>> sources, targets = zoo.datasets.load_translation("tatoeba")
    >>> model = zoo.t5(sources, targets, num_layers=3, feed_forward="gated-gelu")
    >>> model.fit(sources, targets, epochs=10)
    >>> model.predict("I am cold.")
    """
    checks.known_options(backbone_options, BACKBONE_OPTIONS, "t5")
    backbone_options = with_stack_depths(num_layers, backbone_options)
    if (
        isinstance(sentinels, bool)
        or not isinstance(sentinels, int)
        or sentinels < 0
        or sentinels == 1
    ):
        raise ValueError(f"`sentinels` must be 0 or an int of at least 2, got {sentinels!r}.")
    compile_options = t5_compile_options(learning_rate, label_smoothing, sampler)
    dtype = dtype_policy(dtype)
    if vectorizer is None:
        texts, _ = as_text_list(texts, "texts")
        targets, _ = as_text_list(targets, "targets")
        vectorizer = shared_vectorizer(
            texts, targets, vocabulary_size, tokenizer_level, lowercase, sequence_length
        )
        if sentinels:
            vectorizer = TextVectorizer(
                add_sentinels(vectorizer.vocabulary, sentinels), lowercase, sequence_length
            )
    backbone = T5Backbone(vectorizer.vocabulary_size, dtype=dtype, **backbone_options)
    model = Seq2Seq(backbone, vectorizer, vectorizer)
    model.compile(**compile_options)
    return model


def t5_compile_options(learning_rate, label_smoothing, sampler):
    """The `Seq2Seq.compile` arguments that train a T5 as T5 was (see `t5`), checked.

    Args:
        learning_rate: float, Adafactor's step size until 1/sqrt(step) falls below it.
        label_smoothing: float in [0, 1), the loss's label smoothing.
        sampler: default decoding strategy ("greedy", "beam", "random" or a Sampler).

    Returns:
        dict of keyword arguments for `Seq2Seq.compile`.
    """
    checks.positive_number(learning_rate, "learning_rate")
    # Adafactor rather than the Transformer's Adam with `InverseSquareRootSchedule`: T5's
    # choice, and on the tests' small corpus the one that memorised it (bench/README.md,
    # "Figures behind choices in the code").
    return {
        "optimizer": keras.optimizers.Adafactor(learning_rate=learning_rate),
        "label_smoothing": label_smoothing,
        "sampler": sampler,
    }
