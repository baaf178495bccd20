"""The bAbI-style tasks: deterministic, and every answer and supporting fact follows from the
story, as a reader who replays it sentence by sentence finds them."""

import collections
import re

import pytest

from zoo.datasets import babi_tasks

MOVE = re.compile(
    r"^(\w+) (?:moved to|went to|journeyed to|travelled to|went back to) the (\w+)\.$"
)
PICKUP = re.compile(r"^(\w+) picked up the (\w+)\.$")


def replay(story):
    """Each sentence's event: ("move", person, place) or ("pickup", person, object)."""
    events = []
    for sentence in story.split("\n"):
        if match := MOVE.match(sentence):
            events.append(("move", *match.groups()))
        else:
            match = PICKUP.match(sentence)
            assert match, f"a sentence of neither kind: {sentence!r}"
            events.append(("pickup", *match.groups()))
    return events


def last_place(events, person):
    return [place for kind, who, place in events if kind == "move" and who == person][-1]


def carrier(events, thing):
    (person,) = [who for kind, who, what in events if kind == "pickup" and what == thing]
    return person


@pytest.mark.parametrize("task", [1, 2, 3, 6])
def test_the_same_seed_gives_the_same_examples_and_another_seed_others(task):
    assert babi_tasks(task, 20, seed=1) == babi_tasks(task, 20, seed=1)
    assert babi_tasks(task, 20, seed=1) != babi_tasks(task, 20, seed=2)


def test_task_1_answers_where_the_person_went_last():
    examples = zip(*babi_tasks(1, 200, return_supporting_facts=True), strict=True)
    for story, question, answer, (fact,) in examples:
        person = re.fullmatch(r"Where is (\w+)\?", question).group(1)
        events = replay(story)
        assert answer == last_place(events, person)
        assert events[fact] == ("move", person, answer)
        assert not any(e[:2] == ("move", person) for e in events[fact + 1 :])


def test_task_2_answers_where_the_carrier_went_after_the_pick_up():
    examples = zip(*babi_tasks(2, 200, return_supporting_facts=True), strict=True)
    for story, question, answer, (pickup, move) in examples:
        thing = re.fullmatch(r"Where is the (\w+)\?", question).group(1)
        events = replay(story)
        person = carrier(events, thing)
        assert events[pickup] == ("pickup", person, thing)
        assert events[move] == ("move", person, answer)
        assert pickup < move and answer == last_place(events, person)


def test_task_3_answers_where_the_carrier_was_before_the_asked_place():
    examples = zip(*babi_tasks(3, 200, return_supporting_facts=True), strict=True)
    for story, question, answer, (pickup, to_asked, before) in examples:
        thing, asked = re.fullmatch(r"Where was the (\w+) before the (\w+)\?", question).groups()
        events = replay(story)
        person = carrier(events, thing)
        moves = [
            (i, e[2]) for i, e in enumerate(events) if e[:2] == ("move", person) and i > pickup
        ]
        assert events[pickup] == ("pickup", person, thing)
        assert [place for _, place in moves].count(asked) == 1  # the question names one move
        position = [i for i, _ in moves].index(to_asked)
        assert position > 0 and moves[position] == (to_asked, asked)
        assert moves[position - 1] == (before, answer) and answer != asked


def test_task_6_answers_yes_or_no_about_the_last_move_about_evenly():
    examples = zip(*babi_tasks(6, 400, return_supporting_facts=True), strict=True)
    answers = collections.Counter()
    for story, question, answer, (fact,) in examples:
        person, place = re.fullmatch(r"Is (\w+) in the (\w+)\?", question).groups()
        events = replay(story)
        assert answer == ("yes" if last_place(events, person) == place else "no")
        assert events[fact][:2] == ("move", person)
        answers[answer] += 1
    assert 0.4 < answers["yes"] / 400 < 0.7


def test_three_parallel_lists_of_strings_by_default():
    stories, questions, answers = babi_tasks(2, 5)
    assert len(stories) == len(questions) == len(answers) == 5
    assert all(isinstance(text, str) for text in [*stories, *questions, *answers])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"task": 4, "n": 5}, "`task` must be one of (1, 2, 3, 6), got 4."),
        ({"task": 1, "n": 0}, "`n` must be a positive int, got 0."),
    ],
)
def test_bad_arguments_are_named(arguments, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        babi_tasks(**arguments)
