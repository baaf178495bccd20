"""`zoo.transformer`: builds a Transformer translator from parallel texts."""

from zoo import checks
from zoo.models.cached_encoder_decoder import with_stack_depths
from zoo.models.transformer_backbone import TransformerBackbone
from zoo.models.vectorizers import shared_vectorizer, translation_vectorizers
from zoo.precision import dtype_policy
from zoo.schedules import transformer_optimizer
from zoo.tasks import Seq2Seq

# The options of `TransformerBackbone` that `transformer` forwards; it derives the others.
BACKBONE_OPTIONS = checks.keyword_options(
    TransformerBackbone, excluded=("max_sequence_length", "shared_embeddings", "dtype")
)


def transformer(
    source_texts=None,
    target_texts=None,
    *,
    source_vectorizer=None,
    target_vectorizer=None,
    vocabulary_size=8000,
    shared_vocabulary=False,
    tokenizer_level="subword",
    lowercase=False,
    sequence_length=64,
    num_layers=3,
    label_smoothing=0.1,
    warmup_steps=4000,
    sampler="greedy",
    dtype=None,
    **backbone_options,
):
    """Builds a compiled Transformer translator (Vaswani et al. 2017) from parallel texts.

    Trained as in the paper by default: Adam (beta_2 0.98, epsilon 1e-9) with the warm-up /
    inverse-square-root learning rate of `zoo.schedules.InverseSquareRootSchedule`, and
    label smoothing 0.1. `predict(..., return_attention=True)` returns the last decoder
    layer's cross-attention, averaged over heads.

    Args:
        source_texts: list of str, the corpus to learn the source vocabulary from.
        target_texts: list of str, parallel to `source_texts`.
        source_vectorizer: a ready `zoo.text.TextVectorizer`, instead of learning one.
        target_vectorizer: a ready `zoo.text.TextVectorizer`, instead of learning one.
        vocabulary_size: int, tokens per learned vocabulary.
        shared_vocabulary: bool, whether to learn one vocabulary from both sides, then share
            one embedding table between encoder and decoder (with `tie_embeddings`, the
            paper's three-way tying).
        tokenizer_level: "subword", "word" or "character".
        lowercase: bool, whether learned vectorizers lower-case text.
        sequence_length: int, most tokens per text; longer texts are truncated.
        num_layers: int, layers of the encoder and of the decoder, unless
            `num_encoder_layers` / `num_decoder_layers` say otherwise.
        label_smoothing: float in [0, 1), the loss's label smoothing.
        warmup_steps: int, steps of linear learning-rate warm-up.
        sampler: default decoding strategy ("greedy", "beam", "random" or a Sampler).
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or "auto": mixed bfloat16 on a CPU with bfloat16 units,
            mixed float16 on a GPU, float32 otherwise (see `zoo.dtype_policy`). Logits,
            softmaxes and the loss stay float32.
        **backbone_options: `TransformerBackbone`'s options, with its defaults:
            `num_encoder_layers`, `num_decoder_layers`, `hidden_dim`, `num_heads`,
            `intermediate_dim`, `dropout`, `positions`, `norm_first`, `tie_embeddings`
            (`tied_embeddings`, its former name, is still taken, with a DeprecationWarning).

    Returns:
        A compiled `zoo.tasks.Seq2Seq`.

    Example:
    >>> sources, targets = zoo.datasets.load_translation("tatoeba")
    >>> model = zoo.transformer(sources, targets, hidden_dim=256, num_layers=3)
    >>> model.fit(sources, targets, epochs=10)
    >>> model.predict("I am cold.")
    """
    backbone_options = checks.renamed_option(backbone_options, "tied_embeddings", "tie_embeddings")
    checks.known_options(backbone_options, BACKBONE_OPTIONS, "transformer")
    backbone_options = with_stack_depths(num_layers, backbone_options)
    dtype = dtype_policy(dtype)
    vectorizer_options = (vocabulary_size, tokenizer_level, lowercase, sequence_length)
    if shared_vocabulary:
        if source_vectorizer is None and target_vectorizer is None:
            source_vectorizer = shared_vectorizer(source_texts, target_texts, *vectorizer_options)
        source_vectorizer = target_vectorizer = source_vectorizer or target_vectorizer
    source_vectorizer, target_vectorizer = translation_vectorizers(
        source_texts, target_texts, source_vectorizer, target_vectorizer, *vectorizer_options
    )
    backbone = TransformerBackbone(
        source_vectorizer.vocabulary_size,
        target_vectorizer.vocabulary_size,
        max_sequence_length=max(
            source_vectorizer.sequence_length, target_vectorizer.sequence_length
        ),
        shared_embeddings=shared_vocabulary,
        dtype=dtype,
        **backbone_options,
    )
    model = Seq2Seq(backbone, source_vectorizer, target_vectorizer)
    model.compile(
        optimizer=transformer_optimizer(backbone.hidden_dim, warmup_steps),
        label_smoothing=label_smoothing,
        sampler=sampler,
    )
    return model
