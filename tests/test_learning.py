"""The learning tests' stopping rule: train until the bars have held 3 epochs in a row, and
fail when they have not within the cap."""

import keras
import numpy as np
import pytest

from tests import learning

X, Y = np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32")


def scripted(values):
    """A measure that returns the given values, one per epoch, whatever the model."""
    values = iter(values)
    return lambda model: {"exact": next(values)}


def fit(values, max_epochs):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    learning.fit_to_plateau(
        model,
        X,
        Y,
        name="scripted",
        measure=scripted(values),
        bars={"exact": 0.9},
        max_epochs=max_epochs,
    )
    return learning.RECORDS.pop()


def test_stops_once_the_bar_has_held_three_epochs_in_a_row():
    record = fit([0.5, 0.95, 0.5, 0.9, 1.0, 0.95, 0.2, 0.2], max_epochs=8)
    assert (record["first_met"], record["epochs"]) == (2, 6)
    assert [measures["exact"] for measures in record["measures"]] == [
        0.5,
        0.95,
        0.5,
        0.9,
        1.0,
        0.95,
    ]


@pytest.mark.parametrize(
    ("values", "first_met"), [([0.1, 0.2, 0.3, 0.4], None), ([0.1, 0.2, 0.95, 0.95], 3)]
)
def test_fails_when_the_bar_has_not_held_three_epochs_by_the_cap(values, first_met):
    with pytest.raises(pytest.fail.Exception, match="did not hold 3 epochs in a row within 4"):
        fit(values, max_epochs=4)
    record = learning.RECORDS.pop()
    assert (record["first_met"], record["epochs"]) == (first_met, 4)
