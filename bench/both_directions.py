"""One text-to-text T5 that translates both ways, against the two shipped one-way presets.

The shipped English<->French presets are two `t5-compact` models, one per direction. T5's
alternative is one model of the same size trained on both directions at once, told which by a
task prefix ("translate English to French: ..."): half the bytes, if it translates as well.
This script trains that model with the presets' recipe (bench/train_preset.py: same
architecture, vocabulary size, batches, early stopping) on as many pairs as the two presets
saw together (their epochs, each over one direction's pairs, summed and halved: an epoch
here holds both directions), scores each direction on the whole test split as the presets
were scored (greedy, float16 weights loaded in float32), and prints both options side by
side: BLEU per direction and bytes on disk. Run it alone on the machine; the last line is one
JSON object.

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/both_directions.py

A quick check that it all runs: `--epochs 1 --minutes 0.5 --max-test-pairs 100`.
"""

import argparse
import json
import pathlib
import tempfile

import keras
from common import add_record_option, machine_conditions, print_json
from train_preset import VALIDATION_PAIRS, fit_recipe, tatoeba_split, test_bleu

import zoo
from zoo.preset.format import METADATA, SHIPPED

LANGUAGES = {"en": "English", "fr": "French"}
ONE_WAY_PRESETS = {("en", "fr"): "tatoeba_t5_en_fr", ("fr", "en"): "tatoeba_t5_fr_en"}
WEIGHTS_DTYPE = "float16"  # as both one-way presets ship
# The one-way presets' epochs, from their cards (early-stopped runs): an epoch of both
# directions holds twice the pairs, so the same training is half as many epochs.
ONE_WAY_EPOCHS = 15 + 11


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=-(-ONE_WAY_EPOCHS // 2),
        help="most epochs of both directions (default: the one-way presets' pairs together)",
    )
    parser.add_argument(
        "--minutes", type=float, default=100.0, help="training time budget, a safety stop"
    )
    parser.add_argument(
        "--max-test-pairs", type=int, default=None, help="score on the first N (quick checks)"
    )
    parser.add_argument("--seed", type=int, default=0)
    add_record_option(parser)
    return parser.parse_args()


def directory_bytes(directory):
    return sum(path.stat().st_size for path in pathlib.Path(directory).rglob("*") if path.is_file())


def one_way_presets():
    """{(source, target): (test BLEU recorded in the preset, its bytes on disk)}."""
    figures = {}
    for languages, name in ONE_WAY_PRESETS.items():
        metadata = json.loads((SHIPPED / name / METADATA).read_text())
        figures[languages] = (metadata["test_bleu"], directory_bytes(SHIPPED / name))
    return figures


def both_ways_texts(split):
    """(inputs, targets) of both directions of a Tatoeba split, each input prefixed."""
    english, french = tatoeba_split(split, "en", "fr")
    return zoo.datasets.text_to_text(
        zoo.datasets.translation_tasks(english, french, LANGUAGES["en"], LANGUAGES["fr"])
    )


def prefixed_test_pairs(source, target, max_pairs):
    sources, targets = tatoeba_split("test", source, target)
    prefix = f"translate {LANGUAGES[source]} to {LANGUAGES[target]}: "
    return [prefix + text for text in sources[:max_pairs]], targets[:max_pairs]


def main():
    args = parse_args()
    keras.utils.set_random_seed(args.seed)
    conditions = machine_conditions()
    one_way = one_way_presets()
    validation_inputs, validation_targets = both_ways_texts("validation")
    model, figures = fit_recipe(
        *both_ways_texts("train"),
        (validation_inputs[: 2 * VALIDATION_PAIRS], validation_targets[: 2 * VALIDATION_PAIRS]),
        args.minutes,
        args.epochs,
    )
    with tempfile.TemporaryDirectory() as directory:
        model.save_to_preset(f"{directory}/preset", weights_dtype=WEIGHTS_DTYPE)
        both_ways_bytes = directory_bytes(f"{directory}/preset")
    rows = {}
    for (source, target), (one_way_bleu, _) in one_way.items():
        test_pairs = prefixed_test_pairs(source, target, args.max_test_pairs)
        rows[f"{source}->{target}"] = {
            "one_way_preset_bleu": one_way_bleu,
            "both_ways_model_bleu": test_bleu(model, WEIGHTS_DTYPE, test_pairs),
            "test_pairs": len(test_pairs[0]),
        }
    print(f"{'direction':10} {'two one-way presets':>20} {'one both-ways model':>20}")
    for direction, row in rows.items():
        print(f"{direction:10} {row['one_way_preset_bleu']:>20} {row['both_ways_model_bleu']:>20}")
    one_way_bytes = sum(size for _, size in one_way.values())
    print(f"{'bytes':10} {one_way_bytes:>20,} {both_ways_bytes:>20,}")
    print_json(
        {
            "benchmark": "both_directions",
            "budget_minutes": args.minutes,
            "max_epochs": args.epochs,
            **figures,
            "test_bleu": rows,
            "one_way_presets_bytes": one_way_bytes,
            "both_ways_model_bytes": both_ways_bytes,
            "weights_dtype": WEIGHTS_DTYPE,
            "bleu_signature": zoo.metrics.bleu_signature(),
            "conditions": conditions,
        },
        record=args.record,
    )


if __name__ == "__main__":
    main()
