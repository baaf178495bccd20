import math
import re

import numpy as np
import pytest

from zoo import checks

# Each check, the wording of its error, the values it accepts and those it rejects.
CHECKS = {
    "positive_int": (
        "a positive int",
        [1, 7, np.int64(3), np.uint8(1)],
        [0, -1, 1.5, 2.0, True, math.nan, None, "3"],
    ),
    "positive_number": (
        "a positive number",
        [1, 0.5, 1e-9, np.float32(2.0), math.inf],
        [0, 0.0, -1, True, math.nan, None, "1"],
    ),
    "fraction": (
        "a number in [0, 1)",
        [0, 0.0, 0.1, 0.999, np.float32(0.5)],
        [1, 1.5, -0.1, False, True, math.nan, None, "0.1"],
    ),
}
ACCEPTED = [(name, value) for name, (_, good, _) in CHECKS.items() for value in good]
REJECTED = [(name, value) for name, (_, _, bad) in CHECKS.items() for value in bad]


@pytest.mark.parametrize(("check", "value"), ACCEPTED)
def test_accepts(check, value):
    getattr(checks, check)(value, "argument")


@pytest.mark.parametrize(("check", "value"), REJECTED)
def test_rejects_naming_the_argument_and_value(check, value):
    message = f"`argument` must be {CHECKS[check][0]}, got {value!r}."
    with pytest.raises(ValueError, match=re.escape(message)):
        getattr(checks, check)(value, "argument")


def test_positive_int_allow_none():
    checks.positive_int(None, "key_dim", allow_none=True)
    checks.positive_int(4, "key_dim", allow_none=True)
    message = "`key_dim` must be a positive int or None, got 0."
    with pytest.raises(ValueError, match=re.escape(message)):
        checks.positive_int(0, "key_dim", allow_none=True)


@pytest.mark.parametrize("value", [3, 10, np.int64(3)])
def test_int_at_least_accepts_the_minimum_and_above(value):
    checks.int_at_least(value, "sequence_length", 3, "start, one token, end")


@pytest.mark.parametrize("value", [2, -1, 3.0, True, None, "3"])
def test_int_at_least_names_the_minimum_and_why(value):
    message = (
        f"`sequence_length` must be an int of at least 3 (start, one token, end), got {value!r}."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        checks.int_at_least(value, "sequence_length", 3, "start, one token, end")


def test_int_at_least_allow_none():
    checks.int_at_least(None, "top_k", 1, allow_none=True)
    with pytest.raises(ValueError, match=re.escape("`top_k` must be an int of at least 1 or None")):
        checks.int_at_least(0, "top_k", 1, allow_none=True)


def test_known_options_names_the_unknown_ones():
    checks.known_options({"units": 8}, ["units", "cell"], "builder")
    message = "Unexpected arguments to `builder`: ['unit']; its options are ['cell', 'units']."
    with pytest.raises(TypeError, match=re.escape(message)):
        checks.known_options({"unit": 8, "cell": "gru"}, ["units", "cell"], "builder")


def test_renamed_option_passes_the_old_name_as_the_new_with_a_warning():
    assert checks.renamed_option({"units": 8}, "unit", "units") == {"units": 8}
    with pytest.warns(DeprecationWarning, match="`unit` is renamed `units`"):
        assert checks.renamed_option({"unit": 8}, "unit", "units") == {"units": 8}
    with pytest.raises(TypeError, match="Pass `units` or `unit`, not both"):
        with pytest.warns(DeprecationWarning):
            checks.renamed_option({"unit": 8, "units": 8}, "unit", "units")


def test_keyword_options_are_the_arguments_with_defaults_but_the_excluded():
    def builder(texts, units=8, cell="lstm", dtype=None, **kwargs):
        pass

    assert checks.keyword_options(builder, excluded=("dtype",)) == ["units", "cell"]


def test_same_length():
    checks.same_length(["a", "b"], np.zeros((2, 3)), "x", "y")
    message = "`x` and `y` must have the same length, got 2 and 1."
    with pytest.raises(ValueError, match=re.escape(message)):
        checks.same_length(["a", "b"], ["c"], "x", "y")


def test_same_length_note():
    message = "`x` and `y` must have the same length (one entry per image), got 1 and 0."
    with pytest.raises(ValueError, match=re.escape(message)):
        checks.same_length(["a"], [], "x", "y", note="one entry per image")


def test_imports_nothing_from_zoo():
    # The bottom layer: anything in zoo may import it, so it must import none of zoo.
    source = open(checks.__file__).read()
    assert not re.search(r"^\s*(from|import) zoo", source, re.MULTILINE)
