"""ImageCaptioner: Seq2Seq's verbs with images as the sources."""

import keras

from zoo.tasks.image_caption_preprocessor import ImageCaptionPreprocessor
from zoo.tasks.seq2seq import Seq2Seq


@keras.saving.register_keras_serializable(package="zoo")
class ImageCaptioner(Seq2Seq):
    """An image captioner that takes images and returns caption strings.

    It is a `Seq2Seq` whose sources are images: `fit`, `predict`, `evaluate`, `save` and
    `export` work as there, and only the source side differs. Images go in as uint8 arrays,
    file paths or encoded JPEG/PNG bytes (`zoo.vision.as_image_batch`); an
    `zoo.vision.ImagePreprocessor` decodes, resizes and normalises them inside the graph,
    batch by batch, where a translator's source vectorizer tokenizes.

    - `fit(images, captions)`: `captions` holds one str per image, or a list of str per image,
      each (image, caption) pair one training example. `x` may also be a tf.data.Dataset of
      (encoded image bytes, caption) string pairs. With a frozen encoder and no augmentation
      (`backbone.has_fixed_features`), `fit` runs the encoder once per image, up front, and
      trains the decoder on the stored feature grids (one per image, held in memory); an
      encoder that trains runs at every step.
    - `predict(images)` returns captions; with `return_attention=True` (attending decoders) also,
      per image, {"caption": the tokens written, "weights": float array
      (len(caption), grid_height, grid_width)} for `zoo.plot_caption_attention`.
    - `evaluate(images, captions)` returns "loss" (with the model's added losses, e.g. the
      doubly stochastic penalty), "token_accuracy" and "bleu_1" to "bleu_4" against all
      reference captions of each image.
    - `export(path)`: `serving_default` takes `inputs`: tf.string [batch] of encoded JPEG/PNG
      bytes and returns `outputs` (captions) and `scores`; with attention, the
      `caption_with_attention` signature also returns `attention` [batch, max_length, grid
      cells] and `output_tokens`.

    Args:
        backbone: a keras.Model over the inputs "images", "decoder_token_ids" and
            "decoder_padding_mask", with `encode(images, None, max_length, return_attention)`,
            `step`, `has_attention` and `grid_shape`: `zoo.models.ShowAndTellBackbone`,
            `ShowAttendTellBackbone` or `TransformerCaptionerBackbone`.
        image_preprocessor: the `zoo.vision.ImagePreprocessor` whose output the backbone reads.
        target_vectorizer: the `zoo.text.TextVectorizer` of the captions.

    Example:
    >>> images, captions = zoo.datasets.shapes_captions(2000, seed=0, image_size=32)
    >>> model = zoo.image_captioner(images, captions, image_size=32, units=128)
    >>> model.fit(images, captions, epochs=10)
    >>> model.predict(images[:2])
    >>> captions, attention = model.predict(images[:1], return_attention=True)
    >>> zoo.plot_caption_attention(images[0], **attention[0])
    >>> model.export("saved_models/captioner/1")
    """

    # Traced once per input kind: uint8 pixels in `predict`, tf.string [None] for export.
    generator_input_signature = None
    attention_signature = "caption_with_attention"
    components = ("backbone", "image_preprocessor", "target_vectorizer")

    def __init__(self, backbone, image_preprocessor, target_vectorizer, **kwargs):
        preprocessor = ImageCaptionPreprocessor(image_preprocessor, target_vectorizer, backbone)
        super().__init__(backbone, None, target_vectorizer, preprocessor=preprocessor, **kwargs)
        self.image_preprocessor = image_preprocessor
        # `call` also takes "image_features" in place of "images" (`fit` on feature grids
        # computed once), which Keras' check of the functional graph's inputs would refuse.
        self.input_spec = None

    def call(self, inputs, training=None):
        if "image_features" in inputs:  # `fit` on feature grids computed once
            return self.backbone.call_with_features(inputs, training=training)
        return super().call(inputs, training=training)
