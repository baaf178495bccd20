"""Training throughput: zoo's batches against the keras.io way, in one run, on Multi30k.

Each zoo model, built with `dtype="auto"` (mixed bfloat16 on CPUs with bfloat16 units),
trains on the batches its `fit` makes (pairs of similar length, 64 at most) and its
reference, in float32, on what keras.io's examples feed theirs: every pair padded (or cut) to 32
tokens, batches of 64 in random order, float32. Both read the same token ids (zoo's
vocabularies) and weigh the loss by the real target tokens, so the work that counts is the
same; the figure is real target tokens (the labels that carry loss weight) per second. The
same zoo model in float32 trains on the same kind of batches, which splits zoo's speed-up
into the batches' share and the precision's. `--zoo-batch-tokens N` sizes zoo's batches in
tokens (`fit(batch_tokens=N)`) instead.

- transformer: zoo's `transformer-small` against a Transformer of keras-hub layers of the
  same sizes (`TokenAndPositionEmbedding`, `TransformerEncoder`/`TransformerDecoder`, as in
  keras.io's "English-to-Spanish translation with KerasHub").
- lstm: zoo's `lstm-small` against keras.io's `lstm_seq2seq` design at the same sizes (an
  LSTM encoder whose final states start an LSTM decoder), with embeddings for one-hot input.
- captioner: steps per second of a captioner (`--captioner`, show-and-tell by default) over
  a frozen MobileNet (224 pixels, random weights: only the time counts) on Flickr8k batches
  of at most 64 pairs: trained on the feature grids `fit` computes once, against the same
  model encoding the decoded images at every step (as `fit` did before).

Models take turns, a few steps each, so that the drift of a shared machine falls on both
alike. Run from the repository root:

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/train.py --data ../shared/data/multi30k

The last line printed is one JSON object with every figure.
"""

import argparse
import time
from pathlib import Path

import keras
import keras_hub
import numpy as np
import tensorflow as tf
from common import add_record_option, machine_conditions, print_json

import zoo
from zoo.training.batching import DEFAULT_BUCKET_WIDTH

REFERENCE_LENGTH = 32  # keras.io's examples pad every sentence to a fixed length
REFERENCE_BATCH_SIZE = 64


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", required=True, help="the Multi30k directory (holding raw/)")
    parser.add_argument("--flickr8k", default="../shared/data/flickr8k")
    parser.add_argument("--captioner", default="captioner-show-and-tell", help="catalog name")
    parser.add_argument("--models", default="transformer,lstm,captioner", help="comma-separated")
    parser.add_argument(
        "--zoo-batch-tokens", type=int, default=None, help="fit(batch_tokens=N) for zoo"
    )
    parser.add_argument(
        "--zoo-bucket-width",
        type=int,
        default=DEFAULT_BUCKET_WIDTH,
        help="fit(length_bucket_width=N) for zoo",
    )
    parser.add_argument("--rounds", type=int, default=6, help="turns each model takes")
    parser.add_argument("--steps-per-round", type=int, default=10)
    parser.add_argument("--warm-up-steps", type=int, default=4, help="untimed, for tracing")
    parser.add_argument("--seed", type=int, default=0)
    add_record_option(parser)
    return parser.parse_args()


# === The references, as keras.io builds them ===
def keras_hub_transformer(source_vocabulary, target_vocabulary):
    """keras.io's KerasHub translator at transformer-small's sizes."""
    hidden, heads, intermediate, layers = 256, 4, 1024, 3
    encoder_inputs = keras.Input((None,), dtype="int32", name="encoder_token_ids")
    x = keras_hub.layers.TokenAndPositionEmbedding(
        source_vocabulary, REFERENCE_LENGTH, hidden, mask_zero=True
    )(encoder_inputs)
    for _ in range(layers):
        x = keras_hub.layers.TransformerEncoder(intermediate, heads, dropout=0.1)(x)
    decoder_inputs = keras.Input((None,), dtype="int32", name="decoder_token_ids")
    y = keras_hub.layers.TokenAndPositionEmbedding(
        target_vocabulary, REFERENCE_LENGTH, hidden, mask_zero=True
    )(decoder_inputs)
    for _ in range(layers):
        y = keras_hub.layers.TransformerDecoder(intermediate, heads, dropout=0.1)(y, x)
    logits = keras.layers.Dense(target_vocabulary)(y)
    return keras.Model([encoder_inputs, decoder_inputs], logits)


def keras_io_lstm_seq2seq(source_vocabulary, target_vocabulary):
    """keras.io's lstm_seq2seq at lstm-small's sizes, embeddings in place of one-hot."""
    embedding_dim, units = 128, 256
    encoder_inputs = keras.Input((None,), dtype="int32", name="encoder_token_ids")
    x = keras.layers.Embedding(source_vocabulary, embedding_dim)(encoder_inputs)
    _, state_h, state_c = keras.layers.LSTM(units, return_state=True)(x)
    decoder_inputs = keras.Input((None,), dtype="int32", name="decoder_token_ids")
    y = keras.layers.Embedding(target_vocabulary, embedding_dim)(decoder_inputs)
    y = keras.layers.LSTM(units, return_sequences=True)(y, initial_state=[state_h, state_c])
    logits = keras.layers.Dense(target_vocabulary)(y)
    return keras.Model([encoder_inputs, decoder_inputs], logits)


REFERENCES = {"transformer": keras_hub_transformer, "lstm": keras_io_lstm_seq2seq}
ZOO_MODELS = {"transformer": "transformer-small", "lstm": "lstm-small"}


def reference_batches(model, sources, targets, rng):
    """keras.io's batches: random pairs, each padded or cut to REFERENCE_LENGTH tokens."""

    def fixed_length(token_ids):
        token_ids = token_ids.numpy()[:, :REFERENCE_LENGTH]
        return np.pad(token_ids, [(0, 0), (0, REFERENCE_LENGTH - token_ids.shape[1])])

    while True:
        picked = rng.choice(len(sources), REFERENCE_BATCH_SIZE, replace=False)
        x, y, _ = model.preprocess(
            tf.constant([sources[i] for i in picked]), tf.constant([targets[i] for i in picked])
        )
        labels = fixed_length(y)
        inputs = (fixed_length(x["encoder_token_ids"]), fixed_length(x["decoder_token_ids"]))
        yield inputs, labels, (labels != 0).astype("float32")


def zoo_batches(model, sources, targets, batch_tokens=None, bucket_width=DEFAULT_BUCKET_WIDTH):
    """What `model.fit` trains on, epoch after epoch."""
    dataset = model.training_dataset(
        sources, targets, batch_tokens=batch_tokens, length_bucket_width=bucket_width, shuffle=True
    )
    for x, y, weight in dataset.repeat():
        yield x, y.numpy(), weight.numpy()


# === Measuring ===
class Trainee:
    """One model and its stream of batches; counts the real and padded target tokens and
    the seconds of the steps it is timed on."""

    def __init__(self, model, batches):
        self.model, self.batches = model, batches
        self.seconds = self.real_tokens = self.padded_tokens = self.steps = 0

    def train(self, steps, timed=True):
        for _ in range(steps):
            x, y, weight = next(self.batches)
            start = time.perf_counter()
            self.model.train_on_batch(x, y, sample_weight=weight)
            if timed:
                self.seconds += time.perf_counter() - start
                self.real_tokens += int(weight.sum())
                self.padded_tokens += weight.size
                self.steps += 1

    def figures(self):
        return {
            "real_target_tokens_per_second": round(self.real_tokens / self.seconds, 1),
            "padding_efficiency": round(self.real_tokens / self.padded_tokens, 3),
            "steps": self.steps,
            "seconds": round(self.seconds, 1),
        }


def compare(kind, sources, targets, args):
    zoo_model = zoo.build(ZOO_MODELS[kind], sources, targets, dtype="auto")
    # The same model in float32 on the same batches: splits the speed-up into what the
    # batches give and what the precision gives.
    zoo_float32 = zoo.build(
        ZOO_MODELS[kind],
        source_vectorizer=zoo_model.source_vectorizer,
        target_vectorizer=zoo_model.target_vectorizer,
        dtype="float32",
    )
    reference = REFERENCES[kind](
        zoo_model.source_vectorizer.vocabulary_size, zoo_model.target_vectorizer.vocabulary_size
    )
    reference.compile(
        optimizer=keras.optimizers.Adam(1e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    rng = np.random.default_rng(args.seed)
    zoo_batching = (args.zoo_batch_tokens, args.zoo_bucket_width)
    trainees = {
        "zoo": Trainee(zoo_model, zoo_batches(zoo_model, sources, targets, *zoo_batching)),
        "zoo_float32": Trainee(
            zoo_float32, zoo_batches(zoo_float32, sources, targets, *zoo_batching)
        ),
        "reference": Trainee(reference, reference_batches(zoo_model, sources, targets, rng)),
    }
    for trainee in trainees.values():
        trainee.train(args.warm_up_steps, timed=False)
    for _ in range(args.rounds):
        for trainee in trainees.values():
            trainee.train(args.steps_per_round)
    figures = {name: trainee.figures() for name, trainee in trainees.items()}
    rates = {name: figures[name]["real_target_tokens_per_second"] for name in trainees}
    figures["speedup"] = round(rates["zoo"] / rates["reference"], 2)
    figures["batching_speedup"] = round(rates["zoo_float32"] / rates["reference"], 2)
    figures["precision_speedup"] = round(rates["zoo"] / rates["zoo_float32"], 2)
    figures["zoo_model"] = ZOO_MODELS[kind]
    figures["zoo_dtype"] = zoo_model.backbone.dtype_policy.name
    figures["zoo_batch_tokens"] = args.zoo_batch_tokens
    figures["zoo_bucket_width"] = args.zoo_bucket_width
    print(
        f"{kind}: zoo {ZOO_MODELS[kind]} ({figures['zoo_dtype']}) {rates['zoo']:,.0f} real "
        f"target tokens/s (padding efficiency {figures['zoo']['padding_efficiency']:.0%}), "
        f"float32 {rates['zoo_float32']:,.0f}, reference {rates['reference']:,.0f} "
        f"({figures['reference']['padding_efficiency']:.0%}): {figures['speedup']:.2f}x = "
        f"{figures['batching_speedup']:.2f}x batches * {figures['precision_speedup']:.2f}x "
        "precision",
        flush=True,
    )
    return figures


def compare_captioner(args):
    paths, references = zoo.datasets.load_flickr8k(args.flickr8k, "train")
    paths, references = paths[:200], references[:200]  # 1,000 pairs: enough to time
    model = zoo.build(
        args.captioner, paths, references, encoder="mobilenet", trainable_encoder=False
    )
    assert model.backbone.has_fixed_features
    pairs = [
        (Path(path).read_bytes(), caption)
        for path, captions in zip(paths, references, strict=True)
        for caption in captions
    ]
    rng = np.random.default_rng(args.seed)

    def batches_of_images():
        """Batches of JPEG bytes, which the model decodes and encodes at every step."""
        while True:
            picked = rng.choice(len(pairs), 64, replace=False)
            x, y, weight = model.preprocess(
                tf.constant([pairs[i][0] for i in picked]),
                tf.constant([pairs[i][1] for i in picked]),
            )
            yield x, y.numpy(), weight.numpy()

    trainees = {
        "cached_features": Trainee(model, zoo_batches(model, paths, references)),
        "encoder_every_step": Trainee(model, batches_of_images()),
    }
    for trainee in trainees.values():
        trainee.train(args.warm_up_steps, timed=False)
    for _ in range(args.rounds):
        for trainee in trainees.values():
            trainee.train(args.steps_per_round)
    figures = {
        name: {"steps_per_second": round(t.steps / t.seconds, 2), "steps": t.steps}
        for name, t in trainees.items()
    }
    speedup = (
        figures["cached_features"]["steps_per_second"]
        / figures["encoder_every_step"]["steps_per_second"]
    )
    figures["speedup"] = round(speedup, 2)
    figures["model"] = args.captioner
    print(
        f"{args.captioner}: {figures['cached_features']['steps_per_second']:.2f} steps/s on cached "
        f"feature grids vs {figures['encoder_every_step']['steps_per_second']:.2f} running "
        f"the frozen MobileNet: {speedup:.2f}x",
        flush=True,
    )
    return figures


def main():
    args = parse_args()
    keras.utils.set_random_seed(args.seed)
    conditions = machine_conditions()
    sources, targets = zoo.datasets.load_translation("multi30k", "train", path=args.data)
    figures = {"benchmark": "train", "data": "multi30k en-de train", "pairs": len(sources)}
    for kind in args.models.split(","):
        if kind == "captioner":
            figures[kind] = compare_captioner(args)
        else:
            figures[kind] = compare(kind, sources, targets, args)
    figures["conditions"] = conditions
    print_json(figures, record=args.record)


if __name__ == "__main__":
    main()
