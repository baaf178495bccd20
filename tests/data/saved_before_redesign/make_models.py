"""Writes the tiny models of this folder and what they predicted, with zoo as of 66a9484 (the
layout before the task redesign of issue 21). Run once, then committed: rerunning it after a
layout change would defeat tests/test_saved_layouts.py, which checks that these files still
load and predict the same. Run from the repository root:

    .venv/bin/python -m tests.data.saved_before_redesign.make_models
"""

import json
from pathlib import Path

import keras
import numpy as np

import zoo
from tests.test_case import MEMORY_SOURCES, MEMORY_TARGETS, normalized
from zoo.datasets.keyword_documents import keyword_documents

FOLDER = Path(__file__).parent
SOURCES, TARGETS = MEMORY_SOURCES[:6], MEMORY_TARGETS[:6]
IMAGES, CAPTIONS = zoo.datasets.shapes_captions(6, seed=0, image_size=32)
DOCUMENTS, LABELS = keyword_documents(16, seed=0)
TRANSFORMER = {"num_layers": 1, "hidden_dim": 16, "num_heads": 2, "intermediate_dim": 32}
RECURRENT = {"embedding_dim": 32, "units": 64}
CAPTIONER = {"image_size": 32, "encoder_filters": (8, 16)}
EPOCHS = 300
BUILDERS = {
    "lstm": lambda: zoo.lstm_translator(SOURCES, TARGETS, **RECURRENT),
    "bahdanau": lambda: zoo.attention_translator(
        SOURCES, TARGETS, attention="bahdanau", **RECURRENT
    ),
    "transformer": lambda: zoo.transformer(SOURCES, TARGETS, **TRANSFORMER),
    "t5": lambda: zoo.t5(SOURCES, TARGETS, sentinels=0, **TRANSFORMER),
    "show_and_tell": lambda: zoo.image_captioner(
        IMAGES, CAPTIONS, decoder="show-and-tell", **RECURRENT, **CAPTIONER
    ),
    "show_attend_tell": lambda: zoo.image_captioner(
        IMAGES, CAPTIONS, decoder="show-attend-tell", **RECURRENT, **CAPTIONER
    ),
    "transformer_captioner": lambda: zoo.image_captioner(
        IMAGES,
        CAPTIONS,
        decoder="transformer",
        hidden_dim=16,
        intermediate_dim=32,
        num_layers=1,
        **CAPTIONER,
    ),
    "hierarchical_attention": lambda: zoo.hierarchical_attention_classifier(
        DOCUMENTS, LABELS, embedding_dim=8, units=8, max_sentences=4, max_words=8
    ),
}


def training_data(family):
    """What each family's model memorises, and is then asked to predict."""
    if family.endswith(("tell", "captioner")):
        return IMAGES, CAPTIONS
    if family == "hierarchical_attention":
        return DOCUMENTS, LABELS
    return SOURCES, TARGETS


def inputs(family):
    return training_data(family)[0]


def predictions(model, family):
    """`predict`'s outputs and their scores (class probabilities for the classifier)."""
    if family == "hierarchical_attention":
        labels, probabilities = model.predict(inputs(family), return_probabilities=True)
        return {"outputs": labels, "scores": np.asarray(probabilities).tolist()}
    outputs, scores = model.predict(inputs(family), return_scores=True)
    return {"outputs": outputs, "scores": np.asarray(scores).tolist()}


def main():
    expected = {}
    for family, build in BUILDERS.items():
        keras.utils.set_random_seed(0)
        model = build()
        # Memorised, so that greedy decoding has wide margins: the same outputs on any CPU.
        model.compile(optimizer=keras.optimizers.Adam(0.01))
        model.fit(*training_data(family), epochs=EPOCHS, batch_size=16, verbose=0)
        predicted = predictions(model, family)
        wanted = training_data(family)[1]
        wanted = wanted if family == "hierarchical_attention" else normalized(wanted)
        assert predicted["outputs"] == wanted, (family, predicted["outputs"])
        model.save(FOLDER / f"{family}.keras")
        expected[family] = predicted
    np.save(FOLDER / "images.npy", IMAGES)
    (FOLDER / "documents.json").write_text(json.dumps({"sources": SOURCES, "documents": DOCUMENTS}))
    (FOLDER / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
