"""`zoo.image_captioner`: builds an image captioner (Show and Tell; Show, Attend and Tell; a
Transformer decoder) from images and their captions."""

from zoo import checks, optimizers
from zoo.models.show_and_tell_backbone import ShowAndTellBackbone
from zoo.models.show_attend_tell_backbone import ShowAttendTellBackbone
from zoo.models.transformer_captioner_backbone import TransformerCaptionerBackbone
from zoo.precision import dtype_policy
from zoo.tasks.image_captioner import ImageCaptioner
from zoo.tasks.inputs import as_caption_lists
from zoo.text import TextVectorizer
from zoo.vision.image_encoders import encoder_normalization
from zoo.vision.image_preprocessor import ImagePreprocessor

BACKBONES = {
    "show-and-tell": ShowAndTellBackbone,
    "show-attend-tell": ShowAttendTellBackbone,
    "transformer": TransformerCaptionerBackbone,
}
# The options of `image_captioner` that only one decoder takes.
DECODER_OPTIONS = {
    "show-and-tell": ("embedding_dim", "units", "image_pooling"),
    "show-attend-tell": (
        "embedding_dim",
        "units",
        "attention_units",
        "attention",
        "attention_inference",
        "entropy_regularization",
        "attention_regularization",
        "grid_positions",
    ),
    "transformer": (
        "hidden_dim",
        "num_layers",
        "num_encoder_layers",
        "num_heads",
        "intermediate_dim",
    ),
}


def image_captioner(
    images=None,
    captions=None,
    *,
    decoder="show-attend-tell",
    encoder="small-cnn",
    image_size=224,
    caption_vectorizer=None,
    vocabulary_size=5000,
    tokenizer_level="word",
    lowercase=True,
    sequence_length=32,
    encoder_filters=(32, 64, 128),
    encoder_batch_norm=True,
    encoder_alpha=1.0,
    encoder_weights=None,
    trainable_encoder=True,
    augmentation=None,
    dropout=0.0,
    learning_rate=1e-3,
    sampler="greedy",
    dtype=None,
    **decoder_options,
):
    """Builds a compiled image captioner; its caption vocabulary is learned from `captions`.

    Nothing is downloaded: keras.applications encoders start from random weights or from a
    local `encoder_weights` file. The decoder's own options go to its backbone
    (`ShowAndTellBackbone`, `ShowAttendTellBackbone` or `TransformerCaptionerBackbone`, whose
    defaults they keep); an option of another decoder raises a TypeError.

    Args:
        images: the training images (any form `zoo.vision.as_image_batch` takes); only their
            count is checked against `captions` here.
        captions: list of str (one caption per image) or of lists of str (several).
        decoder: "show-attend-tell" (default), "show-and-tell" or "transformer".
        encoder: "small-cnn" or a keras.applications name ("mobilenet", "mobilenet_v2",
            "efficientnet_b0", "resnet50"), whose input normalisation the preprocessor uses.
        image_size: int or (height, width), the size images are resized to in the graph.
        caption_vectorizer: a ready `zoo.text.TextVectorizer`, instead of learning one.
        vocabulary_size: int, most tokens in the learned vocabulary.
        tokenizer_level: "word" (default), "subword" or "character".
        lowercase: bool, whether captions are lower-cased.
        sequence_length: int, most tokens per caption (start and end included).
        encoder_filters: list of ints, the small CNN's channels per block.
        encoder_batch_norm: bool, whether the small CNN batch-normalises its convolutions.
        trainable_encoder: bool, or an int n: fine-tune only the encoder's last n layers
            that hold weights (keras.applications encoders).
        augmentation: None or a list of Keras random preprocessing layers, applied to the
            images in training only (mind what they change: a flip swaps left and right).
        dropout: float, dropout in the decoder.
        learning_rate: float, Adam's learning rate (gradients clipped to norm 1).
        sampler: default decoding strategy ("greedy", "beam", "random" or a Sampler).
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or "auto": mixed bfloat16 on a CPU with bfloat16 units,
            mixed float16 on a GPU, float32 otherwise (see `zoo.dtype_policy`). Logits,
            softmaxes and the loss stay float32; a keras.applications encoder keeps the
            global policy (it takes none of its own).
        **decoder_options: the decoder's own options, by `decoder`:
            "show-and-tell": `embedding_dim` (256), `units` (512), `image_pooling` ("max");
            "show-attend-tell": `embedding_dim`, `units`, `attention_units` (None: `units`),
            `attention` ("soft", or "hard": one grid cell per word, Xu et al.'s stochastic
            hard attention), `attention_inference` (hard: "argmax" or "expectation"),
            `entropy_regularization` (hard: 0.01), `attention_regularization` (1.0),
            `grid_positions` (False: True adds a learned embedding of each cell's position);
            "transformer": `hidden_dim` (256), `num_layers` (decoder layers, 2),
            `num_encoder_layers` (over the grid, 1; 0: none), `num_heads` (4),
            `intermediate_dim` (1024).

    Returns:
        A compiled `zoo.tasks.ImageCaptioner`.

    Example:
    >>> images, captions = zoo.datasets.shapes_captions(2000, seed=0, image_size=32)
    >>> model = zoo.image_captioner(images, captions, image_size=32, units=128)
    >>> model.fit(images, captions, epochs=10)
    >>> model.predict(images[:2])  # -> ["a red circle above a blue square", ...]
    """
    checks.one_of(decoder, tuple(BACKBONES), "decoder")
    checks.known_options(
        decoder_options, DECODER_OPTIONS[decoder], f"image_captioner(decoder={decoder!r})"
    )
    dtype = dtype_policy(dtype)
    preprocessor = ImagePreprocessor(image_size, normalization=encoder_normalization(encoder))
    if caption_vectorizer is None:
        references = as_caption_lists(captions, "captions")
        if images is not None and hasattr(images, "__len__"):
            checks.same_length(images, references, "images", "captions")
        caption_vectorizer = TextVectorizer.from_corpus(
            [caption for image_captions in references for caption in image_captions],
            vocabulary_size,
            tokenizer_level,
            lowercase,
            sequence_length,
        )
    encoder_options = {
        "image_shape": preprocessor.image_shape,
        "encoder": encoder,
        "encoder_filters": encoder_filters,
        "encoder_batch_norm": encoder_batch_norm,
        "encoder_alpha": encoder_alpha,
        "encoder_weights": encoder_weights,
        "trainable_encoder": trainable_encoder,
        "augmentation": augmentation,
        "dtype": dtype,
    }
    if decoder == "transformer":
        decoder_options["max_sequence_length"] = caption_vectorizer.sequence_length
        if "num_layers" in decoder_options:
            decoder_options["num_decoder_layers"] = decoder_options.pop("num_layers")
    backbone = BACKBONES[decoder](
        caption_vectorizer.vocabulary_size, **encoder_options, dropout=dropout, **decoder_options
    )
    model = ImageCaptioner(backbone, preprocessor, caption_vectorizer)
    model.compile(optimizer=optimizers.Adam(learning_rate, clipnorm=1.0), sampler=sampler)
    return model
