"""Trains a shipped preset from scratch and writes it, with its model card, for the package.

Each recipe trains `t5-compact` (hidden 256, 3+3 layers, a shared 8,000-piece vocabulary) on
the shipped Tatoeba corpus in one direction, in mixed bfloat16 where the CPU has bfloat16
units, for a wall-clock budget, keeping the weights of the best validation loss. It then
measures test BLEU (greedy, the whole test split) with the weights stored in float32 and in
float16, ships float16 when that costs at most 0.3 BLEU, records the translations of a fixed
sentence list (which the tests compare exactly) and writes the preset and its card.

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/train_preset.py tatoeba_t5_en_fr

The preset goes to zoo/preset/shipped/NAME (`--output` elsewhere), which must not exist
yet. The last line printed is one JSON object with every figure. A quick check that it all
runs: `--minutes 0.5 --max-test-pairs 100 --output /tmp/preset`.
"""

import argparse
import pathlib
import shlex
import sys
import tempfile
import time

import keras
from common import add_record_option, machine_conditions, print_json

import zoo
from zoo.preset.format import SHIPPED

MODEL = "t5-compact"
BUILD_OPTIONS = {"vocabulary_size": 8000, "dtype": "auto"}
BATCH_SIZE = 64
VALIDATION_PAIRS = 1000
# Loading float16 weights may cost this much test BLEU at most; beyond it float32 ships.
FLOAT16_BLEU_TOLERANCE = 0.3
RECIPES = {
    "tatoeba_t5_en_fr": ("en", "fr"),
    "tatoeba_t5_fr_en": ("fr", "en"),
}
# Sentences the tests translate with every shipped preset and compare with the recorded output.
EXAMPLES = {
    "en": [
        "I love you.",
        "Where is the station?",
        "Birds fly.",
        "I don't know what to do.",
        "She reads a book every week.",
        "We will leave tomorrow morning.",
    ],
    "fr": [
        "Je t'aime.",
        "Où est la gare ?",
        "Les oiseaux volent.",
        "Je ne sais pas quoi faire.",
        "Elle lit un livre chaque semaine.",
        "Nous partirons demain matin.",
    ],
}
LANGUAGES = {"en": "English", "fr": "French"}


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", choices=sorted(RECIPES))
    parser.add_argument("--minutes", type=float, default=75.0, help="training time budget")
    parser.add_argument("--output", default=None, help="preset directory to write")
    parser.add_argument(
        "--max-test-pairs", type=int, default=None, help="score on the first N (quick checks)"
    )
    parser.add_argument("--seed", type=int, default=0)
    add_record_option(parser)
    return parser.parse_args()


def fit_recipe(sources, targets, validation, minutes, max_epochs=None):
    """Builds `MODEL` on the texts and trains it as every preset is trained: batches of
    `BATCH_SIZE`, for at most `minutes` (and `max_epochs`, if given), keeping the weights of
    the best validation loss.

    Returns the model and the training figures that go in a card.
    """
    model = zoo.build(MODEL, sources, targets, **BUILD_OPTIONS)
    started = time.monotonic()
    history = model.fit(
        sources,
        targets,
        batch_size=BATCH_SIZE,
        epochs=max_epochs or 1000,  # else the time limit or early stopping ends training
        validation_data=validation,
        callbacks=[
            zoo.callbacks.TimeLimit(60 * minutes),
            keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True),
        ],
        verbose=2,
    )
    return model, {
        "train_pairs": len(sources),
        "train_minutes": round((time.monotonic() - started) / 60, 1),
        "epochs": len(history.history["loss"]),
        "best_validation_loss": round(min(history.history["val_loss"]), 4),
    }


def tatoeba_split(name, source_language, target_language):
    return zoo.datasets.load_translation(
        "tatoeba", name, source_language=source_language, target_language=target_language
    )


def train(args, source_language, target_language):
    def split(name):
        return tatoeba_split(name, source_language, target_language)

    validation = [texts[:VALIDATION_PAIRS] for texts in split("validation")]
    model, figures = fit_recipe(*split("train"), validation, args.minutes)
    test_pairs = [texts[: args.max_test_pairs] for texts in split("test")]
    return model, test_pairs, figures


def test_bleu(model, weights_dtype, test_pairs):
    """Test BLEU of `model` saved with `weights_dtype` weights and loaded in float32."""
    with tempfile.TemporaryDirectory() as directory:
        model.save_to_preset(f"{directory}/preset", weights_dtype=weights_dtype)
        loaded = zoo.from_preset(f"{directory}/preset", dtype="float32")
    return round(loaded.evaluate(*test_pairs, verbose=0)["bleu"], 2)


def card(name, source_language, target_language, figures, conditions):
    source, target = LANGUAGES[source_language], LANGUAGES[target_language]
    examples = "\n".join(
        f"| {sentence} | {translation} |" for sentence, translation in figures["examples"].items()
    )
    return f"""# {name}: {source} → {target}, T5 trained on Tatoeba

A `t5-compact` text-to-text Transformer (`zoo.t5`: hidden 256, 3 encoder and 3 decoder
layers, 4 heads, feed-forward 1,024, relative position buckets, tied embeddings) with one
SentencePiece-like vocabulary of {figures["vocabulary_size"]:,} pieces for both languages:
{figures["parameter_count"]:,} parameters, stored in {figures["weights_dtype"]}.

## Training data
Tatoeba {source}–{target} sentence pairs as shipped in `zoo.datasets` ({figures["train_pairs"]:,}
training pairs; Tatoeba.org contributors, CC BY 2.0 FR, via manythings.org; see
`zoo/datasets/data/TATOEBA_ATTRIBUTION.md`). Splits by an md5 hash of the English sentence.

## Training
`{figures["command"]}`: Adafactor (step min(0.01, 1/sqrt(step))), batches of at most
{BATCH_SIZE} pairs of similar length, mixed bfloat16, dropout 0.1, for at most
{figures["budget_minutes"]:g} minutes, keeping the weights of the best validation loss (1,000
validation pairs). It trained {figures["epochs"]} epochs in {figures["train_minutes"]} minutes on
{conditions["cpu"]} ({conditions["usable_cores"]} cores), TensorFlow {conditions["tensorflow"]},
Keras {conditions["keras"]}.

## Scores
Test BLEU **{figures["test_bleu"]}** on the {figures["test_pairs"]:,} pairs of the test split,
greedy decoding, float32 computation (`zoo.from_preset(name, dtype="float32")`; {
        figures["float32_weights_bleu"]
    } with float32 weights stored, {figures["float16_weights_bleu"]}
with float16), sacrebleu `{figures["bleu_signature"]}`.

## Decoding
Greedy by default; `predict(..., sampler="beam")` for beam search. Texts of up to 64 pieces.

| {source} | {target} (greedy) |
|---|---|
{examples}

## Known limits
Tatoeba's sentences are short and everyday: long, technical or formal text is out of its
domain. It has seen nothing but {source}–{target} pairs, so it does not follow T5 task
prefixes. Its vocabulary is learned from Tatoeba alone: rare names and words are split into
small pieces and often mistranslated.
"""


def main():
    args = parse_args()
    keras.utils.set_random_seed(args.seed)
    conditions = machine_conditions()
    output = pathlib.Path(args.output or SHIPPED / args.name)
    if output.exists():
        raise SystemExit(f"{output} exists: remove it or pass --output.")
    source_language, target_language = RECIPES[args.name]
    model, test_pairs, figures = train(args, source_language, target_language)
    bleu = {dtype: test_bleu(model, dtype, test_pairs) for dtype in ("float32", "float16")}
    weights_dtype = (
        "float16" if bleu["float32"] - bleu["float16"] <= FLOAT16_BLEU_TOLERANCE else "float32"
    )
    with tempfile.TemporaryDirectory() as directory:
        model.save_to_preset(f"{directory}/preset", weights_dtype=weights_dtype)
        shipped = zoo.from_preset(f"{directory}/preset", dtype="float32")
    sentences = EXAMPLES[source_language]
    figures.update(
        name=args.name,
        source_language=source_language,
        target_language=target_language,
        command=shlex.join(["python", *sys.argv]),
        budget_minutes=args.minutes,
        vocabulary_size=model.source_vectorizer.vocabulary_size,
        parameter_count=model.backbone.count_params(),
        test_pairs=len(test_pairs[0]),
        float32_weights_bleu=bleu["float32"],
        float16_weights_bleu=bleu["float16"],
        weights_dtype=weights_dtype,
        test_bleu=bleu[weights_dtype],
        bleu_signature=zoo.metrics.bleu_signature(),
        examples=dict(zip(sentences, shipped.predict(sentences), strict=True)),
    )
    text = card(args.name, source_language, target_language, figures, conditions)
    recorded = ("source_language", "target_language", "test_bleu", "bleu_signature", "examples")
    metadata = {key: figures[key] for key in recorded}
    shipped.save_to_preset(output, card=text, weights_dtype=weights_dtype, metadata=metadata)
    print(text)
    print_json(
        {"benchmark": "train_preset", **figures, "conditions": conditions}, record=args.record
    )


if __name__ == "__main__":
    main()
