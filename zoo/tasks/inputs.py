"""Checks of what users pass to the public verbs, with errors that name the argument."""

import numpy as np
import tensorflow as tf

from zoo import checks


def as_text_list(texts, name):
    """Returns `(list of str, is_single)` for a str or a list/array/tensor of str.

    Raises:
        TypeError: `texts` is None, not a sequence, or holds a non-string.
        ValueError: `texts` is empty or not one-dimensional.
    """
    if isinstance(texts, (str, bytes)):
        return [_as_str(texts, name)], True
    if isinstance(texts, tf.Tensor):
        texts = texts.numpy()
    if isinstance(texts, np.ndarray):
        if texts.ndim != 1:
            raise ValueError(f"`{name}` must be one-dimensional, got shape {texts.shape}.")
        texts = texts.tolist()
    if not isinstance(texts, (list, tuple)):
        raise TypeError(
            f"`{name}` must be a string or a list of strings, got {type(texts).__name__}: "
            f"{preview(texts)}."
        )
    if not texts:
        raise ValueError(f"`{name}` is empty: pass at least one string.")
    return [_as_str(text, f"{name}[{i}]") for i, text in enumerate(texts)], False


def as_text_pairs(sources, targets, source_name="x", target_name="y"):
    """Checks parallel source and target texts; returns two lists of str."""
    sources, _ = as_text_list(sources, source_name)
    targets, _ = as_text_list(targets, target_name)
    checks.same_length(sources, targets, source_name, target_name)
    return sources, targets


def check_text_pair_dataset(dataset, name):
    """Checks that a tf.data.Dataset yields (source, target) string pairs; returns whether
    it yields batches (True) or single pairs (False)."""
    spec = dataset.element_spec
    is_pair = isinstance(spec, tuple) and len(spec) == 2
    if not is_pair or any(getattr(part, "dtype", None) != tf.string for part in spec):
        raise TypeError(
            f"`{name}` must be a tf.data.Dataset of (source, target) string pairs, got "
            f"element_spec {spec}."
        )
    ranks = {part.shape.rank for part in spec}
    if ranks not in ({0}, {1}):
        raise ValueError(
            f"`{name}` must yield scalar strings or batches of strings, got element_spec {spec}."
        )
    return ranks == {1}


def _as_str(text, name):
    if isinstance(text, bytes):
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"`{name}` is bytes that are not valid UTF-8: {error}.") from None
    if not isinstance(text, str):
        raise TypeError(f"`{name}` must be a string, got {type(text).__name__}: {preview(text)}.")
    return text


def preview(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def as_label_list(labels, name):
    """Returns `labels` (a list/tuple/1-D array of str, or of int) as a list of str or int.

    Raises:
        TypeError: `labels` is not a sequence, holds something else than str or int
            (bools and floats included), or mixes str and int.
        ValueError: `labels` is empty, not one-dimensional, or holds bytes that are not
            UTF-8.
    """
    if isinstance(labels, tf.Tensor):
        labels = labels.numpy()
    if isinstance(labels, np.ndarray):
        if labels.ndim != 1:
            raise ValueError(f"`{name}` must be one-dimensional, got shape {labels.shape}.")
        labels = labels.tolist()
    if isinstance(labels, (str, bytes)) or not isinstance(labels, (list, tuple)):
        raise TypeError(
            f"`{name}` must be a list of labels (str or int), got {type(labels).__name__}: "
            f"{preview(labels)}."
        )
    if not labels:
        raise ValueError(f"`{name}` is empty: pass one label per document.")
    result = []
    for i, label in enumerate(labels):
        if isinstance(label, bytes):
            label = _as_str(label, f"{name}[{i}]")
        if isinstance(label, (bool, np.bool_)) or not isinstance(label, (str, int, np.integer)):
            raise TypeError(
                f"`{name}[{i}]` must be a str or an int label, got {type(label).__name__}: "
                f"{preview(label)}."
            )
        result.append(str(label) if isinstance(label, str) else int(label))
    kinds = {type(label) for label in result}
    if len(kinds) > 1:
        raise TypeError(f"`{name}` mixes str and int labels; use one kind.")
    return result


def as_caption_lists(captions, name):
    """Returns the captions of each image as a list of lists of str.

    `captions` is a list (or 1-D array) of str, one caption per image, or a list of lists
    (tuples, arrays) of str, every reference caption of each image.

    Raises:
        TypeError: `captions` is not a list, or holds something else than str or lists of str.
        ValueError: `captions`, or the captions of one image, is empty.
    """
    if isinstance(captions, np.ndarray) and captions.ndim == 1:
        captions = captions.tolist()
    if isinstance(captions, (str, bytes)) or not isinstance(captions, (list, tuple)):
        raise TypeError(
            f"`{name}` must be a list of captions (str), or of lists of captions, one entry "
            f"per image; got {type(captions).__name__}: {preview(captions)}."
        )
    if not captions:
        raise ValueError(f"`{name}` is empty: pass the captions of at least one image.")
    lists = []
    for i, image_captions in enumerate(captions):
        if isinstance(image_captions, (str, bytes)):
            lists.append([_as_str(image_captions, f"{name}[{i}]")])
            continue
        if isinstance(image_captions, np.ndarray):
            image_captions = image_captions.tolist()
        if not isinstance(image_captions, (list, tuple)):
            raise TypeError(
                f"`{name}[{i}]` must be a caption (str) or a list of captions, got "
                f"{type(image_captions).__name__}: {preview(image_captions)}."
            )
        if not image_captions:
            raise ValueError(f"`{name}[{i}]` is an empty list: give every image a caption.")
        lists.append(
            [_as_str(caption, f"{name}[{i}][{j}]") for j, caption in enumerate(image_captions)]
        )
    return lists


def label_ids(labels, choices, name, kind="classes"):
    """The index in `choices` of each of `labels` (a list from `as_label_list`): int32 array.

    Raises:
        ValueError: a label is not one of `choices`, naming it as `{name}[i]`, and the
            model's `kind` ("classes", "answers").
    """
    index = {choice: i for i, choice in enumerate(choices)}
    for i, label in enumerate(labels):
        if label not in index:
            raise ValueError(
                f"`{name}[{i}]` is {label!r}, not one of the model's {kind} {list(choices)}."
            )
    return np.array([index[label] for label in labels], dtype="int32")


def validation_parts(validation_data, parts, allow_dataset=False):
    """`fit`'s `validation_data` -> its parts, then their names for error messages
    ("validation_data[0]", ...), as a task's batches take them.

    Args:
        validation_data: what the user passed.
        parts: str, what a task expects, e.g. "(images, masks)".
        allow_dataset: bool, whether a tf.data.Dataset of pairs may stand for the pair; it
            is returned as (dataset, None, "validation_data", None).
    """
    if allow_dataset and isinstance(validation_data, tf.data.Dataset):
        return validation_data, None, "validation_data", None
    count = parts.count(",") + 1
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != count:
        expected = f"{parts} or a tf.data.Dataset of pairs" if allow_dataset else parts
        raise ValueError(
            f"`validation_data` must be {expected}, got {type(validation_data).__name__}."
        )
    return (*validation_data, *(f"validation_data[{i}]" for i in range(count)))
