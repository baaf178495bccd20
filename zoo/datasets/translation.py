"""Parallel sentence pairs for machine translation, as plain Python lists of strings.

Two corpora: "tatoeba" (English–French, shipped inside this package) and "multi30k"
(English/German/French/Czech image captions, read from a directory the caller gives).
"""

import functools
import gzip
import hashlib
import os
from importlib import resources
from pathlib import Path

TRANSLATION_DATASETS = ("tatoeba", "multi30k")

_TATOEBA_FILE = "tatoeba_eng_fra.tsv.gz"
_TATOEBA_LANGUAGES = ("en", "fr")  # column order in the file
_TATOEBA_SPLITS = ("train", "validation", "test")

_MULTI30K_LANGUAGES = ("en", "de", "fr", "cs")
# Our split names plus the upstream file stems, so either spelling works.
_MULTI30K_SPLIT_FILES = {
    "train": "train",
    "validation": "val",
    "val": "val",
    "test": "test_2016_flickr",
    "test_2016_flickr": "test_2016_flickr",
}

_DEFAULT_LANGUAGES = {"tatoeba": ("en", "fr"), "multi30k": ("en", "de")}


def load_translation(name, split="train", *, path=None, source_language=None, target_language=None):
    """Loads one split of a translation corpus as parallel source and target sentences.

    "tatoeba" ships with zoo: 74,036 short English–French pairs (Tatoeba.org contributors,
    CC BY 2.0 FR, via manythings.org; see data/TATOEBA_ATTRIBUTION.md). It has no upstream
    split, so each pair goes to a split by an md5 hash of its English sentence: about 90%
    train, 5% validation, 5% test, identical on every machine, and no English sentence
    appears in two splits.

    "multi30k" is read from `path`, a directory laid out like the Multi30k task-1 release:
    `raw/{train,val,test_2016_flickr}.{en,de,fr,cs}`. Its test split is test2016 (flickr).

    Args:
        name: One of `TRANSLATION_DATASETS`: "tatoeba" or "multi30k".
        split: "train", "validation" or "test"; "multi30k" also accepts its file names
            "val" and "test_2016_flickr".
        path: Multi30k directory (str or path-like); required for "multi30k", not accepted
            for "tatoeba".
        source_language: "en" or "fr" for "tatoeba"; one of "en", "de", "fr", "cs" for
            "multi30k". Defaults to "en", or to the default target ("fr" / "de") when
            `target_language` is "en".
        target_language: As `source_language`. Defaults to "fr" for "tatoeba" and "de" for
            "multi30k", or to "en" when `source_language` is already that default.

    Returns:
        A tuple `(sources, targets)` of equally long lists of str; `targets[i]` translates
        `sources[i]`. Sentences are as in the file, without the line's newline.

    Raises:
        ValueError: unknown `name`, `split` or language, the same source and target language,
            or `path` missing for "multi30k" / given for "tatoeba".
        TypeError: `path` is not a str or path-like.
        FileNotFoundError: `path`, or a file the split needs, does not exist.

    Example:
        >>> sources, targets = load_translation("tatoeba")
        >>> len(sources), sources[0], targets[0]
        (66714, 'Go.', 'Va !')
        >>> sources, targets = load_translation("tatoeba", "test", source_language="fr")
        >>> len(targets), targets[0]
        (3651, 'Help!')
        >>> sources, targets = load_translation(
        ...     "multi30k", "validation", path="shared/data/multi30k"
        ... )  # doctest: +SKIP
    """
    if name not in TRANSLATION_DATASETS:
        raise ValueError(f"Unknown name={name!r}; known datasets: {TRANSLATION_DATASETS}.")
    source_language, target_language = _resolve_languages(name, source_language, target_language)
    if name == "tatoeba":
        return _load_tatoeba(split, path, source_language)
    return _load_multi30k(split, path, source_language, target_language)


def _resolve_languages(name, source_language, target_language):
    default_source, default_target = _DEFAULT_LANGUAGES[name]
    # A lone language picks its partner from the default pair, so "fr" alone means fr->en.
    if source_language is None:
        source_language = default_target if target_language == default_source else default_source
    if target_language is None:
        target_language = default_source if source_language == default_target else default_target
    known = _TATOEBA_LANGUAGES if name == "tatoeba" else _MULTI30K_LANGUAGES
    for argument, language in (
        ("source_language", source_language),
        ("target_language", target_language),
    ):
        if language not in known:
            raise ValueError(
                f"Unknown {argument}={language!r} for {name!r}; known languages: {known}."
            )
    if source_language == target_language:
        raise ValueError(
            f"source_language and target_language are both {source_language!r}; they must differ."
        )
    return source_language, target_language


def _load_tatoeba(split, path, source_language):
    if path is not None:
        raise ValueError(f"path={path!r} is not used by 'tatoeba', which ships with zoo.")
    if split not in _TATOEBA_SPLITS:
        raise ValueError(f"Unknown split={split!r} for 'tatoeba'; known splits: {_TATOEBA_SPLITS}.")
    english, french = _tatoeba_splits()[split]
    if source_language == "en":
        return list(english), list(french)
    return list(french), list(english)


@functools.lru_cache(maxsize=1)
def _tatoeba_splits():
    """Maps each split name to its (english, french) tuples, in file order."""
    columns = {split: ([], []) for split in _TATOEBA_SPLITS}
    data_file = resources.files(__package__) / "data" / _TATOEBA_FILE
    with data_file.open("rb") as compressed, gzip.open(compressed, "rt", encoding="utf-8") as lines:
        for line in lines:
            english, french = line.rstrip("\n").split("\t")
            english_column, french_column = columns[_tatoeba_split_of(english)]
            english_column.append(english)
            french_column.append(french)
    return {split: (tuple(en), tuple(fr)) for split, (en, fr) in columns.items()}


def _tatoeba_split_of(english):
    # md5 rather than hash(): Python salts str hashes per process, md5 is the same everywhere.
    bucket = int.from_bytes(hashlib.md5(english.encode("utf-8")).digest(), "big") % 100
    if bucket < 90:
        return "train"
    return "validation" if bucket < 95 else "test"


def _load_multi30k(split, path, source_language, target_language):
    if split not in _MULTI30K_SPLIT_FILES:
        known = tuple(_MULTI30K_SPLIT_FILES)
        raise ValueError(f"Unknown split={split!r} for 'multi30k'; known splits: {known}.")
    if path is None:
        raise ValueError(
            "path=None: 'multi30k' is read from a directory holding "
            "raw/{train,val,test_2016_flickr}.{en,de,fr,cs}; pass it as path=."
        )
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or path-like, got path={path!r}.")
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"path={str(path)!r} is not an existing directory.")
    stem = root / "raw" / _MULTI30K_SPLIT_FILES[split]
    sources = _read_lines(stem.with_suffix(f".{source_language}"), path)
    targets = _read_lines(stem.with_suffix(f".{target_language}"), path)
    if len(sources) != len(targets):
        raise ValueError(
            f"path={str(path)!r}: {split!r} has {len(sources)} {source_language!r} lines but "
            f"{len(targets)} {target_language!r} lines; the files must be parallel."
        )
    return sources, targets


def _read_lines(file, path):
    if not file.is_file():
        raise FileNotFoundError(f"path={str(path)!r} has no file {str(file)!r}.")
    with open(file, encoding="utf-8") as lines:
        return [line.rstrip("\n") for line in lines]
