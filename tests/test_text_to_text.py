"""Text-to-text mixtures: prefixed inputs from several tasks in one corpus."""

import pytest

import zoo

ENGLISH = ["A dog runs.", "Two men talk.", "A red car."]
GERMAN = ["Ein Hund rennt.", "Zwei Männer reden.", "Ein rotes Auto."]


def translation_tasks():
    return zoo.datasets.translation_tasks(ENGLISH, GERMAN, "English", "German")


def test_translation_tasks_give_both_directions_named_as_in_t5():
    assert translation_tasks() == {
        "translate English to German": (ENGLISH, GERMAN),
        "translate German to English": (GERMAN, ENGLISH),
    }


def test_text_to_text_prefixes_each_input_with_its_task():
    inputs, targets = zoo.datasets.text_to_text(translation_tasks(), seed=None)
    assert inputs == [f"translate English to German: {text}" for text in ENGLISH] + [
        f"translate German to English: {text}" for text in GERMAN
    ]
    assert targets == GERMAN + ENGLISH


def test_a_seed_shuffles_the_pairs_keeping_each_once():
    inputs, targets = zoo.datasets.text_to_text(translation_tasks(), seed=None)
    shuffled = zoo.datasets.text_to_text(translation_tasks(), seed=0)
    assert sorted(zip(*shuffled, strict=True)) == sorted(zip(inputs, targets, strict=True))
    assert shuffled[0] != inputs  # reordered


def test_the_shuffle_is_deterministic():
    tasks = translation_tasks()
    assert zoo.datasets.text_to_text(tasks, seed=0) == zoo.datasets.text_to_text(tasks, seed=0)


@pytest.mark.parametrize(
    ("tasks", "message"),
    [
        ({}, "`tasks` must be a non-empty dict"),
        ({"translate": (ENGLISH, GERMAN[:2])}, "must have the same length, got 3 and 2"),
        ({"translate": ENGLISH}, "must be a pair"),
        ({"": (ENGLISH, GERMAN)}, "non-empty str"),
        ({"translate": (ENGLISH, [1, 2, 3])}, r"`tasks\['translate'\]\[1\]\[0\]` must be a str"),
    ],
)
def test_bad_tasks_raise_errors_naming_them(tasks, message):
    with pytest.raises((ValueError, TypeError), match=message):
        zoo.datasets.text_to_text(tasks)
