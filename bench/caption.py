"""Image captioning on Flickr8k: each decoder trained for a time budget, BLEU-1..4 on test.

For every (decoder, encoder) pair asked for (show-attend-tell once per `--attention`: soft,
hard), builds `zoo.image_captioner` on the Flickr8k training images present (3,000 of the
official 6,000; its vocabulary learned from their captions, each (image, caption) pair one
training example), trains it with `model.fit` until the wall-clock budget is spent, then
reports:

- BLEU-1 to BLEU-4 on the official test split (1,000 images, five references each), greedy
  (through `model.evaluate`, with the teacher-forced test loss) and beam search (through
  `model.predict` and `zoo.metrics.caption_bleu`), beside the published Flickr8k figures;
- validation loss per epoch (Flickr8k dev), and the conditions: decoder, encoder, its
  trainable phases, image size, images and pairs, epochs, parameters, minutes and machine.

Encoders: "small-cnn" is trained from scratch; "mobilenet" is keras.applications MobileNet
(alpha 0.25) with the local ImageNet weights, frozen for the first part of the budget, then
fine-tuned at a 10x lower learning rate for `--fine-tune-fraction` of it.

Run from the repository root:

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/caption.py --budget-minutes 12

A quick check: `--budget-minutes 0.2 --max-train-images 40 --max-validation-images 10
--max-test-images 20 --image-size 64`. The last line printed is one JSON object with every
figure.
"""

import argparse
import time
from pathlib import Path

import keras
import numpy as np
from common import (
    BatchMeter,
    add_record_option,
    machine_conditions,
    parse_options,
    print_json,
)

import zoo

REPOSITORY = Path(__file__).resolve().parent.parent
# Published BLEU on the Flickr8k test split (ImageNet-pretrained encoders, all 6,000 training
# images, full-resolution images): Vinyals et al. 2015, Xu et al. 2015, by run label.
PUBLISHED = {
    "show-and-tell": ("Show and Tell (Vinyals et al. 2015)", {"bleu_1": 63.0}),
    "show-attend-tell (soft)": (
        "Show, Attend and Tell, soft (Xu et al. 2015)",
        {"bleu_1": 67.0, "bleu_4": 19.5},
    ),
    "show-attend-tell (hard)": (
        "Show, Attend and Tell, hard (Xu et al. 2015)",
        {"bleu_1": 67.0, "bleu_4": 21.3},
    ),
}
ATTENTIONS = ("soft", "hard")
DEFAULT_IMAGE_SIZE = {"small-cnn": 128, "mobilenet": 224}
# Fine-tuning a pretrained encoder takes smaller steps than training the decoder from scratch.
FINE_TUNE_LEARNING_RATE_FACTOR = 0.1
BLEU_ORDERS = ("bleu_1", "bleu_2", "bleu_3", "bleu_4")


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data",
        default="../shared/data/flickr8k",
        help="the Flickr8k directory (relative paths from the repository root)",
    )
    parser.add_argument(
        "--decoder",
        default="show-and-tell,show-attend-tell,transformer",
        help="comma-separated decoders, passed to zoo.image_captioner as they are",
    )
    parser.add_argument(
        "--attention",
        default="soft",
        help="comma-separated attentions of the show-attend-tell runs: soft, hard",
    )
    parser.add_argument(
        "--encoder", default="small-cnn,mobilenet", help="comma-separated: small-cnn, mobilenet"
    )
    parser.add_argument(
        "--weights",
        default="../shared/data/weights/mobilenet_2_5_224_tf_no_top.h5",
        help="MobileNet's ImageNet weights (relative paths from the repository root)",
    )
    parser.add_argument("--encoder-alpha", type=float, default=0.25, help="MobileNet's width")
    parser.add_argument(
        "--fine-tune-fraction",
        type=float,
        default=0.5,
        help="share of a MobileNet run's budget spent fine-tuning the encoder (0: frozen only)",
    )
    parser.add_argument(
        "--fine-tune-layers",
        type=int,
        default=1000,
        help="layers holding weights fine-tuned, from the top (default: all of them)",
    )
    parser.add_argument(
        "--image-size",
        type=int,
        default=None,
        help="images are resized to this (default: 128 for small-cnn, 224 for mobilenet)",
    )
    parser.add_argument(
        "--budget-minutes", type=float, default=10.0, help="training time of each run"
    )
    parser.add_argument(
        "--max-epochs", type=int, default=1000, help="most epochs, budget left or not"
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=None,
        help="end a phase after this many epochs without a lower validation loss, keeping the "
        "weights of its best epoch (default: train the whole budget, keep the last weights)",
    )
    parser.add_argument(
        "--max-train-images", type=int, default=None, help="train on the first N images only"
    )
    parser.add_argument(
        "--max-validation-images",
        type=int,
        default=500,
        help="validation loss on the first N dev images (their validation pass counts in the "
        "budget)",
    )
    parser.add_argument(
        "--max-test-images", type=int, default=None, help="test on the first N images only"
    )
    parser.add_argument("--vocabulary-size", type=int, default=5000)
    parser.add_argument("--sequence-length", type=int, default=32)
    parser.add_argument("--embedding-dim", type=int, default=256)
    parser.add_argument("--units", type=int, default=512)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="another zoo.image_captioner argument, e.g. --option dropout=0.3 (repeatable; "
        "Python literals)",
    )
    parser.add_argument("--batch-size", type=int, default=64, help="training batch size")
    parser.add_argument(
        "--eval-batch-size", type=int, default=64, help="batch of the test loss and decoding"
    )
    parser.add_argument("--num-beams", type=int, default=3)
    parser.add_argument("--length-penalty", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    add_record_option(parser)
    args = parser.parse_args()
    args.decoders = [name.strip() for name in args.decoder.split(",") if name.strip()]
    args.encoders = [name.strip() for name in args.encoder.split(",") if name.strip()]
    args.attentions = [name.strip() for name in args.attention.split(",") if name.strip()]
    unknown = sorted(set(args.encoders) - set(DEFAULT_IMAGE_SIZE))
    if unknown or not args.encoders or not args.decoders:
        parser.error(f"--encoder takes {sorted(DEFAULT_IMAGE_SIZE)}; --decoder at least one.")
    if not args.attentions or set(args.attentions) - set(ATTENTIONS):
        parser.error(f"--attention takes {list(ATTENTIONS)}.")
    # Each run's label and decoder options: show-attend-tell once per attention.
    args.decoder_runs = []
    for decoder in args.decoders:
        if decoder != "show-attend-tell":
            args.decoder_runs.append((decoder, {"decoder": decoder}))
            continue
        for attention in args.attentions:
            options = {"decoder": decoder, "attention": attention}
            args.decoder_runs.append((f"{decoder} ({attention})", options))
    if not 0.0 <= args.fine_tune_fraction < 1.0:
        parser.error("--fine-tune-fraction must be in [0, 1).")
    args.data = _from_repository(args.data)
    args.weights = _from_repository(args.weights)
    return args


def _from_repository(path):
    return str(REPOSITORY / path) if not Path(path).is_absolute() else path


def load_splits(args):
    limits = {
        "train": args.max_train_images,
        "validation": args.max_validation_images,
        "test": args.max_test_images,
    }
    splits = {}
    for split, limit in limits.items():
        paths, captions = zoo.datasets.load_flickr8k(args.data, split)
        splits[split] = (paths[:limit], captions[:limit])
    return splits


# === Training ===
def train_phase(model, name, train, validation, seconds, initial_epoch, args):
    """Fits for `seconds` of wall clock (tracing and validation included); returns the
    phase's figures."""
    counter = BatchMeter()
    callbacks = [zoo.callbacks.TimeLimit(seconds), counter]
    if args.patience is not None:
        best = keras.callbacks.EarlyStopping(
            "val_loss", patience=args.patience, restore_best_weights=True, verbose=1
        )
        callbacks.append(best)
    start = time.perf_counter()
    history = model.fit(
        *train,
        batch_size=args.batch_size,
        epochs=args.max_epochs,
        initial_epoch=initial_epoch,
        validation_data=validation,
        callbacks=callbacks,
        verbose=2,
    )
    fit_seconds = time.perf_counter() - start
    steps_per_epoch = int(model.training_dataset(*train, batch_size=args.batch_size).cardinality())
    steps = sum(counter.batches_per_epoch)
    return {
        "phase": name,
        # The optimizer holds it as float32: 1e-3 reads 0.0010000000474974513.
        "learning_rate": float(f"{float(model.optimizer.learning_rate.numpy()):.6g}"),
        "trainable_parameters": _count(model.trainable_weights),
        "budget_seconds": round(seconds, 1),
        "fit_seconds": round(fit_seconds, 1),
        "train_steps": steps,
        "epochs_run": round(steps / steps_per_epoch, 3),
        "epochs_started": len(counter.batches_per_epoch),
        "loss": _rounded_list(history.history.get("loss", [])),
        "token_accuracy": _rounded_list(history.history.get("token_accuracy", [])),
        "validation_loss": _rounded_list(history.history.get("val_loss", [])),
        "validation_token_accuracy": _rounded_list(history.history.get("val_token_accuracy", [])),
        # The epoch (counted from the phase's first) whose weights the phase ends with.
        "kept_epoch": (
            best.best_epoch - initial_epoch + 1
            if args.patience is not None
            else len(counter.batches_per_epoch)
        ),
    }


def unfreeze_encoder(model, layers, learning_rate):
    """Fine-tunes the encoder's last `layers` layers holding weights (batch normalization
    stays frozen, in inference mode: `ImageFeatures.set_trainable_encoder`) and recompiles
    with a fresh Adam at `learning_rate`; `compile` keeps the weights and resets the compiled
    training step, which the new trainable set needs."""
    model.backbone.set_trainable_encoder(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0), sampler=model.sampler
    )


def run(label, decoder_options, encoder, splits, args):
    """Builds, trains and tests one captioner; returns its figures."""
    keras.utils.set_random_seed(args.seed)
    image_size = args.image_size or DEFAULT_IMAGE_SIZE[encoder]
    decoder = decoder_options["decoder"]
    options = {
        **decoder_options,
        "encoder": encoder,
        "image_size": image_size,
        "vocabulary_size": args.vocabulary_size,
        "sequence_length": args.sequence_length,
        "learning_rate": args.learning_rate,
    }
    if decoder != "transformer":  # the recurrent decoders' sizes
        options.update(embedding_dim=args.embedding_dim, units=args.units)
    options.update(parse_options(args.option))
    pretrained = encoder == "mobilenet"
    if pretrained:
        options.update(encoder_alpha=args.encoder_alpha, encoder_weights=args.weights)
    options["trainable_encoder"] = not pretrained
    train, validation = splits["train"], splits["validation"]
    build_start = time.perf_counter()
    model = zoo.image_captioner(*train, **options)
    build_seconds = time.perf_counter() - build_start
    train_pairs = sum(len(captions) for captions in train[1])
    print(
        f"\n=== {label} / {encoder} at {image_size}x{image_size}: "
        f"{model.count_params():,} parameters, built in {build_seconds:.1f}s; training on "
        f"{len(train[0]):,} images ({train_pairs:,} pairs) for at most "
        f"{args.budget_minutes:g} min",
        flush=True,
    )

    budget = 60.0 * args.budget_minutes
    phases = []
    if pretrained and args.fine_tune_fraction > 0:
        frozen_seconds = budget * (1.0 - args.fine_tune_fraction)
        phases.append(
            train_phase(model, "frozen encoder", train, validation, frozen_seconds, 0, args)
        )
        # The fine-tuning phase gets what the frozen one left, overshoot included.
        remaining = max(budget - phases[0]["fit_seconds"], 1.0)
        fine_tune_rate = args.learning_rate * FINE_TUNE_LEARNING_RATE_FACTOR
        unfreeze_encoder(model, args.fine_tune_layers, fine_tune_rate)
        print(
            f"--- fine-tuning the encoder's last {args.fine_tune_layers} layers (learning "
            f"rate {fine_tune_rate:g}, batch normalization kept frozen) for {remaining:.0f}s",
            flush=True,
        )
        fine_tune = train_phase(
            model,
            "fine-tuned encoder",
            train,
            validation,
            remaining,
            phases[0]["epochs_started"],
            args,
        )
        phases.append(fine_tune)
    else:
        name = "frozen encoder" if pretrained else "trained from scratch"
        phases.append(train_phase(model, name, train, validation, budget, 0, args))

    evaluation = test(model, splits["test"], args)
    return {
        "run": label,
        "decoder": decoder,
        "encoder": encoder,
        "options": options,
        "image_size": image_size,
        "parameters": model.count_params(),
        "train_images": len(train[0]),
        "train_pairs": train_pairs,
        "validation_images": len(validation[0]),
        "vocabulary_size": model.target_vectorizer.vocabulary_size,
        "build_seconds": round(build_seconds, 1),
        "phases": phases,
        "epochs_run": round(sum(phase["epochs_run"] for phase in phases), 3),
        "train_minutes": round(sum(phase["fit_seconds"] for phase in phases) / 60.0, 2),
        **evaluation,
    }


# === Testing ===
def test(model, test_split, args):
    """Test loss and greedy BLEU through `evaluate`; beam-search BLEU through `predict`."""
    images, references = test_split
    start = time.perf_counter()
    greedy = model.evaluate(
        images,
        references,
        batch_size=args.eval_batch_size,
        sampler=zoo.decoding.GreedySampler(),
        verbose=0,
    )
    greedy_seconds = time.perf_counter() - start
    # evaluate's own captions are not returned; predict again (compiled, so quick) to show some.
    greedy_captions = model.predict(images, batch_size=args.eval_batch_size, sampler="greedy")
    start = time.perf_counter()
    beam_sampler = zoo.decoding.BeamSampler(
        num_beams=args.num_beams, length_penalty=args.length_penalty
    )
    beam_captions = model.predict(images, batch_size=args.eval_batch_size, sampler=beam_sampler)
    beam = zoo.metrics.caption_bleu(beam_captions, references, lowercase=True)
    beam_seconds = time.perf_counter() - start
    return {
        "test_images": len(images),
        "test_loss": round(float(greedy["loss"]), 4),
        "test_token_accuracy": round(float(greedy["token_accuracy"]), 4),
        "bleu": {
            "greedy": {order: round(float(greedy[order]), 2) for order in BLEU_ORDERS},
            f"beam{args.num_beams}": {order: round(beam[order], 2) for order in BLEU_ORDERS},
        },
        "mean_output_words": {
            "greedy": _mean_words(greedy_captions),
            f"beam{args.num_beams}": _mean_words(beam_captions),
            "references": _mean_words([c for captions in references for c in captions]),
        },
        "test_seconds": {
            "evaluate_greedy": round(greedy_seconds, 1),
            "beam": round(beam_seconds, 1),
        },
        "examples": [
            {
                "image": Path(image).name,
                "greedy": greedy_caption,
                f"beam{args.num_beams}": beam_caption,
                "reference": image_references[0],
            }
            for image, greedy_caption, beam_caption, image_references in list(
                zip(images, greedy_captions, beam_captions, references, strict=True)
            )[:3]
        ],
    }


def _mean_words(captions):
    return round(float(np.mean([len(caption.split()) for caption in captions])), 1)


def _count(weights):
    return int(sum(np.prod(weight.shape) for weight in weights))


def _rounded_list(values):
    return [round(float(value), 4) for value in values]


# === Report ===
def report_run(figures, num_beams):
    beam_name = f"beam{num_beams}"
    print(
        f"\n{figures['run']} / {figures['encoder']} at {figures['image_size']}px, "
        f"{figures['parameters']:,} parameters, vocabulary {figures['vocabulary_size']:,}; "
        f"{figures['train_images']:,} train images ({figures['train_pairs']:,} pairs), "
        f"{figures['epochs_run']:.2f} epochs in {figures['train_minutes']:.1f} min"
    )
    for phase in figures["phases"]:
        losses = ", ".join(
            f"{loss:.3f} ({accuracy:.3f})"
            for loss, accuracy in zip(
                phase["validation_loss"], phase["validation_token_accuracy"], strict=True
            )
        )
        print(
            f"  {phase['phase']}: learning rate {phase['learning_rate']:g}, "
            f"{phase['trainable_parameters']:,} trainable parameters, "
            f"{phase['epochs_run']:.2f} epochs ({phase['train_steps']} steps) in "
            f"{phase['fit_seconds']:.0f}s; validation loss (token accuracy) per epoch: {losses}; "
            f"weights kept: epoch {phase['kept_epoch']}"
        )
    title, published = PUBLISHED.get(figures["run"], ("no published figure", {}))
    bleu = figures["bleu"]
    print(
        f"test ({figures['test_images']:,} images): loss {figures['test_loss']:.3f}, "
        f"token accuracy {figures['test_token_accuracy']:.3f}"
    )
    print(f"{'':<8}{'greedy':>9}{beam_name:>9}   published: {title}")
    for order in BLEU_ORDERS:
        reference = published.get(order)
        print(
            f"{order.replace('_', '-').upper():<8}{bleu['greedy'][order]:>9.2f}"
            f"{bleu[beam_name][order]:>9.2f}   {'-' if reference is None else reference}"
        )
    words = figures["mean_output_words"]
    print(
        f"mean words: greedy {words['greedy']}, {beam_name} {words[beam_name]}, "
        f"references {words['references']}"
    )
    for example in figures["examples"]:
        print(
            f"  {example['image']}: {example['greedy']!r} / {example[beam_name]!r} "
            f"(reference {example['reference']!r})"
        )


def report_summary(figures):
    beam_name = f"beam{figures['num_beams']}"
    print(f"\n{'test BLEU-1..4':<46}{'epochs':>7}  {'greedy':<26}{beam_name}")
    for run_figures in figures["runs"]:
        row = [
            " ".join(f"{run_figures['bleu'][name][order]:5.1f}" for order in BLEU_ORDERS)
            for name in ("greedy", beam_name)
        ]
        label = f"{run_figures['run']} / {run_figures['encoder']}"
        print(f"{label:<46}{run_figures['epochs_run']:>7.2f}  {row[0]}   {row[1]}")
    for title, published in PUBLISHED.values():
        row = " ".join(
            f"{published[order]:5.1f}" if order in published else "    -" for order in BLEU_ORDERS
        )
        print(f"{title:<46}{'':>7}  {row}   (published)")
    conditions = figures["conditions"]
    print(
        f"machine: {conditions['cpu']}, {conditions['usable_cores']} usable cores, "
        f"load {conditions['load_average_1min']} at start; TF {conditions['tensorflow']}, "
        f"Keras {conditions['keras']}; total {figures['total_seconds']:.0f}s\n"
    )


def main():
    args = parse_args()
    start = time.perf_counter()
    conditions = machine_conditions()
    splits = load_splits(args)
    print(
        f"Flickr8k: {len(splits['train'][0]):,} train, {len(splits['validation'][0]):,} "
        f"validation, {len(splits['test'][0]):,} test images; runs: "
        f"{[f'{label} / {e}' for label, _ in args.decoder_runs for e in args.encoders]}, "
        f"{args.budget_minutes:g} min each",
        flush=True,
    )
    runs = []
    for label, decoder_options in args.decoder_runs:
        for encoder in args.encoders:
            runs.append(run(label, decoder_options, encoder, splits, args))
            report_run(runs[-1], args.num_beams)
    figures = {
        "benchmark": "caption",
        "data": {
            "dataset": "flickr8k",
            "train_images": len(splits["train"][0]),
            "validation_images": len(splits["validation"][0]),
            "test_images": len(splits["test"][0]),
            "references": "all five per image, compared lower-cased",
        },
        "budget_minutes": args.budget_minutes,
        "fine_tune_fraction": args.fine_tune_fraction,
        "fine_tune_layers": args.fine_tune_layers,
        "batch_size": args.batch_size,
        "patience": args.patience,
        "num_beams": args.num_beams,
        "length_penalty": args.length_penalty,
        "seed": args.seed,
        "runs": runs,
        "published": {
            label: {"paper": title, **published} for label, (title, published) in PUBLISHED.items()
        },
        "conditions": conditions,
        "total_seconds": round(time.perf_counter() - start, 1),
    }
    report_summary(figures)
    print_json(figures, record=args.record)


if __name__ == "__main__":
    main()
