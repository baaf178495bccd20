"""bAbI-style question answering (Weston et al. 2015), generated here: people move between
places and carry objects, and questions ask where someone or something is.

A test bed for multi-hop memory networks (Sukhbaatar et al. 2015): the answer to "Where is the
football?" relates to the question only through the sentence that says who picked it up, and
that person's last move: two hops of attention over the story. Every story is generated from
a seed, so a test can check which sentences a model attends to against the supporting facts.

Tasks (numbered as in bAbI):
1. single supporting fact: "Where is Mary?" -> her last move.
2. two supporting facts: "Where is the football?" -> who picked it up, then where they went.
3. three supporting facts: "Where was the football before the kitchen?" -> who picked it up,
   their move to the kitchen, and the move before it.
6. yes/no questions: "Is Mary in the kitchen?" -> her last move.
"""

import numpy as np

from zoo import checks

PEOPLE = ("Mary", "John", "Daniel", "Sandra")
PLACES = ("bathroom", "bedroom", "garden", "hallway", "kitchen", "office")
OBJECTS = ("apple", "football", "milk")
MOVES = ("moved to", "went to", "journeyed to", "travelled to", "went back to")
TASKS = (1, 2, 3, 6)


def babi_tasks(task, n, seed=0, *, return_supporting_facts=False):
    """Generates `n` (story, question, answer) examples of a bAbI-style task.

    Args:
        task: 1, 2, 3 or 6 (see the module's docstring).
        n: int, how many examples.
        seed: int; the same seed gives the same examples.
        return_supporting_facts: bool, whether to also return, for each example, the indices
            of the story's sentences the answer follows from, in the order a reader uses
            them (for task 2: the pick-up, then the carrier's last move).

    Returns:
        `(stories, questions, answers)`, three parallel lists of str: a story holds one
        sentence per line ("Mary went to the kitchen."), a question ends in "?", an answer is
        one word (a place, or "yes" / "no"); with `return_supporting_facts`, also a list of
        tuples of ints.

    Example:
    >>> stories, questions, answers = zoo.datasets.babi_tasks(2, 1000, seed=0)
    >>> questions[0], answers[0]  # ("Where is the football?", "kitchen")
    """
    checks.one_of(task, TASKS, "task")
    checks.positive_int(n, "n")
    rng = np.random.default_rng(seed)
    generate = {1: _where_is_person, 2: _where_is_object, 3: _where_was_object, 6: _yes_no}[task]
    examples = []
    while len(examples) < n:
        example = generate(_Story(rng))
        if example is not None:  # a story that left nothing to ask: draw another
            examples.append(example)
    stories, questions, answers, supporting_facts = (
        list(part) for part in zip(*examples, strict=True)
    )
    if return_supporting_facts:
        return stories, questions, answers, supporting_facts
    return stories, questions, answers


class _Story:
    """A story being written: its sentences, and the events each one records."""

    def __init__(self, rng):
        self.rng = rng
        self.sentences = []
        self.moves = []  # (sentence index, person, place)
        self.pickups = []  # (sentence index, person, object)
        self.holder = {}  # object -> who holds it now

    def choice(self, options):
        return options[self.rng.integers(len(options))]

    def move(self, person=None):
        person = person or self.choice(PEOPLE)
        place = self.choice(PLACES)
        self.moves.append((len(self.sentences), person, place))
        self.sentences.append(f"{person} {self.choice(MOVES)} the {place}.")

    def pick_up(self):
        free = [thing for thing in OBJECTS if thing not in self.holder]
        if not free:
            return self.move()
        person, thing = self.choice(PEOPLE), self.choice(free)
        self.holder[thing] = person
        self.pickups.append((len(self.sentences), person, thing))
        self.sentences.append(f"{person} picked up the {thing}.")

    def write(self, length, pick_up_share=0.0):
        for _ in range(length):
            if self.rng.random() < pick_up_share:
                self.pick_up()
            else:
                self.move()

    def moves_of(self, person, after=-1):
        """(sentence index, place) of each move of `person` after sentence `after`."""
        return [
            (index, place) for index, who, place in self.moves if who == person and index > after
        ]

    def text(self):
        return "\n".join(self.sentences)


def _where_is_person(story):
    story.write(story.rng.integers(2, 11))
    person = story.choice([who for _, who, _ in story.moves])
    index, place = story.moves_of(person)[-1]
    return story.text(), f"Where is {person}?", place, (index,)


def _yes_no(story):
    story.write(story.rng.integers(2, 11))
    person = story.choice([who for _, who, _ in story.moves])
    index, place = story.moves_of(person)[-1]
    asked = place if story.rng.random() < 0.5 else story.choice(PLACES)
    answer = "yes" if asked == place else "no"
    return story.text(), f"Is {person} in the {asked}?", answer, (index,)


def _where_is_object(story):
    """Where an object is: where its carrier moved last, after picking it up."""
    story.write(story.rng.integers(4, 13), pick_up_share=0.3)
    answerable = []
    for pickup, person, thing in story.pickups:
        moves = story.moves_of(person, after=pickup)
        if moves:
            answerable.append((pickup, thing, *moves[-1]))
    if not answerable:
        return None
    pickup, thing, move, place = story.choice(answerable)
    return story.text(), f"Where is the {thing}?", place, (pickup, move)


def _where_was_object(story):
    """Where an object was before a place: its carrier's moves, after the pick-up."""
    story.write(story.rng.integers(6, 15), pick_up_share=0.25)
    answerable = []
    for pickup, person, thing in story.pickups:
        moves = story.moves_of(person, after=pickup)
        visits = [place for _, place in moves]
        for (before, earlier), (after, later) in zip(moves, moves[1:], strict=False):
            # "Before the kitchen" must name one move: the carrier's only one there.
            if earlier != later and visits.count(later) == 1:
                answerable.append((pickup, thing, before, earlier, after, later))
    if not answerable:
        return None
    pickup, thing, before, earlier, after, later = story.choice(answerable)
    question = f"Where was the {thing} before the {later}?"
    return story.text(), question, earlier, (pickup, after, before)
