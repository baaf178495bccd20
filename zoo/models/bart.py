"""`zoo.bart`: builds a BART model from texts."""

from zoo import checks
from zoo.models.bart_backbone import BartBackbone
from zoo.models.cached_encoder_decoder import with_stack_depths
from zoo.models.vectorizers import shared_vectorizer
from zoo.precision import dtype_policy
from zoo.schedules import transformer_optimizer
from zoo.tasks import Seq2Seq
from zoo.text import TextVectorizer, add_mask_token

# The options of `BartBackbone` that `bart` forwards; it derives the others.
BACKBONE_OPTIONS = checks.keyword_options(
    BartBackbone, excluded=("vocabulary_size", "max_sequence_length", "dtype")
)


def bart(
    texts=None,
    targets=None,
    *,
    vectorizer=None,
    vocabulary_size=8000,
    tokenizer_level="subword",
    lowercase=False,
    sequence_length=64,
    num_layers=3,
    label_smoothing=0.1,
    warmup_steps=4000,
    learning_rate_scale=1.0,
    sampler="greedy",
    dtype=None,
    **backbone_options,
):
    """Builds a compiled BART (Lewis et al. 2020) text-to-text model from paired texts.

    One vocabulary, learned from `texts` and `targets` together (or the given
    `vectorizer`), serves both sides, and holds the "[MASK]" token that BART's
    pre-training (`model.pretrain(texts, objective="bart")`: text infilling and sentence
    permutation) writes in place of each masked span. Then `fit` fine-tunes it on the
    pairs. The defaults are sized for a CPU; BART-base is num_layers=6, hidden_dim=768,
    num_heads=12, intermediate_dim=3072. Trained as the Transformer is (Adam with warm-up
    and inverse-square-root decay, label smoothing 0.1).
    `predict(..., return_attention=True)` returns the last decoder layer's
    cross-attention, averaged over heads.

    Args:
        texts: list of str, the inputs, to learn the vocabulary from.
        targets: list of str, parallel to `texts`.
        vectorizer: a ready `zoo.text.TextVectorizer` for both sides, instead of learning
            one (its vocabulary needs "[MASK]" for `pretrain`, see
            `zoo.text.add_mask_token`).
        vocabulary_size: int, tokens of the learned vocabulary.
        tokenizer_level: "subword", "word" or "character".
        lowercase: bool, whether a learned vectorizer lower-cases text.
        sequence_length: int, most tokens per text; longer texts are truncated.
        num_layers: int, layers of the encoder and of the decoder, unless
            `num_encoder_layers` / `num_decoder_layers` say otherwise.
        label_smoothing: float in [0, 1), the loss's label smoothing.
        warmup_steps: int, steps of linear learning-rate warm-up.
        learning_rate_scale: positive float, a factor on the Transformer's schedule: post-LN
            BART diverges at peaks that pre-LN models take (small models on few steps of
            warm-up train well at 0.25).
        sampler: default decoding strategy ("greedy", "beam", "random" or a Sampler).
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or "auto" (see `zoo.dtype_policy`). Logits, softmaxes and
            the loss stay float32.
        **backbone_options: `BartBackbone`'s options, with its defaults:
            `num_encoder_layers`, `num_decoder_layers`, `hidden_dim`, `num_heads`,
            `intermediate_dim`, `dropout`.

    Returns:
        A compiled `zoo.tasks.Seq2Seq` whose source and target vectorizer are one object.

    Example:
    >>> model = zoo.bart(sources, targets, num_layers=3)
    >>> model.pretrain(monolingual_texts, objective="bart", epochs=10)
    >>> model.fit(sources, targets, epochs=10)
    >>> model.predict("I am cold.")
    """
    checks.known_options(backbone_options, BACKBONE_OPTIONS, "bart")
    checks.positive_number(learning_rate_scale, "learning_rate_scale")
    backbone_options = with_stack_depths(num_layers, backbone_options)
    dtype = dtype_policy(dtype)
    if vectorizer is None:
        learned = shared_vectorizer(
            texts, targets, vocabulary_size, tokenizer_level, lowercase, sequence_length
        )
        vectorizer = TextVectorizer(add_mask_token(learned.vocabulary), lowercase, sequence_length)
    backbone = BartBackbone(
        vectorizer.vocabulary_size,
        max_sequence_length=vectorizer.sequence_length,
        dtype=dtype,
        **backbone_options,
    )
    model = Seq2Seq(backbone, vectorizer, vectorizer)
    model.compile(
        optimizer=transformer_optimizer(backbone.hidden_dim, warmup_steps, learning_rate_scale),
        label_smoothing=label_smoothing,
        sampler=sampler,
    )
    return model
