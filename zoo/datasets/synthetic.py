"""Synthetic translation tasks whose right alignment is known."""

import numpy as np

SYMBOLS = tuple("abcdefghijklmnopqrst")


def reversal_pairs(n, seed=0, min_length=3, max_length=8):
    """Sources of random lower-case letters; targets the same letters upper-cased, reversed.

    "c a f" -> "F A C": target token j comes from source token `length - 1 - j`, so an
    attention model should learn the anti-diagonal alignment. Deterministic for a seed.

    Args:
        n: int, number of pairs.
        seed: int, the random seed.
        min_length: int, fewest letters per sentence.
        max_length: int, most letters per sentence.

    Returns:
        (sources, targets): two lists of n space-separated strings.

    Example:
    >>> sources, targets = zoo.datasets.reversal_pairs(1000)
    >>> model = zoo.attention_translator(sources, targets, tokenizer_level="word")
    """
    if not 1 <= min_length <= max_length:
        raise ValueError(
            f"Need 1 <= `min_length` <= `max_length`, got {min_length!r} and {max_length!r}."
        )
    rng = np.random.default_rng(seed)
    sources, targets = [], []
    for _ in range(n):
        letters = rng.choice(SYMBOLS, size=rng.integers(min_length, max_length + 1))
        sources.append(" ".join(letters))
        targets.append(" ".join(letter.upper() for letter in letters[::-1]))
    return sources, targets
