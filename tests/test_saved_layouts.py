"""Models saved by an earlier zoo still load and predict as they did: tests/data holds tiny
models of every family saved before the task redesign, with what they predicted then."""

import json
from pathlib import Path

import numpy as np
import pytest

import zoo

SAVED = Path(__file__).parent / "data" / "saved_before_redesign"
EXPECTED = json.loads((SAVED / "expected.json").read_text())
TEXTS = json.loads((SAVED / "documents.json").read_text())


def inputs(family):
    if family.endswith(("tell", "captioner")):
        return np.load(SAVED / "images.npy")
    return TEXTS["documents"] if family == "hierarchical_attention" else TEXTS["sources"]


@pytest.mark.parametrize("family", sorted(EXPECTED))
def test_a_model_saved_before_the_redesign_predicts_as_it_did(family):
    model = zoo.load(SAVED / f"{family}.keras")
    if family == "hierarchical_attention":
        outputs, scores = model.predict(inputs(family), return_probabilities=True)
    else:
        outputs, scores = model.predict(inputs(family), return_scores=True)
    assert outputs == EXPECTED[family]["outputs"]
    np.testing.assert_allclose(scores, EXPECTED[family]["scores"], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "family, backbone",
    [
        ("show_and_tell", zoo.models.ShowAndTellBackbone),
        ("show_attend_tell", zoo.models.ShowAttendTellBackbone),
    ],
)
def test_a_captioner_of_the_one_recurrent_backbone_class_loads_as_its_decoder_class(
    family, backbone
):
    saved = (SAVED / f"{family}.keras").read_bytes()
    model = zoo.load(SAVED / f"{family}.keras")
    assert type(model.backbone) is backbone
    assert (SAVED / f"{family}.keras").read_bytes() == saved  # upgraded in a copy
