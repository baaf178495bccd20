"""ImageSegmenter: the fit/predict/evaluate/save/export interface of image-to-mask models."""

import keras
import numpy as np
import tensorflow as tf

from zoo import checks
from zoo.metrics import confusion_matrix, segmentation_scores
from zoo.tasks.inputs import validation_parts
from zoo.tasks.task import Task, evaluates_raw_inputs
from zoo.training.batching import reshuffled
from zoo.vision.image_inputs import as_image_batch
from zoo.vision.segmentation_masks import as_mask_list, resize_masks


@keras.saving.register_keras_serializable(package="zoo")
class ImageSegmenter(Task):
    """An image segmenter that takes images and returns a class id for every pixel.

    It owns a backbone (a functional graph from `images`, float [batch, height, width, 3],
    to logits [batch, height, width, num_classes], e.g. `zoo.models.UNetBackbone`), the
    `zoo.vision.ImagePreprocessor` that decodes and resizes images to the backbone's size,
    and the augmentation applied in training to each image and its mask alike. Builders
    such as `zoo.unet` return it compiled.

    Images of any size are resized to the backbone's; the masks `predict` returns are at
    each input image's own size (the logits resized bilinearly, then the most likely
    class), and the masks `fit` and `evaluate` read are resized to the backbone's by
    nearest neighbour.

    Args:
        backbone: a keras.Model as above.
        preprocessor: a `zoo.vision.ImagePreprocessor` whose `image_size` is the backbone's.
        augmentation: None or a list of Keras random preprocessing layers (e.g.
            `keras.layers.RandomFlip()`), applied in `fit` to `{"images": ...,
            "segmentation_masks": ...}` so that an image and its mask move together.
        class_names: None or a list of str, one per class, for plots and the model card.

    Example:
    >>> images, masks = zoo.datasets.shapes_segmentation(1000)
    >>> model = zoo.unet(images, masks, depth=3, filters=16)
    >>> model.fit(images, masks, epochs=20)
    >>> model.predict(images[:4])  # uint8 [4, 64, 64] class ids
    >>> model.evaluate(test_images, test_masks)  # {"loss", "pixel_accuracy", "mean_iou", "dice"}
    """

    components = ("backbone", "preprocessor", "augmentation")
    # `compile`'s defaults (`Task.compile`): per-pixel cross-entropy and accuracy.
    accuracy_name = "pixel_accuracy"

    def __init__(self, backbone, preprocessor, augmentation=None, class_names=None, **kwargs):
        num_classes = backbone.output.shape[-1]
        if class_names is not None and len(class_names) != num_classes:
            raise ValueError(
                f"`class_names` must name the backbone's {num_classes} classes, got "
                f"{len(class_names)}: {list(class_names)}."
            )
        super().__init__(backbone, **kwargs)
        self.preprocessor = preprocessor
        self.augmentation = list(augmentation or ())
        # A tuple: Keras would wrap a list attribute in a tracked list.
        self.class_names = tuple(class_names or (str(i) for i in range(num_classes)))
        self._functions = {}

    @property
    def num_classes(self):
        return len(self.class_names)

    # === Training ===
    def fit(self, x=None, y=None, *, batch_size=16, validation_data=None, shuffle=True, **kwargs):
        """Trains on images and their masks.

        Args:
            x: the images: uint8 pixels, file paths or encoded bytes, as
                `zoo.vision.as_image_batch` takes them.
            y: their masks of class ids: an integer array [batch, height, width], a list of
                [height, width] arrays, or PNG file paths or bytes (see
                `zoo.vision.segmentation_masks.as_mask_list`).
            batch_size: int, images per step.
            validation_data: `(images, masks)`.
            shuffle: bool, whether to reshuffle the images every epoch.
            **kwargs: passed to `keras.Model.fit` (`epochs`, `callbacks`, `verbose`, ...).

        Returns:
            The Keras `History`.
        """
        dataset = self.training_dataset(x, y, batch_size=batch_size, shuffle=shuffle)
        if validation_data is not None:
            parts = validation_parts(validation_data, "(images, masks)")
            validation_data = self._dataset(*parts, batch_size)
        return self.fit_batches(dataset, validation_data=validation_data, **kwargs)

    def training_dataset(self, x, y, *, batch_size=16, shuffle=True):
        """The `(x, masks)` batches `fit` trains on: images preprocessed to the backbone's
        size, masks resized to it, both augmented alike."""
        return self._dataset(x, y, "x", "y", batch_size, shuffle, augment=True)

    def _dataset(self, x, y, x_name="x", y_name="y", batch_size=16, shuffle=False, augment=False):
        images, _ = as_image_batch(x, x_name)
        masks = self._checked_masks(y, y_name)
        checks.same_length(range(images.shape[0]), masks, x_name, y_name)
        checks.positive_int(batch_size, "batch_size")
        examples = tf.data.Dataset.from_tensor_slices(
            (images, resize_masks(masks, self.preprocessor.image_size))
        )
        if shuffle:
            examples = reshuffled(examples)

        def prepare(images, masks):
            images = self.preprocessor(images)
            masks = tf.cast(masks[..., None], tf.int32)
            if augment:
                pair = {"images": images, "segmentation_masks": masks}
                for layer in self.augmentation:
                    pair = layer(pair, training=True)
                images, masks = pair["images"], pair["segmentation_masks"]
            return {"images": images}, masks[..., 0]

        return examples.batch(batch_size).map(prepare).prefetch(tf.data.AUTOTUNE)

    def _checked_masks(self, y, name):
        masks = as_mask_list(y, name)
        highest = max(int(mask.max()) for mask in masks)
        if highest >= self.num_classes:
            raise ValueError(
                f"`{name}` holds class id {highest}, but the model has {self.num_classes} "
                f"classes (ids 0 to {self.num_classes - 1})."
            )
        return masks

    # === Inference ===
    def segment_function(self, encoded=True):
        """Returns a `tf.function` from images to `{"masks", "class_fractions"}`: masks as
        single-channel PNG images of class ids, each at its input image's size
        (tf.string [batch]), and the share of each class in them (float32 [batch,
        num_classes]). It takes encoded images (tf.string [batch]) or, with
        `encoded=False`, uint8 RGB pixels [batch, height, width, 3]. It is what `predict`
        and `export` call."""
        key = "encoded" if encoded else "pixels"  # str keys: the export tracks this dict
        if key not in self._functions:
            spec = (
                tf.TensorSpec([None], tf.string)
                if encoded
                else tf.TensorSpec([None, None, None, 3], tf.uint8)
            )

            @tf.function(input_signature=[spec])
            def segment(images):
                logits = self.backbone({"images": self.preprocessor(images)}, training=False)
                masks, fractions = tf.map_fn(
                    self._mask_at_size,
                    (logits, _image_sizes(images)),
                    fn_output_signature=(
                        tf.TensorSpec([], tf.string),
                        tf.TensorSpec([self.num_classes], tf.float32),
                    ),
                )
                return {"masks": masks, "class_fractions": fractions}

            self._functions[key] = segment
        return self._functions[key]

    def _mask_at_size(self, logits_and_size):
        logits, size = logits_and_size
        mask = tf.argmax(tf.image.resize(logits, size), axis=-1, output_type=tf.int32)
        counts = tf.math.bincount(mask, minlength=self.num_classes, maxlength=self.num_classes)
        fractions = tf.cast(counts, tf.float32) / tf.cast(tf.size(mask), tf.float32)
        return tf.io.encode_png(tf.cast(mask, tf.uint8)[..., None]), fractions

    def predict(self, x, *, batch_size=16, **kwargs):
        """Segments images.

        Args:
            x: images as `fit` takes them; one image (an array [height, width, channels], a
                path or bytes) gives one mask.
            batch_size: int, images segmented together.

        Returns:
            Class ids as uint8: an array [batch, height, width] for a batch of pixel arrays
            (one size), a list of [height, width] arrays for paths or bytes (each at its
            image's size), one [height, width] array for one image.
        """
        if kwargs:
            raise TypeError(f"Unexpected arguments to `predict`: {sorted(kwargs)}.")
        images, is_single = as_image_batch(x, "x")
        function = self.segment_function(encoded=images.dtype == tf.string)
        masks = [
            tf.io.decode_png(png).numpy()[..., 0]
            for outputs in self.batches_through(function, images, batch_size)
            for png in outputs["masks"]
        ]
        if is_single:
            return masks[0]
        return masks if images.dtype == tf.string else np.stack(masks)

    # === Evaluation ===
    @evaluates_raw_inputs
    def evaluate(self, x=None, y=None, *, batch_size=16, **kwargs):
        """Scores the model on images and their masks.

        Args:
            x: images, as `fit` takes them.
            y: their masks, each of its image's size.
            batch_size: int.

        Returns:
            dict with "loss" (mean per-pixel cross-entropy at the backbone's size) and, on
            the masks `predict` returns (each image's size), "pixel_accuracy", "mean_iou"
            and "dice" (see `zoo.metrics.segmentation_scores`).
        """
        metrics = self.evaluate_batches(self._dataset(x, y, batch_size=batch_size), **kwargs)
        true_masks = self._checked_masks(y, "y")
        predicted = self.predict(x, batch_size=batch_size)
        for i, (true, mask) in enumerate(zip(true_masks, predicted, strict=True)):
            if true.shape != mask.shape:
                raise ValueError(
                    f"`y[{i}]` must have the size of its image, {mask.shape}, got {true.shape}."
                )
        confusion = confusion_matrix(true_masks, predicted, self.num_classes)
        return {"loss": metrics["loss"], **segmentation_scores(confusion)}

    # === Export and serialization ===
    def export(self, filepath):
        """Writes a SavedModel that serves encoded images.

        Its `serving_default` signature takes `inputs`: tf.string [batch] (JPEG, PNG, GIF,
        BMP or WebP bytes) and returns `masks`: tf.string [batch], single-channel PNG
        images of class ids at each input's size, and `class_fractions`: float32 [batch,
        num_classes]; it loads with `tf.saved_model.load` in a process that imports only
        tensorflow, and matches `predict`.
        """
        from zoo.export import export_endpoints

        export_endpoints(self, filepath, {"serving_default": self.segment_function()})

    def get_config(self):
        return {**super().get_config(), "class_names": list(self.class_names)}


def _image_sizes(images):
    """int32 [batch, 2], the (height, width) of each input image."""
    if images.dtype != tf.string:
        return tf.tile(tf.shape(images)[1:3][tf.newaxis], [tf.shape(images)[0], 1])
    return tf.map_fn(
        lambda one: tf.shape(tf.io.decode_image(one, channels=3, expand_animations=False))[:2],
        images,
        fn_output_signature=tf.TensorSpec([2], tf.int32),
    )
