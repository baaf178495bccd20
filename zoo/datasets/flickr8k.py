"""Flickr8k (Hodosh et al. 2013): image file paths and their five reference captions."""

import os
from pathlib import Path

FLICKR8K_SPLITS = ("train", "validation", "test")

# Our split names plus the upstream ones, so either spelling works.
_SPLIT_FILES = {
    "train": "Flickr_8k.trainImages.txt",
    "validation": "Flickr_8k.devImages.txt",
    "dev": "Flickr_8k.devImages.txt",
    "test": "Flickr_8k.testImages.txt",
}
_CAPTIONS_FILE = "Flickr8k.token.txt"
# Where the text files and the images may be: zoo's layout first, then the upstream zips'.
_TEXT_DIRECTORIES = (".", "Flickr8k_text")
_IMAGE_DIRECTORIES = ("images", "Flicker8k_Dataset", "Flickr8k_Dataset")


def load_flickr8k(path, split="train", *, skip_missing=True):
    """Loads one official Flickr8k split as image file paths and their reference captions.

    `path` is a directory holding the Flickr8k text files (`Flickr8k.token.txt` and
    `Flickr_8k.{train,dev,test}Images.txt`) and an `images/` directory of the JPEG files,
    as in `shared/data/flickr8k`. The upstream layout also works: text files in
    `Flickr8k_text/`, images in `Flicker8k_Dataset/`. The official splits list 6,000 train,
    1,000 dev and 1,000 test images; `shared/data/flickr8k` holds every dev and test image
    but only the first 3,000 train images (224x224, aspect ratio not kept).

    Args:
        path: str or path-like, the Flickr8k directory.
        split: "train", "validation" or "test"; "dev" is accepted for "validation".
        skip_missing: bool. If True (the default), images of the split that are not in the
            image directory are left out, keeping the split file's order; if False, a
            missing image raises FileNotFoundError.

    Returns:
        `(image_paths, captions)`: a list of str paths to the split's image files, in the
        split file's order, and a list as long of lists of that image's captions (five in
        Flickr8k), in caption-number order, as in the file: raw case, with a space before
        the final period.

    Raises:
        ValueError: unknown `split`; a malformed line in `Flickr8k.token.txt`; an image of the
            split with no caption.
        TypeError: `path` is not a str or path-like.
        FileNotFoundError: `path` is not a directory, lacks a text file or the image
            directory, has none of the split's images, or (with `skip_missing=False`)
            lacks one of them.

    Example:
    >>> image_paths, captions = load_flickr8k("shared/data/flickr8k", "test")  # doctest: +SKIP
    >>> len(image_paths), len(captions[0])  # doctest: +SKIP
    (1000, 5)
    """
    if split not in _SPLIT_FILES:
        raise ValueError(
            f"Unknown split={split!r} for Flickr8k; known splits: {tuple(_SPLIT_FILES)}."
        )
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or path-like, got path={path!r}.")
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"path={str(path)!r} is not an existing directory.")
    image_names = _read_lines(_find_text_file(root, _SPLIT_FILES[split], path))
    captions_by_image = _read_captions(_find_text_file(root, _CAPTIONS_FILE, path))
    image_directory = _find_image_directory(root, path)

    image_paths, captions = [], []
    missing = []
    for name in image_names:
        image_path = image_directory / name
        if not image_path.is_file():
            missing.append(image_path)
            continue
        if name not in captions_by_image:
            raise ValueError(
                f"path={str(path)!r}: image {name!r} of split {split!r} has no caption in "
                f"{_CAPTIONS_FILE}."
            )
        image_paths.append(str(image_path))
        captions.append(captions_by_image[name])
    if missing and (not skip_missing or not image_paths):
        raise FileNotFoundError(
            f"path={str(path)!r}: {len(missing)} of the {len(image_names)} images of split "
            f"{split!r} are not in {str(image_directory)!r}; the first is {missing[0].name!r}."
        )
    return image_paths, captions


def _find_text_file(root, file_name, path):
    for directory in _TEXT_DIRECTORIES:
        candidate = root / directory / file_name
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"path={str(path)!r} has no file {file_name!r} (looked in {_TEXT_DIRECTORIES})."
    )


def _find_image_directory(root, path):
    for directory in _IMAGE_DIRECTORIES:
        if (root / directory).is_dir():
            return root / directory
    raise FileNotFoundError(
        f"path={str(path)!r} has no image directory; expected one of {_IMAGE_DIRECTORIES}."
    )


def _read_lines(file):
    with open(file, encoding="utf-8") as lines:
        return [line.strip() for line in lines if line.strip()]


def _read_captions(file):
    """Maps each image file name to its captions, ordered by caption number."""
    numbered = {}
    with open(file, encoding="utf-8") as lines:
        for line_number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            key, tab, caption = line.rstrip("\n").partition("\t")
            name, hash_sign, number = key.rpartition("#")
            if not (tab and hash_sign and number.isdigit()):
                raise ValueError(
                    f"{str(file)!r} line {line_number} is not '<image>#<number>\\t<caption>': "
                    f"{line[:80]!r}."
                )
            numbered.setdefault(name, []).append((int(number), caption))
    return {name: [caption for _, caption in sorted(pairs)] for name, pairs in numbered.items()}
