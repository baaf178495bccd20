import math
import re

import numpy as np
import pytest

from zoo import checks


@pytest.mark.parametrize("value", [1, 7, np.int64(3), np.uint8(1)])
def test_positive_int_accepts(value):
    checks.positive_int(value, "units")


@pytest.mark.parametrize(
    "value, shown",
    [
        (0, "0"),
        (-1, "-1"),
        (1.5, "1.5"),
        (2.0, "2.0"),
        (True, "True"),
        (math.nan, "nan"),
        (None, "None"),
        ("3", "'3'"),
    ],
)
def test_positive_int_rejects(value, shown):
    message = f"`units` must be a positive int, got {shown}."
    with pytest.raises(ValueError, match=re.escape(message)):
        checks.positive_int(value, "units")


def test_positive_int_allow_none():
    checks.positive_int(None, "key_dim", allow_none=True)
    checks.positive_int(4, "key_dim", allow_none=True)
    message = "`key_dim` must be a positive int or None, got 0."
    with pytest.raises(ValueError, match=re.escape(message)):
        checks.positive_int(0, "key_dim", allow_none=True)


@pytest.mark.parametrize("value", [1, 0.5, 1e-9, np.float32(2.0), math.inf])
def test_positive_number_accepts(value):
    checks.positive_number(value, "scale")


@pytest.mark.parametrize(
    "value, shown",
    [
        (0, "0"),
        (0.0, "0.0"),
        (-1, "-1"),
        (True, "True"),
        (math.nan, "nan"),
        (None, "None"),
        ("1", "'1'"),
    ],
)
def test_positive_number_rejects(value, shown):
    message = f"`scale` must be a positive number, got {shown}."
    with pytest.raises(ValueError, match=re.escape(message)):
        checks.positive_number(value, "scale")


@pytest.mark.parametrize("value", [0, 0.0, 0.1, 0.999, np.float32(0.5)])
def test_fraction_accepts(value):
    checks.fraction(value, "dropout")


@pytest.mark.parametrize(
    "value, shown",
    [
        (1, "1"),
        (1.5, "1.5"),
        (-0.1, "-0.1"),
        (False, "False"),
        (True, "True"),
        (math.nan, "nan"),
        (None, "None"),
        ("0.1", "'0.1'"),
    ],
)
def test_fraction_rejects(value, shown):
    message = f"`dropout` must be a number in [0, 1), got {shown}."
    with pytest.raises(ValueError, match=re.escape(message)):
        checks.fraction(value, "dropout")


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
