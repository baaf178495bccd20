"""`zoo.convs2s`: builds a ConvS2S translator from parallel texts."""

from zoo import checks, optimizers
from zoo.models.cached_encoder_decoder import with_stack_depths
from zoo.models.convs2s_backbone import ConvS2SBackbone
from zoo.models.vectorizers import translation_vectorizers
from zoo.precision import dtype_policy
from zoo.tasks import Seq2Seq

# The options of `ConvS2SBackbone` that `convs2s` forwards; the vectorizers give the rest.
BACKBONE_OPTIONS = checks.keyword_options(
    ConvS2SBackbone, excluded=("max_sequence_length", "dtype")
)


def convs2s(
    source_texts=None,
    target_texts=None,
    *,
    source_vectorizer=None,
    target_vectorizer=None,
    vocabulary_size=8000,
    tokenizer_level="subword",
    lowercase=False,
    sequence_length=64,
    num_layers=4,
    label_smoothing=0.1,
    learning_rate=1e-3,
    sampler="greedy",
    dtype=None,
    **backbone_options,
):
    """Builds a compiled ConvS2S translator (Gehring et al. 2017) from parallel texts.

    Trained with Adam (gradient norm clipped to 0.1, as fairseq clips ConvS2S's) and label
    smoothing 0.1 by default. `predict(..., return_attention=True)` returns every decoder
    layer's attention (`zoo.plot_attention` draws the last).

    Args:
        source_texts: list of str, the corpus to learn the source vocabulary from.
        target_texts: list of str, parallel to `source_texts`.
        source_vectorizer: a ready `zoo.text.TextVectorizer`, instead of learning one.
        target_vectorizer: a ready `zoo.text.TextVectorizer`, instead of learning one.
        vocabulary_size: int, tokens per learned vocabulary.
        tokenizer_level: "subword", "word" or "character".
        lowercase: bool, whether learned vectorizers lower-case text.
        sequence_length: int, most tokens per text; longer texts are truncated.
        num_layers: int, layers of the encoder and of the decoder, unless
            `num_encoder_layers` / `num_decoder_layers` say otherwise.
        label_smoothing: float in [0, 1), the loss's label smoothing.
        learning_rate: float, Adam's learning rate.
        sampler: default decoding strategy ("greedy", "beam", "random" or a Sampler).
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or "auto" (see `zoo.dtype_policy`).
        **backbone_options: `ConvS2SBackbone`'s options, with its defaults:
            `num_encoder_layers`, `num_decoder_layers`, `embedding_dim`, `channels`,
            `kernel_size`, `dropout`.

    Returns:
        A compiled `zoo.tasks.Seq2Seq`.

    Example:
    >>> sources, targets = zoo.datasets.load_translation("tatoeba")
    >>> model = zoo.convs2s(sources, targets, num_layers=4, channels=256)
    >>> model.fit(sources, targets, epochs=10)
    >>> model.predict("I am cold.")
    """
    checks.known_options(backbone_options, BACKBONE_OPTIONS, "convs2s")
    backbone_options = with_stack_depths(num_layers, backbone_options)
    checks.positive_number(learning_rate, "learning_rate")
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
    backbone = ConvS2SBackbone(
        source_vectorizer.vocabulary_size,
        target_vectorizer.vocabulary_size,
        max_sequence_length=max(
            source_vectorizer.sequence_length, target_vectorizer.sequence_length
        ),
        dtype=dtype,
        **backbone_options,
    )
    model = Seq2Seq(backbone, source_vectorizer, target_vectorizer)
    model.compile(
        optimizer=optimizers.Adam(learning_rate, clipnorm=0.1),
        label_smoothing=label_smoothing,
        sampler=sampler,
    )
    return model
