"""Text-to-text mixtures: prefixed inputs from several tasks in one corpus."""

import pytest

import zoo

ENGLISH = ["A dog runs.", "Two men talk.", "A red car."]
GERMAN = ["Ein Hund rennt.", "Zwei Männer reden.", "Ein rotes Auto."]


def test_translation_tasks_give_both_directions_named_as_in_t5():
    tasks = zoo.datasets.translation_tasks(ENGLISH, GERMAN, "English", "German")
    assert tasks == {
        "translate English to German": (ENGLISH, GERMAN),
        "translate German to English": (GERMAN, ENGLISH),
    }


def test_text_to_text_prefixes_and_keeps_every_pair_once():
    tasks = zoo.datasets.translation_tasks(ENGLISH, GERMAN, "English", "German")
    inputs, targets = zoo.datasets.text_to_text(tasks, seed=None)
    assert inputs == [f"translate English to German: {text}" for text in ENGLISH] + [
        f"translate German to English: {text}" for text in GERMAN
    ]
    assert targets == GERMAN + ENGLISH

    shuffled = zoo.datasets.text_to_text(tasks, seed=0)
    assert sorted(zip(*shuffled, strict=True)) == sorted(zip(inputs, targets, strict=True))
    assert shuffled[0] != inputs  # reordered
    assert zoo.datasets.text_to_text(tasks, seed=0) == shuffled  # deterministic


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
