"""Argument checks shared by every layer of zoo, with one wording for each error.

Each function returns nothing and raises ValueError naming the argument and the value
it got, e.g. "`dropout` must be a number in [0, 1), got 1.5.". This module imports
nothing from zoo, so that any module (layers, models, datasets, tasks) can use it.

>>> from zoo import checks
>>> checks.positive_int(0, "units")
Traceback (most recent call last):
ValueError: `units` must be a positive int, got 0.
"""

import inspect
import numbers
import warnings


def positive_int(value, name, allow_none=False):
    """Raises unless `value` is an int (NumPy integers included) of at least 1.

    Bools are rejected although Python counts them as ints: `units=True` is a mistake.
    With `allow_none`, None passes too (for arguments whose default is derived).
    """
    if allow_none and value is None:
        return
    if not _is_number(value, numbers.Integral) or value < 1:
        kind = "a positive int or None" if allow_none else "a positive int"
        raise ValueError(f"`{name}` must be {kind}, got {value!r}.")


def int_at_least(value, name, minimum, why=None, allow_none=False):
    """Raises unless `value` is an int (NumPy integers included, bools not) of at least
    `minimum`; `why` says in a few words why that minimum (e.g. "start, one token, end")."""
    if allow_none and value is None:
        return
    if not _is_number(value, numbers.Integral) or value < minimum:
        reason = f" ({why})" if why else ""
        alternative = " or None" if allow_none else ""
        raise ValueError(
            f"`{name}` must be an int of at least {minimum}{reason}{alternative}, got {value!r}."
        )


def renamed_option(options, old, new):
    """`options` (a dict of keyword arguments) with the option given under its former name
    `old` passed as `new`, with a DeprecationWarning; TypeError when both are given."""
    if old not in options:
        return options
    warnings.warn(f"`{old}` is renamed `{new}`.", DeprecationWarning, stacklevel=3)
    if new in options:
        raise TypeError(f"Pass `{new}` or `{old}`, not both.")
    options = dict(options)
    options[new] = options.pop(old)
    return options


def keyword_options(function, excluded=()):
    """The names of `function`'s arguments that have defaults, but those `excluded`: the
    options a builder forwards to it (e.g. a backbone class's)."""
    return [
        name
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.default is not inspect.Parameter.empty and name not in excluded
    ]


def known_options(options, accepted, where):
    """Raises TypeError naming the keys of `options` (a dict of keyword arguments) that are
    not in `accepted`, options that `where` (a function's name) would forward nowhere."""
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(
            f"Unexpected arguments to `{where}`: {unknown}; its options are {sorted(accepted)}."
        )


def positive_number(value, name):
    """Raises unless `value` is a real number (int or float, not bool) above 0.

    NaN is rejected: it compares False with everything, so `value <= 0` would let it pass.
    """
    if not _is_number(value, numbers.Real) or not value > 0:
        raise ValueError(f"`{name}` must be a positive number, got {value!r}.")


def non_negative_number(value, name):
    """Raises unless `value` is a real number (not bool) >= 0, e.g. a loss weight."""
    if not _is_number(value, numbers.Real) or not value >= 0:
        raise ValueError(f"`{name}` must be a number >= 0, got {value!r}.")


def probability(value, name):
    """Raises unless `value` is a real number (not bool) in [0, 1]."""
    if not _is_number(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"`{name}` must be a number in [0, 1], got {value!r}.")


def one_of(value, choices, name):
    """Raises unless `value` is one of `choices`."""
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {tuple(choices)}, got {value!r}.")


def fraction(value, name):
    """Raises unless `value` is a real number (not bool) in [0, 1), e.g. a dropout rate."""
    if not _is_number(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"`{name}` must be a number in [0, 1), got {value!r}.")


def same_length(first, second, first_name, second_name, note=None):
    """Raises unless the sized `first` and `second` have as many entries.

    `note` says what should pair up, e.g. "one entry of captions per image".
    """
    if len(first) != len(second):
        detail = f" ({note})" if note else ""
        raise ValueError(
            f"`{first_name}` and `{second_name}` must have the same length{detail}, got "
            f"{len(first)} and {len(second)}."
        )


def is_int(value):
    """Whether `value` is an int, NumPy integers included, bools not."""
    return _is_number(value, numbers.Integral)


def _is_number(value, kind):
    # bool is a subclass of int, so isinstance alone would accept True and False.
    return isinstance(value, kind) and not isinstance(value, bool)
