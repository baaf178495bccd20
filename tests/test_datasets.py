"""Tests for zoo.datasets.load_translation: shipped Tatoeba splits, Multi30k from disk, errors."""

import doctest
import gzip
import hashlib
import re
from importlib import resources
from pathlib import Path

import pytest

from zoo.datasets import TRANSLATION_DATASETS, load_translation, translation

MULTI30K = Path(__file__).resolve().parents[2] / "shared" / "data" / "multi30k"
TATOEBA_PAIRS = 74_036
# Pinned from the md5 split rule; a change here means every trained model's test set moved.
TATOEBA_SPLIT_SIZES = {"train": 66_714, "validation": 3_671, "test": 3_651}
TATOEBA_DATA = resources.files("zoo.datasets") / "data"


def english_sentences(split):
    return set(load_translation("tatoeba", split)[0])


def tatoeba_split_sizes():
    return {split: len(load_translation("tatoeba", split)[0]) for split in TATOEBA_SPLIT_SIZES}


def test_public_api():
    assert TRANSLATION_DATASETS == ("tatoeba", "multi30k")


def test_shipped_tatoeba_file_is_the_source_file_gzipped():
    with gzip.open(TATOEBA_DATA / "tatoeba_eng_fra.tsv.gz", "rb") as compressed:
        assert hashlib.md5(compressed.read()).hexdigest() == "ae0b20e7905c16222b769e6f2f4335fa"


def test_attribution_ships_next_to_the_data_file():
    text = (TATOEBA_DATA / "TATOEBA_ATTRIBUTION.md").read_text(encoding="utf-8")
    assert "Tatoeba.org contributors (CC BY 2.0 FR), via manythings.org" in text
    assert "https://creativecommons.org/licenses/by/2.0/fr/" in text


def test_tatoeba_split_sizes_are_pinned():
    assert tatoeba_split_sizes() == TATOEBA_SPLIT_SIZES


def test_tatoeba_splits_add_up_to_the_corpus():
    assert sum(tatoeba_split_sizes().values()) == TATOEBA_PAIRS


@pytest.mark.parametrize("split", ["validation", "test"])
def test_tatoeba_held_out_splits_are_each_about_five_percent(split):
    share = len(load_translation("tatoeba", split)[0]) / TATOEBA_PAIRS
    assert 0.04 < share < 0.06


def test_tatoeba_splits_share_no_english_sentence():
    train, validation, test = (english_sentences(s) for s in ("train", "validation", "test"))
    assert not train & validation
    assert not train & test
    assert not validation & test
    assert len(train | validation | test) == 48_319


def test_tatoeba_split_assignment_is_pinned():
    assert "Go." in english_sentences("train")
    assert "Get out!" in english_sentences("validation")
    assert "Help!" in english_sentences("test")


def test_tatoeba_pairs_are_parallel_lists_as_in_the_file():
    sources, targets = load_translation("tatoeba")
    assert isinstance(sources, list) and isinstance(targets, list)
    assert len(sources) == len(targets)
    # The narrow no-break space before "!" is kept: strings are not normalised.
    assert (sources[:2], targets[:2]) == (["Go.", "Run!"], ["Va !", "Cours\u202f!"])
    assert not any(s.endswith("\n") for s in sources + targets)


def test_tatoeba_results_are_copies_of_the_cache():
    sources, _ = load_translation("tatoeba")
    sources.clear()
    assert len(load_translation("tatoeba")[0]) == TATOEBA_SPLIT_SIZES["train"]


@pytest.mark.parametrize(
    "languages",
    [
        {"source_language": "fr", "target_language": "en"},
        {"source_language": "fr"},
        {"target_language": "en"},
    ],
)
def test_tatoeba_french_to_english_swaps_the_pairs(languages):
    english, french = load_translation("tatoeba", "test")
    assert load_translation("tatoeba", "test", **languages) == (french, english)


def test_tatoeba_explicit_default_direction():
    assert load_translation(
        "tatoeba", source_language="en", target_language="fr"
    ) == load_translation("tatoeba")


@pytest.mark.parametrize(
    ("split", "size"),
    [("train", 29_000), ("validation", 1_014), ("test", 1_000)],
)
def test_multi30k_split_sizes(split, size):
    sources, targets = load_translation("multi30k", split, path=MULTI30K)
    assert len(sources) == len(targets) == size


def test_multi30k_first_train_pair_is_english_german():
    sources, targets = load_translation("multi30k", path=str(MULTI30K))
    assert sources[0] == "Two young, White males are outside near many bushes."
    assert targets[0] == "Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche."


@pytest.mark.parametrize(("alias", "split"), [("val", "validation"), ("test_2016_flickr", "test")])
def test_multi30k_accepts_upstream_split_names(alias, split):
    assert load_translation("multi30k", alias, path=MULTI30K) == load_translation(
        "multi30k", split, path=MULTI30K
    )


def test_multi30k_other_language_pairs():
    english, german = load_translation("multi30k", "validation", path=MULTI30K)
    assert load_translation("multi30k", "validation", path=MULTI30K, source_language="de") == (
        german,
        english,
    )
    french, czech = load_translation(
        "multi30k", "validation", path=MULTI30K, source_language="fr", target_language="cs"
    )
    assert french[0] == "Un groupe d'hommes chargent du coton dans un camion"
    assert len(czech) == 1_014 and czech[0] != french[0]


def test_docstring_examples_run():
    results = doctest.testmod(translation)
    assert results.attempted > 0 and results.failed == 0


def raises(error, message):
    return pytest.raises(error, match=re.escape(message))


def test_unknown_name_lists_known_names():
    with raises(ValueError, "name='wmt14'") as info:
        load_translation("wmt14")
    assert "'tatoeba', 'multi30k'" in str(info.value)


@pytest.mark.parametrize(
    ("name", "path", "known"),
    [("tatoeba", None, "'train', 'validation', 'test'"), ("multi30k", MULTI30K, "'val'")],
)
def test_unknown_split_lists_known_splits(name, path, known):
    with raises(ValueError, "split='dev'") as info:
        load_translation(name, "dev", path=path)
    assert known in str(info.value)


def test_multi30k_without_path():
    with raises(ValueError, "path=None"):
        load_translation("multi30k")


def test_tatoeba_rejects_path():
    with raises(ValueError, "path='somewhere'"):
        load_translation("tatoeba", path="somewhere")


def test_multi30k_path_of_wrong_type():
    with raises(TypeError, "path=3"):
        load_translation("multi30k", path=3)


def test_multi30k_path_that_does_not_exist(tmp_path):
    missing = tmp_path / "nowhere"
    with raises(FileNotFoundError, f"path={str(missing)!r}"):
        load_translation("multi30k", path=missing)


def test_multi30k_path_without_the_split_files_names_the_missing_file(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "train.en").write_text("A dog.\n", encoding="utf-8")
    with raises(FileNotFoundError, str(tmp_path / "raw" / "train.de")):
        load_translation("multi30k", path=tmp_path)


def test_multi30k_files_of_different_lengths(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "val.en").write_text("A dog.\nA cat.\n", encoding="utf-8")
    (tmp_path / "raw" / "val.de").write_text("Ein Hund.\n", encoding="utf-8")
    with raises(ValueError, "has 2 'en' lines but 1 'de' lines"):
        load_translation("multi30k", "validation", path=tmp_path)


@pytest.mark.parametrize(
    ("name", "languages", "message"),
    [
        ("tatoeba", {"target_language": "de"}, "target_language='de'"),
        ("tatoeba", {"source_language": "english"}, "source_language='english'"),
        ("multi30k", {"source_language": "ja"}, "source_language='ja'"),
        ("multi30k", {"target_language": "EN"}, "target_language='EN'"),
    ],
)
def test_unknown_language(name, languages, message):
    with raises(ValueError, message):
        load_translation(name, path=MULTI30K if name == "multi30k" else None, **languages)


@pytest.mark.parametrize("name", TRANSLATION_DATASETS)
def test_same_source_and_target_language(name):
    path = MULTI30K if name == "multi30k" else None
    with raises(ValueError, "source_language and target_language are both 'en'"):
        load_translation(name, path=path, source_language="en", target_language="en")
