"""Text-to-text mixtures (Raffel et al. 2020): several tasks in one corpus, told apart by a
prefix on each input."""

import numpy as np

from zoo.tasks.inputs import as_text_pairs


def translation_tasks(source_texts, target_texts, source_language, target_language):
    """Both directions of a parallel corpus as text-to-text tasks, named as T5 names them.

    Args:
        source_texts: list of str.
        target_texts: list of str, parallel to `source_texts`.
        source_language: str, e.g. "English".
        target_language: str, e.g. "German".

    Returns:
        dict: {"translate English to German": (source_texts, target_texts),
        "translate German to English": (target_texts, source_texts)}, ready for
        `text_to_text`.

    Example:
    >>> tasks = zoo.datasets.translation_tasks(english, german, "English", "German")
    >>> inputs, targets = zoo.datasets.text_to_text(tasks)
    """
    sources, targets = as_text_pairs(source_texts, target_texts, "source_texts", "target_texts")
    return {
        f"translate {source_language} to {target_language}": (sources, targets),
        f"translate {target_language} to {source_language}": (targets, sources),
    }


def text_to_text(tasks, seed=0):
    """Mixes tasks into one (inputs, targets) corpus: each input becomes "{task}: {input}".

    Every example of every task is kept once (examples-proportional mixing), in an order
    shuffled with `seed`, so a model trained on the mixture learns all tasks at once and is
    told which to do by the prefix.

    Args:
        tasks: dict of task prefix (str) -> (inputs, targets), lists of str.
        seed: int, the shuffling seed; None keeps the tasks one after the other.

    Returns:
        (inputs, targets): two lists of str.

    Example:
    >>> inputs, targets = zoo.datasets.text_to_text({
    ...     "translate English to German": (english, german),
    ...     "summarize": (articles, summaries),
    ... })
    >>> inputs[0]  # e.g. "summarize: The ..."
    """
    if not isinstance(tasks, dict) or not tasks:
        raise ValueError(
            "`tasks` must be a non-empty dict of task prefix -> (inputs, targets), got "
            f"{type(tasks).__name__}: {tasks!r:.80}."
        )
    inputs, targets = [], []
    for prefix, pairs in tasks.items():
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(f"Every key of `tasks` must be a non-empty str, got {prefix!r}.")
        if not isinstance(pairs, (tuple, list)) or len(pairs) != 2:
            raise ValueError(f"`tasks[{prefix!r}]` must be a pair (inputs, targets).")
        task_inputs, task_targets = as_text_pairs(
            *pairs, f"tasks[{prefix!r}][0]", f"tasks[{prefix!r}][1]"
        )
        inputs.extend(f"{prefix}: {text}" for text in task_inputs)
        targets.extend(task_targets)
    if seed is not None:
        order = np.random.default_rng(seed).permutation(len(inputs))
        inputs, targets = [inputs[i] for i in order], [targets[i] for i in order]
    return inputs, targets
