"""Mixed precision: greedy decoding and training steps under "mixed_bfloat16" against "float32".

The same two backbones as `decode.py` (LSTM: embedding 256, units 512; Transformer: hidden 256,
3 + 3 layers, 4 heads, feed-forward 1024; 8,000-token vocabularies, random weights, no
dropout), built once under each policy with the same weights:

- greedy decoding of exactly 32 new tokens (`end_token_id=-1`) for random 16-token sources,
  `backbone.encode` and `zoo.decoding.GreedySampler` in one `tf.function`, with and without
  `jit_compile`, at batch 1 and 32; the two policies of a setting take turns;
- a training step: `train_on_batch` of the backbone, compiled with Adam and sparse
  cross-entropy from its float32 logits, on 64 pairs of 32-token sources and targets (Keras
  leaves XLA off on CPU).

Run from the repository root:

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/precision.py [--family lstm|transformer|all]

It prints ms per sentence (decoding) and per step (training), the bfloat16 / float32 time
ratios (above 1: bfloat16 is slower), whether both policies decoded the same tokens, and,
last, one JSON line with every figure.
"""

import argparse
import functools

import keras
import numpy as np
import tensorflow as tf
from common import (
    add_record_option,
    in_graph_decoder,
    interleaved_median_seconds,
    machine_conditions,
    print_json,
)

import zoo

POLICIES = ("float32", "mixed_bfloat16")
NEW_TOKENS = 32
SOURCE_LENGTH = 16
VOCABULARY_SIZE = 8000
START_TOKEN_ID = 2
TRAIN_BATCH, TRAIN_LENGTH = 64, 32


def build(family, dtype):
    if family == "lstm":
        return zoo.models.RecurrentTranslatorBackbone(
            VOCABULARY_SIZE, VOCABULARY_SIZE, embedding_dim=256, units=512, dtype=dtype
        )
    return zoo.models.TransformerBackbone(
        VOCABULARY_SIZE,
        VOCABULARY_SIZE,
        num_encoder_layers=3,
        num_decoder_layers=3,
        hidden_dim=256,
        num_heads=4,
        intermediate_dim=1024,
        dropout=0.0,
        dtype=dtype,
    )


def backbones(family):
    """{policy: backbone}, every backbone with the float32 one's weights."""
    keras.utils.set_random_seed(0)
    built = {dtype: build(family, dtype) for dtype in POLICIES}
    weights = built["float32"].get_weights()
    for backbone in built.values():
        backbone.set_weights(weights)
    return built


def token_ids(rng, batch_size, length):
    return rng.integers(4, VOCABULARY_SIZE, size=(batch_size, length)).astype("int32")


def decoding(built, rng, repeats):
    """ms per sentence {setting: {policy: ms}}, and whether the policies' tokens agree."""
    ms, same_tokens = {}, {}
    for jit_compile in (True, False):
        for batch_size in (1, 32):
            setting = f"{'XLA' if jit_compile else 'no XLA'}, batch {batch_size}"
            source = token_ids(rng, batch_size, SOURCE_LENGTH)
            mask = np.ones_like(source, bool)
            decoders = {
                dtype: in_graph_decoder(
                    backbone,
                    zoo.decoding.GreedySampler(),
                    START_TOKEN_ID,
                    NEW_TOKENS,
                    jit_compile,
                )
                for dtype, backbone in built.items()
            }
            tokens = {dtype: decode(source, mask) for dtype, decode in decoders.items()}
            same_tokens[setting] = float(np.mean(tokens["float32"] == tokens["mixed_bfloat16"]))
            seconds = interleaved_median_seconds(
                {
                    dtype: functools.partial(decode, source, mask)
                    for dtype, decode in decoders.items()
                },
                repeats,
            )
            ms[setting] = {dtype: 1000 * s / batch_size for dtype, s in seconds.items()}
    return ms, same_tokens


def training(built, rng, repeats):
    """ms per training step {policy: ms}."""
    x = {
        "encoder_token_ids": token_ids(rng, TRAIN_BATCH, TRAIN_LENGTH),
        "encoder_padding_mask": np.ones((TRAIN_BATCH, TRAIN_LENGTH), bool),
        "decoder_token_ids": token_ids(rng, TRAIN_BATCH, TRAIN_LENGTH),
        "decoder_padding_mask": np.ones((TRAIN_BATCH, TRAIN_LENGTH), bool),
    }
    y = token_ids(rng, TRAIN_BATCH, TRAIN_LENGTH)
    steps = {}
    for dtype, backbone in built.items():
        backbone.compile(
            optimizer=keras.optimizers.Adam(1e-4),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        backbone.train_on_batch(x, y)  # traces the training function
        steps[dtype] = lambda b=backbone: b.train_on_batch(x, y)
    return {dtype: 1000 * s for dtype, s in interleaved_median_seconds(steps, repeats).items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--family", choices=("lstm", "transformer", "all"), default="all")
    parser.add_argument("--repeats", type=int, default=7, help="rounds per figure (default 7)")
    add_record_option(parser)
    args = parser.parse_args()
    conditions = machine_conditions()
    conditions["bfloat16_units"] = sorted(
        zoo.precision.cpu_flags() & set(zoo.precision.BFLOAT16_CPU_FLAGS)
    )
    figures = {"benchmark": "precision", "conditions": conditions}
    families = ("lstm", "transformer") if args.family == "all" else (args.family,)
    rng = np.random.default_rng(0)
    for family in families:
        built = backbones(family)
        ms, same_tokens = decoding(built, rng, args.repeats)
        step_ms = training(built, rng, args.repeats)
        figures[family] = {
            "decoding_ms_per_sentence": ms,
            "same_tokens": same_tokens,
            "training_ms_per_step": step_ms,
        }
        print(f"\n{family}: greedy decoding, {NEW_TOKENS} new tokens, ms per sentence")
        print(f"{'setting':<18}{'float32':>10}{'bfloat16':>10}{'bf16/fp32':>11}{'same':>7}")
        for setting, by_policy in ms.items():
            fp32, bf16 = by_policy["float32"], by_policy["mixed_bfloat16"]
            print(
                f"{setting:<18}{fp32:>10.2f}{bf16:>10.2f}{bf16 / fp32:>10.2f}x"
                f"{same_tokens[setting]:>7.0%}"
            )
        fp32, bf16 = step_ms["float32"], step_ms["mixed_bfloat16"]
        print(
            f"training step, batch {TRAIN_BATCH} x {TRAIN_LENGTH}: float32 {fp32:.0f} ms, "
            f"bfloat16 {bf16:.0f} ms, bf16/fp32 {bf16 / fp32:.2f}x"
        )
    print(f"\nmachine: {conditions}")
    print_json(figures, record=args.record)


if __name__ == "__main__":
    tf.get_logger().setLevel("ERROR")
    main()
