"""Bahdanau attention with its keys projected once per source, against at every position.

A Bahdanau decoder scores its query against the keys W_k h of every encoder output h. They
depend on the source alone, so the decoder projects them once: `encode` puts them in the
decoding cache ("encoder_keys") for every step to read, and teacher-forced training projects
them before scanning the positions. The reference is the same model with the keys projected
at every position, as the decoder did before:

- decoding: the cache without "encoder_keys", so that every step projects them itself;
- training: a decoder whose `project_keys` leaves them to the attention layer, which then
  projects them at every position of its scan.

One attention translator (`attention="bahdanau"`, embedding 256, units 512, one LSTM layer,
8,000-token vocabularies, random weights), two batches of 32 random source sentences taken
in turn. Decoding generates exactly 32 new tokens in one `tf.function` (`backbone.encode`,
then the sampler's loop over `step`): greedy with and without XLA, beam 4 with XLA; both
paths must pick the same tokens (the report checks it). Training: `train_on_batch` on 32
pairs with 31-word targets, in the `tf.function` Keras traces (no XLA: Keras leaves it off on
CPU-only machines), each path on its own copy of the model. The two paths of each setting
take turns (`interleaved_median_seconds`) and each figure is the median over the rounds.

Run from the repository root:

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/attention_keys.py

It prints ms per batch of 32 for both paths side by side and the speed-up, then one JSON
line with every figure.
"""

import argparse
import itertools
import time
import types

import keras
import numpy as np
from common import in_graph_decoder, interleaved_median_seconds, machine_conditions, print_json
from decode import (
    EMBEDDING_DIM,
    NEW_TOKENS,
    UNITS,
    source_sentences,
    synthetic_vectorizer,
    vectorized_batches,
)

import zoo

BATCH_SIZE = 32
# (label, sampler, jit_compile) of every decoding setting timed.
DECODING = (
    ("greedy, XLA", zoo.decoding.GreedySampler(), True),
    ("greedy, no XLA", zoo.decoding.GreedySampler(), False),
    ("beam 4, XLA", zoo.decoding.BeamSampler(num_beams=4), True),
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--source-words", type=int, default=15, help="words per source sentence (default 15)"
    )
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds per setting")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def bahdanau_translator(seed):
    keras.utils.set_random_seed(seed)  # the same weights for every copy
    return zoo.attention_translator(
        source_vectorizer=synthetic_vectorizer(),
        target_vectorizer=synthetic_vectorizer(),
        attention="bahdanau",
        embedding_dim=EMBEDDING_DIM,
        units=UNITS,
    )


def without_cached_keys(backbone):
    """`backbone.encode` and `backbone.step`, the cache without "encoder_keys"."""

    def encode(*args, **kwargs):
        cache = backbone.encode(*args, **kwargs)
        return {name: value for name, value in cache.items() if name != "encoder_keys"}

    return types.SimpleNamespace(encode=encode, step=backbone.step)


def cycling(function, batches):
    """`function` as a function of nothing, taking the batches in turn."""
    calls = itertools.count()
    return lambda: function(*batches[next(calls) % len(batches)])


def main():
    args = parse_args()
    conditions = machine_conditions()
    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    model = bahdanau_translator(args.seed)
    sources = source_sentences(2 * BATCH_SIZE, args.source_words, rng)
    targets = source_sentences(2 * BATCH_SIZE, NEW_TOKENS - 1, rng)
    source_batches = vectorized_batches(model, sources, BATCH_SIZE)
    start_token_id = model.target_vectorizer.start_token_id

    timed, decoders_by_setting = {}, {}
    for label, sampler, jit_compile in DECODING:
        backbones = {
            "projected_once": model.backbone,
            "every_position": without_cached_keys(model.backbone),
        }
        decoders = {
            path: in_graph_decoder(backbone, sampler, start_token_id, NEW_TOKENS, jit_compile)
            for path, backbone in backbones.items()
        }
        timed[label] = {path: cycling(decode, source_batches) for path, decode in decoders.items()}
        decoders_by_setting[label] = decoders

    reference = bahdanau_translator(args.seed)
    reference.backbone.decoder.project_keys = lambda encoder_outputs: None
    training_batches = [
        model.preprocess(sources[begin : begin + BATCH_SIZE], targets[begin : begin + BATCH_SIZE])
        for begin in range(0, len(sources), BATCH_SIZE)
    ]
    timed["training step, no XLA"] = {
        "projected_once": cycling(model.train_on_batch, training_batches),
        "every_position": cycling(reference.train_on_batch, training_batches),
    }

    ms, first_call_seconds = {}, {}
    for label, functions in timed.items():
        for path, function in functions.items():
            call_start = time.perf_counter()
            function()  # traces and compiles
            first_call_seconds[f"{label}: {path}"] = round(time.perf_counter() - call_start, 2)
        seconds = interleaved_median_seconds(functions, args.repeats)
        ms[label] = {path: 1000.0 * value for path, value in seconds.items()}
    tokens_agree = {
        label: all(
            np.array_equal(*(decode(*batch) for decode in decoders.values()))
            for batch in source_batches
        )
        for label, decoders in decoders_by_setting.items()
    }

    report(ms, tokens_agree, first_call_seconds)
    print_json(
        {
            "benchmark": "attention_keys",
            "attention": "bahdanau",
            "batch_size": BATCH_SIZE,
            "new_tokens": NEW_TOKENS,
            "source_tokens": int(source_batches[0][0].shape[1]),
            "model": {
                "embedding_dim": EMBEDDING_DIM,
                "units": UNITS,
                "parameters": model.count_params(),
            },
            "ms_per_batch": {
                label: {path: round(value, 2) for path, value in by_path.items()}
                for label, by_path in ms.items()
            },
            "speedup": {
                label: round(by_path["every_position"] / by_path["projected_once"], 3)
                for label, by_path in ms.items()
            },
            "tokens_agree": tokens_agree,
            "first_call_seconds": first_call_seconds,
            "repeats": args.repeats,
            "conditions": conditions,
            "total_seconds": round(time.perf_counter() - start, 1),
        }
    )


def report(ms, tokens_agree, first_call_seconds):
    print(f"\nBahdanau attention, batch {BATCH_SIZE}, ms per batch (median)")
    print(
        f"{'setting':<24}{'keys projected once':>21}{'every position (ref.)':>23}{'speed-up':>10}"
    )
    for label, by_path in ms.items():
        once, every_position = by_path["projected_once"], by_path["every_position"]
        print(f"{label:<24}{once:>21.1f}{every_position:>23.1f}{every_position / once:>9.2f}x")
    agreement = ", ".join(
        f"{label}: {'yes' if same else 'NO'}" for label, same in tokens_agree.items()
    )
    print(f"same tokens on both batches: {agreement}")
    first_calls = ", ".join(f"{key} {value:.1f}s" for key, value in first_call_seconds.items())
    print(f"first calls (trace, compile, run): {first_calls}\n")


if __name__ == "__main__":
    main()
