"""ImageCaptioner: Seq2Seq's verbs with images as the sources."""

import functools

import keras
import tensorflow as tf

from zoo import checks
from zoo.metrics import caption_bleu
from zoo.tasks.attention_maps import written_tokens
from zoo.tasks.inputs import as_caption_lists
from zoo.tasks.seq2seq import Seq2Seq
from zoo.training.batching import reshuffled
from zoo.vision.images import as_image_batch


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
            `step`, `has_attention` and `grid_shape`: `zoo.models.ImageCaptionerBackbone`
            or `zoo.models.TransformerCaptionerBackbone`.
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
        super().__init__(backbone, None, target_vectorizer, **kwargs)
        self.image_preprocessor = image_preprocessor
        # `call` also takes "image_features" in place of "images" (`fit` on feature grids
        # computed once), which Keras' check of the functional graph's inputs would refuse.
        self.input_spec = None

    def call(self, inputs, training=None):
        if "image_features" in inputs:  # `fit` on feature grids computed once
            return self.backbone.call_with_features(inputs, training=training)
        return super().call(inputs, training=training)

    # === Sources ===
    def check_sources(self, x, name="x"):
        return as_image_batch(x, name)

    def training_pairs(self, x, y, x_name="x", y_name="y", shuffle=False):
        """One (image, caption) pair per caption. When the backbone's image features are
        fixed (a frozen encoder, no augmentation), the pair holds the image's feature grid,
        computed here once per image rather than at every step of every epoch."""
        images, _ = as_image_batch(x, x_name)
        references = self._check_references(images, y, x_name, y_name)
        image_index = [i for i, captions in enumerate(references) for _ in captions]
        captions = tf.constant([caption for captions in references for caption in captions])
        if not self.backbone.has_fixed_features:
            pairs = self.tokenize_pairs(tf.gather(images, image_index), captions)
            pairs = tf.data.Dataset.from_tensor_slices(pairs)
            return reshuffled(pairs) if shuffle else pairs
        grids = self.feature_grids(images)
        pairs = (image_index, self.target_vectorizer.tokenize(captions))
        pairs = tf.data.Dataset.from_tensor_slices(pairs)
        if shuffle:  # the indices, before the grids are gathered: a shuffle buffer of grids
            pairs = reshuffled(pairs)
        # Each grid is stored once and gathered per caption: Flickr8k has 5 per image.
        return pairs.map(functools.partial(_gather_grid, grids))

    def feature_grids(self, images, batch_size=32):
        """The backbone's flattened feature grids of `images` (uint8 pixels or encoded
        bytes), [images, grid cells, channels] in the backbone's compute dtype, computed
        `batch_size` at a time."""

        @tf.function
        def encode(batch):
            return self.backbone.image_features(self.image_preprocessor(batch))

        batches = tf.data.Dataset.from_tensor_slices(images).batch(batch_size)
        return tf.concat([encode(batch) for batch in batches], axis=0)

    def tokenize_sources(self, sources):
        # Images stay as given (uint8 or encoded bytes, compact) until their batch is read.
        return sources

    def training_length(self, image, target_token_ids):
        # Every image is the same size: only the caption's length differs.
        return 1 + tf.minimum(tf.size(target_token_ids), self.max_training_length - 1)

    @property
    def max_training_length(self):
        return self.target_vectorizer.sequence_length - 1

    def encoder_inputs(self, source_tokens):
        if tf.as_dtype(source_tokens.dtype).is_floating:  # grids that `training_pairs` cached
            return {"image_features": source_tokens}
        return {"images": self.image_preprocessor(source_tokens)}

    def generation_inputs(self, sources):
        return self.image_preprocessor(sources), None

    def source_labels(self, source):
        # The attention columns are the grid cells, in row-major order.
        return {}

    def attention_maps(self, result):
        grid_height, grid_width = self.backbone.grid_shape
        end, pad = self.target_vectorizer.end_token, self.target_vectorizer.pad_token
        maps = []
        for weights, output_tokens in zip(
            result["attention"], result["output_tokens"], strict=True
        ):
            caption = written_tokens(output_tokens, end, pad)
            weights = weights[: len(caption)].reshape(len(caption), grid_height, grid_width)
            maps.append({"caption": caption, "weights": weights})
        return maps

    def generation_metrics(self, outputs, references):
        # A lower-casing vectorizer writes lower-case captions: score them case-blind.
        return caption_bleu(outputs, references, lowercase=self.target_vectorizer.lowercase)

    @property
    def vectorizers(self):
        return {self.target_vectorizer}

    def _evaluation_pairs(self, x, y):
        if isinstance(x, tf.data.Dataset):
            raise TypeError(
                "`evaluate` takes images and their captions (lists), not a tf.data.Dataset."
            )
        images, _ = as_image_batch(x, "x")
        return x, self._check_references(images, y, "x", "y")

    @staticmethod
    def _check_references(images, captions, x_name, y_name):
        references = as_caption_lists(captions, y_name)
        checks.same_length(
            images, references, x_name, y_name, note="one entry of captions per image"
        )
        return references


def _gather_grid(grids, image_index, caption):
    return tf.gather(grids, image_index), caption
