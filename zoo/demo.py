"""The main job (`make demo`): train a translator on the shipped Tatoeba En->Fr corpus,
report test BLEU, export a SavedModel and translate with the reloaded export.

Run: python -m zoo.demo [--model t5-compact] [--minutes 8]

t5-compact is the default because it learned most in the time: see "The main job" in
bench/README.md for the candidates' figures.
"""

import argparse
import pathlib
import random
import time

import tensorflow as tf

import zoo

EXPORT_ROOT = pathlib.Path("saved_models")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--model", default="t5-compact", choices=sorted(zoo.catalog.CATALOG), help="catalog name"
    )
    parser.add_argument("--minutes", type=float, default=8.0, help="training time budget")
    parser.add_argument("--test-pairs", type=int, default=1000, help="test pairs for BLEU")
    args = parser.parse_args()
    started = time.monotonic()

    sources, targets = zoo.datasets.load_translation("tatoeba", "train")
    validation = [pairs[:1000] for pairs in zoo.datasets.load_translation("tatoeba", "validation")]
    test_sources, test_targets = zoo.datasets.load_translation("tatoeba", "test")
    test_sources, test_targets = test_sources[: args.test_pairs], test_targets[: args.test_pairs]
    print(f"Tatoeba En->Fr (Tatoeba.org contributors, CC BY 2.0 FR): {len(sources):,} train pairs")

    # Tatoeba's sentences are short and its words few: 4,000 tokens cover them. "auto" trains
    # in mixed bfloat16 where the CPU has bfloat16 units.
    model = zoo.build(args.model, sources, targets, vocabulary_size=4000, dtype="auto")
    model.backbone.summary()
    model.fit(
        sources,
        targets,
        epochs=100,  # the time limit ends training first
        validation_data=validation,
        callbacks=[zoo.callbacks.TimeLimit(args.minutes * 60)],
    )

    metrics = model.evaluate(test_sources, test_targets, verbose=0)
    print(f"\nTest ({len(test_sources)} pairs): BLEU {metrics['bleu']:.1f}, ", end="")
    print(f"token accuracy {metrics['token_accuracy']:.3f}  [{zoo.metrics.bleu_signature()}]")
    examples = random.Random(0).sample(range(len(test_sources)), 5)
    translations = model.predict([test_sources[i] for i in examples])
    for i, translation in zip(examples, translations, strict=True):
        print(f"  {test_sources[i]!r}\n    -> {translation!r}   (reference: {test_targets[i]!r})")

    export_path = EXPORT_ROOT / f"tatoeba_en_fr_{args.model}" / "1"
    model.export(export_path)
    served = tf.saved_model.load(str(export_path)).signatures["serving_default"]
    sentence = "I love you."
    result = served(inputs=tf.constant([sentence]))
    print(f"\nExported to {export_path}; the reloaded SavedModel translates")
    print(f"  {sentence!r} -> {result['outputs'].numpy()[0].decode()!r}")
    print(f"Done in {(time.monotonic() - started) / 60:.1f} minutes.")


if __name__ == "__main__":
    main()
