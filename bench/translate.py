"""Translation quality and speed of a catalog model on Multi30k, trained for a time budget.

Builds the named `zoo.catalog.CATALOG` configuration on Multi30k train (its vocabularies
learned from the training texts), trains it with `model.fit` until the wall-clock budget is
spent, then reports:

- BLEU (sacrebleu, with its signature): validation greedy, test2016 greedy and beam search;
- training throughput in real target tokens (labels that carry loss weight) per second;
- greedy and beam decoding time per sentence on test2016, through `model.predict`;
- the conditions: model, options, parameter count, epochs run, budget and machine.

Run from the repository root:

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/translate.py --data ../shared/data/multi30k \\
        --model lstm-small --budget-minutes 10

A quick check: `--budget-minutes 1 --max-train-pairs 2000`. The last line printed is one JSON
object with every figure.
"""

import argparse
import statistics
import time

import keras
import numpy as np
import tensorflow as tf
from common import BatchMeter, add_record_option, machine_conditions, parse_options, print_json

import zoo
from zoo.tasks.text_pair_preprocessor import SOURCE_LENGTH_BUCKET
from zoo.training.batching import DEFAULT_BUCKET_WIDTH, check_batching

# Steps this many times slower than the median step are taken for (re)tracing of the training
# function, which Keras does for the first batch and again when batch shapes change.
TRACING_STEP_FACTOR = 10.0


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", required=True, help="the Multi30k directory (holding raw/)")
    parser.add_argument(
        "--model", default="lstm-small", choices=sorted(zoo.catalog.CATALOG), help="catalog name"
    )
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a catalog option, e.g. --option units=256 (repeatable; Python literals)",
    )
    parser.add_argument("--budget-minutes", type=float, default=10.0, help="training time")
    parser.add_argument("--source-language", default="en")
    parser.add_argument("--target-language", default="de")
    parser.add_argument(
        "--max-train-pairs", type=int, default=None, help="train on the first N pairs only"
    )
    parser.add_argument(
        "--max-epochs", type=int, default=1000, help="most epochs, budget left or not"
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=None,
        help="decode validation every epoch; keep the epoch of highest greedy BLEU, stopping "
        "after this many epochs without a higher one (default: keep the last epoch)",
    )
    parser.add_argument("--batch-size", type=int, default=None, help="fit(batch_size=N)")
    parser.add_argument("--batch-tokens", type=int, default=None, help="fit(batch_tokens=N)")
    parser.add_argument(
        "--bucket-width", type=int, default=DEFAULT_BUCKET_WIDTH, help="fit(length_bucket_width=N)"
    )
    parser.add_argument(
        "--ema",
        type=float,
        default=None,
        metavar="MOMENTUM",
        help="with --patience: validate, keep and test an exponential moving average of the "
        "weights (Keras' optimizer `use_ema`, `SwapEMAWeights`) of this momentum",
    )
    parser.add_argument("--decode-batch-size", type=int, default=32)
    parser.add_argument("--num-beams", type=int, default=4)
    parser.add_argument("--length-penalty", type=float, default=0.6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", metavar="PATH", help="save the trained model (a .keras file)")
    add_record_option(parser)
    args = parser.parse_args()
    if args.ema is not None and args.patience is None:
        parser.error("--ema needs --patience: the kept epoch's weights are the average's")
    return args


# === Training callbacks ===
def label_token_counts(model, targets):
    """Real target tokens per pair as the loss sees them: the target's tokens, truncated as the
    vectorizer packs them, plus the end token."""
    vectorizer = model.target_vectorizer
    lengths = vectorizer.tokenize(tf.constant(targets)).row_lengths().numpy()
    return np.minimum(lengths, vectorizer.sequence_length - 2) + 1


def batching(args):
    """`fit`'s batching arguments, its default of 64 pairs filled in."""
    batch_size, batch_tokens = check_batching(args.batch_size, args.batch_tokens)
    return {
        "batch_size": batch_size,
        "batch_tokens": batch_tokens,
        "length_bucket_width": args.bucket_width,
    }


def with_weight_average(model, momentum):
    """Recompiles `model` with its optimizer keeping a moving average of the weights."""
    optimizer = model.optimizer
    config = {**optimizer.get_config(), "use_ema": True, "ema_momentum": momentum}
    model.compile(
        optimizer=type(optimizer).from_config(config), loss=model.loss, sampler=model.sampler
    )


def train(model, train_pairs, validation_pairs, args):
    meter = BatchMeter()
    callbacks = [zoo.callbacks.TimeLimit(60.0 * args.budget_minutes), meter]
    if args.patience is not None:
        best = keras.callbacks.EarlyStopping(
            "val_bleu", mode="max", patience=args.patience, restore_best_weights=True, verbose=1
        )
        greedy = zoo.decoding.GreedySampler()
        bleu = zoo.callbacks.GenerationMetrics(*validation_pairs, greedy, args.decode_batch_size)
        if args.ema is not None:
            # Before the callbacks that read the weights at an epoch's end: the average's.
            callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
        callbacks += [bleu, best]
    start = time.perf_counter()
    history = model.fit(
        *train_pairs,
        **batching(args),
        epochs=args.max_epochs,
        validation_data=validation_pairs,
        callbacks=callbacks,
        verbose=2,
    )
    fit_seconds = time.perf_counter() - start

    epoch_tokens = label_token_counts(model, train_pairs[1]).sum()
    steps_per_epoch = int(model.training_dataset(*train_pairs, **batching(args)).cardinality())
    # Whole epochs see every pair once; a stopped epoch saw batches in random order, which
    # hold the epoch's mean batch of tokens on average.
    full_epochs = sum(batches == steps_per_epoch for batches in meter.batches_per_epoch)
    partial_batches = sum(b for b in meter.batches_per_epoch if b != steps_per_epoch)
    mean_batch_tokens = epoch_tokens / steps_per_epoch
    tokens = full_epochs * epoch_tokens + partial_batches * mean_batch_tokens
    # Leave the steps that traced the training function out of the steady rate.
    median_step = statistics.median(meter.batch_seconds)
    tracing = [
        seconds
        for step, seconds in enumerate(meter.batch_seconds)
        if step == 0 or seconds > TRACING_STEP_FACTOR * median_step
    ]
    steady_seconds = sum(meter.batch_seconds) - sum(tracing)
    steady_tokens = max(tokens - len(tracing) * mean_batch_tokens, 0)
    last = {key: values[-1] for key, values in history.history.items()}
    return {
        "fit_seconds": fit_seconds,
        "tracing_steps": len(tracing),
        "tracing_seconds": sum(tracing),
        "median_step_seconds": median_step,
        "train_steps": len(meter.batch_seconds),
        "epochs_run": full_epochs + partial_batches / steps_per_epoch,
        "train_target_tokens": int(tokens),
        "train_target_tokens_per_second": steady_tokens / steady_seconds if steady_seconds else 0,
        "train_target_tokens_per_second_overall": tokens / fit_seconds,
        "final_metrics": {key: round(float(value), 4) for key, value in last.items()},
        "validation_bleu_by_epoch": [
            round(value, 2) for value in history.history.get("val_bleu", [])
        ],
        # The epoch (from 1) whose weights the model ends with.
        "kept_epoch": best.best_epoch + 1 if args.patience is not None else len(history.epoch),
    }


# === Decoding ===
def warm_up(model, texts, sampler, batch_size):
    """Decodes one batch of every shape `predict` meets on `texts`, so that timing it leaves
    out XLA compiles. `predict` pads every batch to `batch_size` rows and source lengths up to
    a multiple of SOURCE_LENGTH_BUCKET, so it compiles once per padded length."""
    seen = set()
    for begin in range(0, len(texts), batch_size):
        batch = texts[begin : begin + batch_size]
        token_ids, _ = model.source_vectorizer(tf.constant(batch), add_start=False)
        padded_length = -(-int(token_ids.shape[1]) // SOURCE_LENGTH_BUCKET)
        if padded_length not in seen:
            seen.add(padded_length)
            # Empty strings fill the batch to full size without lengthening it.
            model.predict(
                batch + [""] * (batch_size - len(batch)), sampler=sampler, batch_size=batch_size
            )
    return len(seen)


def timed_translations(model, texts, sampler, batch_size):
    """Warms up, then translates `texts`; returns (translations, ms per sentence, seconds
    spent warming up)."""
    start = time.perf_counter()
    warm_up(model, texts, sampler, batch_size)
    warm_up_seconds = time.perf_counter() - start
    start = time.perf_counter()
    translations = model.predict(texts, sampler=sampler, batch_size=batch_size)
    return translations, 1000.0 * (time.perf_counter() - start) / len(texts), warm_up_seconds


def main():
    args = parse_args()
    keras.utils.set_random_seed(args.seed)
    start = time.perf_counter()
    conditions = machine_conditions()
    languages = {"source_language": args.source_language, "target_language": args.target_language}
    splits = {
        split: zoo.datasets.load_translation("multi30k", split, path=args.data, **languages)
        for split in ("train", "validation", "test")
    }
    train_pairs = splits["train"]
    if args.max_train_pairs:
        train_pairs = tuple(texts[: args.max_train_pairs] for texts in train_pairs)

    _, catalog_options = zoo.catalog.CATALOG[args.model]
    overrides = parse_options(args.option)
    options = {**catalog_options, **overrides}
    build_start = time.perf_counter()
    model = zoo.build(args.model, *train_pairs, **overrides)
    build_seconds = time.perf_counter() - build_start
    print(
        f"{args.model} {options}: {model.count_params():,} parameters, built in "
        f"{build_seconds:.1f}s; training on {len(train_pairs[0]):,} pairs for at most "
        f"{args.budget_minutes:g} min",
        flush=True,
    )

    if args.ema is not None:
        with_weight_average(model, args.ema)
    training = train(model, train_pairs, splits["validation"], args)
    if args.save:
        model.save(args.save)

    greedy = zoo.decoding.GreedySampler()
    beam = zoo.decoding.BeamSampler(num_beams=args.num_beams, length_penalty=args.length_penalty)
    test_sources, test_references = splits["test"]
    validation_sources, validation_references = splits["validation"]
    decode_start = time.perf_counter()
    bleu, decode_ms, warm_up_seconds, output_words = {}, {}, {}, {}
    for name, sampler in (("greedy", greedy), (f"beam{args.num_beams}", beam)):
        translations, decode_ms[name], warm_up_seconds[name] = timed_translations(
            model, test_sources, sampler, args.decode_batch_size
        )
        bleu[f"test_{name}"] = zoo.metrics.corpus_bleu(translations, test_references)
        # Decoding time grows with output length: an undertrained model that never ends runs
        # every sentence to max_length.
        output_words[name] = float(np.mean([len(text.split()) for text in translations]))
    # Validation with greedy decoding only: beam search over it would add minutes.
    translations = model.predict(
        validation_sources, sampler=greedy, batch_size=args.decode_batch_size
    )
    bleu["validation_greedy"] = zoo.metrics.corpus_bleu(translations, validation_references)
    decode_seconds = time.perf_counter() - decode_start

    figures = {
        "benchmark": "translate",
        "model": args.model,
        "options": options,
        "parameters": model.count_params(),
        "data": {
            "dataset": "multi30k",
            **languages,
            "train_pairs": len(train_pairs[0]),
            "validation_pairs": len(validation_sources),
            "test_pairs": len(test_sources),
            "source_vocabulary_size": model.source_vectorizer.vocabulary_size,
            "target_vocabulary_size": model.target_vectorizer.vocabulary_size,
        },
        "budget_minutes": args.budget_minutes,
        **batching(args),
        "patience": args.patience,
        "ema_momentum": args.ema,
        **{key: _rounded(value) for key, value in training.items()},
        "bleu": {key: round(value, 2) for key, value in bleu.items()},
        "bleu_signature": zoo.metrics.bleu_signature(),
        "decode_ms_per_sentence": {key: round(value, 2) for key, value in decode_ms.items()},
        "decode": {
            "batch_size": args.decode_batch_size,
            "num_beams": args.num_beams,
            "length_penalty": args.length_penalty,
            "max_length": model.target_vectorizer.sequence_length - 1,
            "test_mean_output_words": {key: round(value, 1) for key, value in output_words.items()},
            "test_reference_mean_words": round(
                float(np.mean([len(text.split()) for text in test_references])), 1
            ),
            "warm_up_seconds": {key: round(value, 1) for key, value in warm_up_seconds.items()},
            "all_decoding_seconds": round(decode_seconds, 1),
        },
        "build_seconds": round(build_seconds, 1),
        "conditions": conditions,
        "total_seconds": round(time.perf_counter() - start, 1),
    }
    report(figures)
    print_json(figures, record=args.record)


def _rounded(value):
    return round(value, 2) if isinstance(value, float) else value


def report(figures):
    beam_name = f"beam{figures['decode']['num_beams']}"
    bleu, ms = figures["bleu"], figures["decode_ms_per_sentence"]
    conditions = figures["conditions"]
    batch = (
        f"{figures['batch_tokens']:,} tokens a side"
        if figures["batch_tokens"]
        else f"{figures['batch_size']} pairs"
    )
    print(f"\n{figures['model']} {figures['options']}, {figures['parameters']:,} parameters")
    print(
        f"trained {figures['epochs_run']:.2f} epochs ({figures['train_steps']} steps of at most "
        f"{batch}) on {figures['data']['train_pairs']:,} pairs in "
        f"{figures['fit_seconds']:.0f}s (budget {figures['budget_minutes']:g} min); "
        f"final {figures['final_metrics']}"
    )
    print(
        f"training: {figures['train_target_tokens_per_second']:,.0f} target tokens/s "
        f"(steady, leaving out {figures['tracing_steps']} tracing steps that took "
        f"{figures['tracing_seconds']:.1f}s); "
        f"{figures['train_target_tokens_per_second_overall']:,.0f} over the whole fit"
    )
    if figures["patience"] is not None:
        print(
            f"kept epoch {figures['kept_epoch']} of validation greedy BLEU by epoch "
            f"{figures['validation_bleu_by_epoch']} (patience {figures['patience']})"
        )
    print(f"{'BLEU':<24}{'greedy':>10}{beam_name:>10}")
    print(f"{'validation':<24}{bleu['validation_greedy']:>10.2f}{'-':>10}")
    print(f"{'test2016':<24}{bleu['test_greedy']:>10.2f}{bleu[f'test_{beam_name}']:>10.2f}")
    print(
        f"{'decode ms/sentence':<24}{ms['greedy']:>10.2f}{ms[beam_name]:>10.2f}"
        f"   (test2016, model.predict, batch {figures['decode']['batch_size']}, "
        f"length penalty {figures['decode']['length_penalty']})"
    )
    words = figures["decode"]["test_mean_output_words"]
    print(
        f"{'test2016 output words':<24}{words['greedy']:>10.1f}{words[beam_name]:>10.1f}"
        f"   (references: {figures['decode']['test_reference_mean_words']:.1f})"
    )
    print(f"sacrebleu {figures['bleu_signature']}")
    print(
        f"machine: {conditions['cpu']}, {conditions['usable_cores']} usable cores, "
        f"load {conditions['load_average_1min']} at start; TF {conditions['tensorflow']}, "
        f"Keras {conditions['keras']}; total {figures['total_seconds']:.0f}s\n"
    )


if __name__ == "__main__":
    main()
