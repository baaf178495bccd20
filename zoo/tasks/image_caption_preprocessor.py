"""ImageCaptionPreprocessor: a `TextPairPreprocessor` whose sources are images."""

import functools

import tensorflow as tf

from zoo import checks
from zoo.metrics import caption_bleu
from zoo.tasks.attention_maps import written_tokens
from zoo.tasks.inputs import as_caption_lists
from zoo.tasks.text_pair_preprocessor import TextPairPreprocessor
from zoo.training.batching import reshuffled
from zoo.vision.image_inputs import as_image_batch


class ImageCaptionPreprocessor(TextPairPreprocessor):
    """The sources and captions of an `ImageCaptioner`.

    Images go in as uint8 arrays, file paths or encoded JPEG/PNG bytes
    (`zoo.vision.as_image_batch`) and stay so, compact, until their batch is read; the
    `image_preprocessor` then decodes, resizes and normalises them in the graph. With a
    frozen encoder and no augmentation (`backbone.has_fixed_features`), the training pairs
    hold each image's feature grid instead, computed once.

    Args:
        image_preprocessor: the `zoo.vision.ImagePreprocessor` whose output the backbone reads.
        target_vectorizer: the `zoo.text.TextVectorizer` of the captions.
        backbone: the captioner's backbone, whose `image_features` make the grids.
    """

    def __init__(self, image_preprocessor, target_vectorizer, backbone):
        super().__init__(None, target_vectorizer)
        self.image_preprocessor = image_preprocessor
        self.backbone = backbone

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
        batches = tf.data.Dataset.from_tensor_slices(images).batch(batch_size)
        return tf.concat([self._encoded(batch) for batch in batches], axis=0)

    @functools.cached_property
    def _encoded(self):
        """One graph from a batch of images to their feature grids, traced once for every
        `fit` (a new function each time would retrace, and TensorFlow warns of it)."""

        @tf.function
        def encode(batch):
            return self.backbone.image_features(self.image_preprocessor(batch))

        return encode

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
        if sources.dtype == tf.string:
            # Encoded bytes, as an export is sent: an undecodable image gets no caption
            # rather than failing the batch.
            images, answered = self.image_preprocessor.decode_or_blank(sources)
            return images, None, answered
        return self.image_preprocessor(sources), None, None

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

    def evaluation_pairs(self, x, y):
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
