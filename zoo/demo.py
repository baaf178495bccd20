"""The main job (`make demo`): the shipped English->French preset, scored on the test split
beside a model trained from scratch for a few minutes, then exported and served.

1. `zoo.from_preset("tatoeba_t5_en_fr")`: test BLEU and five translations.
2. The builder path: `zoo.build("t5-compact", ...)` trained on the shipped corpus for
   `--minutes`, scored on the same test pairs.
3. The preset exported as a SavedModel, reloaded and queried in a fresh Python process that
   imports neither zoo nor Keras.

Run: python -m zoo.demo [--preset tatoeba_t5_en_fr] [--model t5-compact] [--minutes 6]

t5-compact is the model trained from scratch because it learned most in the time: see "The
main job" in bench/README.md.
"""

import argparse
import pathlib
import random
import time

import zoo
from zoo.export import serve_in_fresh_process

EXPORT_ROOT = pathlib.Path("saved_models")
QUERIES = ["I love you.", "Where is the station?", "The cat sleeps on the chair."]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default="tatoeba_t5_en_fr", help="preset name or directory")
    parser.add_argument(
        "--model", default="t5-compact", choices=sorted(zoo.catalog.CATALOG), help="catalog name"
    )
    parser.add_argument("--minutes", type=float, default=6.0, help="training time from scratch")
    args = parser.parse_args()
    started = time.monotonic()
    test_sources, test_targets = zoo.datasets.load_translation("tatoeba", "test")

    print(f"1. zoo.from_preset({args.preset!r})")
    preset = zoo.from_preset(args.preset)
    preset_bleu = greedy_test_bleu(preset, test_sources, test_targets)
    print(f"Test BLEU {preset_bleu:.1f}; five test pairs:")
    examples = random.Random(0).sample(range(len(test_sources)), 5)
    translations = preset.predict([test_sources[i] for i in examples])
    for i, translation in zip(examples, translations, strict=True):
        print(f"  {test_sources[i]!r}\n    -> {translation!r}   (reference: {test_targets[i]!r})")

    print(f"\n2. zoo.build({args.model!r}, ...) trained from scratch for {args.minutes:g} minutes")
    sources, targets = zoo.datasets.load_translation("tatoeba", "train")
    validation = [pairs[:1000] for pairs in zoo.datasets.load_translation("tatoeba", "validation")]
    print(f"Tatoeba En->Fr (Tatoeba.org contributors, CC BY 2.0 FR): {len(sources):,} pairs")
    # Tatoeba's sentences are short and its words few: 4,000 pieces cover them. "auto"
    # trains in mixed bfloat16 where the CPU has bfloat16 units.
    model = zoo.build(args.model, sources, targets, vocabulary_size=4000, dtype="auto")
    model.fit(
        sources,
        targets,
        epochs=100,  # the time limit ends training first
        validation_data=validation,
        callbacks=[zoo.callbacks.TimeLimit(args.minutes * 60)],
    )
    scratch_bleu = greedy_test_bleu(model, test_sources, test_targets)
    print(f"\nTest BLEU: preset {preset_bleu:.1f}, ", end="")
    print(f"trained here for {args.minutes:g} minutes {scratch_bleu:.1f}", end="")
    print(f"  [{zoo.metrics.bleu_signature()}]")

    export_path = EXPORT_ROOT / f"{pathlib.Path(args.preset).name}" / "1"
    print(f"\n3. The preset exported to {export_path}, served by a fresh process:")
    preset.export(export_path)
    answers, _ = serve_in_fresh_process(export_path, QUERIES)["outputs"]
    for query, answer in zip(QUERIES, answers, strict=True):
        print(f"  {query!r} -> {answer!r}")
    print(f"Done in {(time.monotonic() - started) / 60:.1f} minutes.")


def greedy_test_bleu(model, sources, targets):
    """Greedy test BLEU over every pair of the split, with Keras' progress bar."""
    print(f"Scoring {len(sources):,} test pairs (greedy):")
    return model.evaluate(sources, targets)["bleu"]


if __name__ == "__main__":
    main()
