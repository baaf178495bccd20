"""Where cached self-attention spends its time: three key/value cache layouts, side by side.

The Transformer's decoding (see `transformer_decoding.py`) spends more than half of each
decoder layer's time in its cached self-attention. This isolates that part: 3 layers of
self-attention, each feeding one token per step for 32 steps at batch 32 (hidden 256, 4 heads
of 64), the whole loop in one `tf.function(jit_compile=True)`, with the same weights and the
same outputs in every layout:

- stacked: keras-hub's `CachedMultiHeadAttention` and its one cache [batch, 2, length, heads,
  head_dim], which it splits into keys and values and stacks back at every step (what zoo's
  Transformer and T5 used when this was written; they now keep two head-major caches,
  `zoo.layers.head_major_attention`);
- separate: keys and values in two caches [batch, length, heads, head_dim], each written at
  the step's index;
- separate-time-major: the same with the length axis first, so each write is one contiguous
  block;
- separate-read-only: separate caches that are never written, the cost of everything else.

Run from the repository root (a quiet machine gives the figures to quote; the ratios hold
better than the absolute times on a shared one):

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/kv_cache.py

It prints ms per decoding loop for each layout and its speed-up over "stacked", then one JSON
line with every figure.
"""

import argparse
import json

import keras_hub
import numpy as np
import tensorflow as tf
from common import interleaved_median_seconds, machine_conditions
from keras import ops

BATCH_SIZE = 32
STEPS = 32
HIDDEN_DIM = 256
NUM_HEADS = 4
HEAD_DIM = HIDDEN_DIM // NUM_HEADS
NUM_LAYERS = 3
LAYOUTS = ("stacked", "separate", "separate-time-major", "separate-read-only")


def build_layers(seed):
    tf.random.set_seed(seed)
    layers = [
        keras_hub.layers.CachedMultiHeadAttention(num_heads=NUM_HEADS, key_dim=HEAD_DIM)
        for _ in range(NUM_LAYERS)
    ]
    x = tf.zeros([BATCH_SIZE, 1, HIDDEN_DIM])
    for layer in layers:
        layer(x, x)
    return layers


def stacked_step(layer, x, cache, index):
    y, cache = layer(x, x, cache=cache, cache_update_index=index)
    return y, cache


def separate_step(layer, x, cache, index, time_major=False, write=True):
    """The same attention as `CachedMultiHeadAttention`'s, from its own projections, over
    separate key and value caches. All cache positions are attended: the figures compare
    memory traffic, not masking."""
    keys, values = cache
    query = layer._query_dense(x)
    new_keys, new_values = layer._key_dense(x), layer._value_dense(x)
    if time_major:
        new_keys = ops.transpose(new_keys, (1, 0, 2, 3))
        new_values = ops.transpose(new_values, (1, 0, 2, 3))
    if write:
        start = (index, 0, 0, 0) if time_major else (0, index, 0, 0)
        keys = ops.slice_update(keys, start, new_keys)
        values = ops.slice_update(values, start, new_values)
    layout = "kbhd" if time_major else "bkhd"
    scores = ops.einsum(f"bqhd,{layout}->bhqk", query, keys) / np.sqrt(HEAD_DIM)
    weights = ops.softmax(scores, axis=-1)
    outputs = layer._output_dense(ops.einsum(f"bhqk,{layout}->bqhd", weights, values))
    return outputs, (keys, values)


def empty_caches(layout):
    if layout == "stacked":
        return [tf.zeros([BATCH_SIZE, 2, STEPS, NUM_HEADS, HEAD_DIM])] * NUM_LAYERS
    shape = [STEPS, BATCH_SIZE] if layout == "separate-time-major" else [BATCH_SIZE, STEPS]
    empty = tf.zeros([*shape, NUM_HEADS, HEAD_DIM])
    return [(empty, empty)] * NUM_LAYERS


def decoding_loop(layers, layout):
    def step(layer, x, cache, index):
        if layout == "stacked":
            return stacked_step(layer, x, cache, index)
        return separate_step(
            layer,
            x,
            cache,
            index,
            time_major=layout == "separate-time-major",
            write=layout != "separate-read-only",
        )

    @tf.function(jit_compile=True)
    def run(x):
        def body(index, x, caches):
            updated = []
            for layer, cache in zip(layers, caches, strict=True):
                y, cache = step(layer, x, cache, index)
                x = x + y
                updated.append(cache)
            return index + 1, x, updated

        _, x, _ = tf.while_loop(lambda index, *_: index < STEPS, body, (0, x, empty_caches(layout)))
        return x

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21, help="timed rounds (default 21)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    layers = build_layers(args.seed)
    x = tf.random.stateless_normal([BATCH_SIZE, 1, HIDDEN_DIM], seed=(args.seed, 1))
    loops = {layout: decoding_loop(layers, layout) for layout in LAYOUTS}
    outputs = {layout: loop(x).numpy() for layout, loop in loops.items()}  # compiles
    # Writing at each index attends the tokens written so far plus zero keys for the rest,
    # exactly as the stacked cache does; the read-only loop attends zeros throughout.
    for layout in ("separate", "separate-time-major"):
        np.testing.assert_allclose(outputs[layout], outputs["stacked"], atol=1e-5)
    seconds = interleaved_median_seconds(
        {layout: lambda loop=loop: loop(x).numpy() for layout, loop in loops.items()},
        args.repeats,
    )
    figures = {
        "ms_per_loop": {layout: round(1000 * value, 1) for layout, value in seconds.items()},
        "speedup_over_stacked": {
            layout: round(seconds["stacked"] / value, 2) for layout, value in seconds.items()
        },
        "config": {
            "batch_size": BATCH_SIZE,
            "steps": STEPS,
            "hidden_dim": HIDDEN_DIM,
            "num_heads": NUM_HEADS,
            "num_layers": NUM_LAYERS,
            "repeats": args.repeats,
        },
        "machine": machine_conditions(),
    }
    print(f"{STEPS} cached self-attention steps x {NUM_LAYERS} layers, batch {BATCH_SIZE}, XLA")
    for layout in LAYOUTS:
        print(
            f"{layout:22} {figures['ms_per_loop'][layout]:8.1f} ms   "
            f"{figures['speedup_over_stacked'][layout]:.2f}x stacked"
        )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
