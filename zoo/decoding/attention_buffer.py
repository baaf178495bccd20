"""The attention weights a decoding loop collects in its cache, one column per position.

`encode(..., return_attention=True)` adds the buffer; every `step` writes its weights into it;
`Seq2Seq.text_generator` reads it from the sampler's final cache.
"""

from keras import ops

from zoo.decoding.sampler import write_at_position

ATTENTION_WEIGHTS = "attention_weights"


def with_attention_buffer(cache, batch_size, source_length, max_length, num_layers=None):
    """`cache` plus a zeroed float32 buffer [batch, source_length, max_length], or [batch,
    num_layers, source_length, max_length] for a decoder that shows every layer's attention."""
    layers = () if num_layers is None else (num_layers,)
    shape = (batch_size, *layers, source_length, max_length)
    return {**cache, ATTENTION_WEIGHTS: ops.zeros(shape)}


def record_attention(cache, index, weights):
    """`cache` with `weights` [batch, source_length] (or [batch, num_layers, source_length])
    written at position `index` of its buffer; `cache` as it is when it has none (the
    weights were not asked for)."""
    if ATTENTION_WEIGHTS not in cache:
        return cache
    buffer = cache[ATTENTION_WEIGHTS]
    values = ops.cast(weights, buffer.dtype)
    return {**cache, ATTENTION_WEIGHTS: write_at_position(buffer, index, values)}
