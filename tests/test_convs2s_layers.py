"""ConvS2S's layers against NumPy: the gated convolution (same-length and causal, cached steps
equal to the full pass under XLA) and the multi-step attention."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tests.test_case import numpy_masked_softmax
from zoo.layers import GatedConvolution, MultiStepAttention

RNG = np.random.default_rng(0)


def numpy_gated_convolution(layer, x, padding_mask=None):
    """The layer's output, from its weights, by NumPy (dropout off)."""
    kernel, bias = (weight.numpy() for weight in layer.convolution.weights)
    if padding_mask is not None:
        x = x * padding_mask[..., None]
    size = layer.kernel_size
    left, right = (size - 1, 0) if layer.causal else ((size - 1) // 2, size // 2)
    padded = np.pad(x, ((0, 0), (left, right), (0, 0)))
    windows = np.stack([padded[:, t : t + size] for t in range(x.shape[1])], axis=1)
    convolved = np.einsum("btki,kio->bto", windows, kernel) + bias
    values, gates = np.split(convolved, 2, axis=-1)
    return values / (1 + np.exp(-gates))


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("kernel_size", [3, 4])
def test_gated_convolution_matches_numpy(causal, kernel_size):
    layer = GatedConvolution(5, kernel_size, causal=causal)
    x = RNG.normal(size=(2, 7, 6)).astype("float32")
    padding_mask = np.arange(7)[None] < np.array([[7], [4]])
    outputs = layer(x, padding_mask=padding_mask)
    assert outputs.shape == (2, 7, 5)
    expected = numpy_gated_convolution(layer, x, padding_mask)
    np.testing.assert_allclose(outputs, expected, atol=1e-5)


def test_a_causal_position_reads_no_later_one():
    layer = GatedConvolution(4, 3, causal=True)
    x = RNG.normal(size=(1, 6, 4)).astype("float32")
    changed = x.copy()
    changed[:, 3:] = RNG.normal(size=(1, 3, 4))
    np.testing.assert_allclose(layer(x)[:, :3], layer(changed)[:, :3], atol=1e-6)
    assert not np.allclose(layer(x)[:, 3], layer(changed)[:, 3])


def test_cached_steps_equal_the_full_causal_pass_under_xla():
    layer = GatedConvolution(5, 3, causal=True)
    x = RNG.normal(size=(2, 6, 4)).astype("float32")
    full = layer(x)

    @tf.function(jit_compile=True)
    def step(x_t, cache):
        return layer(x_t, cache=cache)

    cache = tf.zeros(layer.cache_shape(2, 4))
    for t in range(6):
        output, cache = step(x[:, t : t + 1], cache)
        np.testing.assert_allclose(output[:, 0], full[:, t], atol=1e-5)
    assert step.experimental_get_tracing_count() == 1
    np.testing.assert_allclose(cache, x[:, -2:], atol=1e-6)  # the last kernel_size - 1 inputs


def test_gated_convolution_rejects_bad_arguments():
    with pytest.raises(ValueError, match="`channels` must be a positive int, got 0."):
        GatedConvolution(0, 3)
    with pytest.raises(ValueError, match=r"`dropout` must be a number in \[0, 1\), got 1.5."):
        GatedConvolution(4, 3, dropout=1.5)
    layer = GatedConvolution(4, 3)
    with pytest.raises(ValueError, match="Only a causal `GatedConvolution` decodes with a"):
        layer(np.zeros((1, 1, 4), "float32"), cache=np.zeros((1, 2, 4), "float32"))


def test_gated_convolution_survives_serialization():
    layer = GatedConvolution(8, 5, causal=True, dropout=0.2)
    restored = GatedConvolution.from_config(layer.get_config())
    options = ("channels", "kernel_size", "causal", "dropout")
    assert [getattr(restored, name) for name in options] == [8, 5, True, 0.2]


def test_multi_step_attention_matches_numpy():
    layer = MultiStepAttention(embedding_dim=6)
    x = RNG.normal(size=(2, 3, 5)).astype("float32")  # the convolution's output, 5 channels
    target_embedding = RNG.normal(size=(2, 3, 6)).astype("float32")
    keys = RNG.normal(size=(2, 4, 6)).astype("float32")
    values = RNG.normal(size=(2, 4, 6)).astype("float32")
    padding_mask = np.arange(4)[None] < np.array([[4], [2]])
    outputs, weights = layer(x, target_embedding, keys, values, padding_mask)

    w_in, b_in = (weight.numpy() for weight in layer.in_projection.weights)
    w_out, b_out = (weight.numpy() for weight in layer.out_projection.weights)
    queries = (x @ w_in + b_in + target_embedding) * math.sqrt(0.5)
    expected_weights = numpy_masked_softmax(
        np.einsum("bte,bse->bts", queries, keys), padding_mask[:, None, :]
    )
    real = padding_mask.sum(axis=1)[:, None, None]
    context = np.einsum("bts,bse->bte", expected_weights, values) * np.sqrt(real)
    expected = (context @ w_out + b_out + x) * math.sqrt(0.5)
    np.testing.assert_allclose(weights, expected_weights, atol=1e-6)
    np.testing.assert_allclose(outputs, expected, atol=1e-5)
    assert np.all(weights.numpy()[1, :, 2:] == 0)  # padding gets exactly zero weight


def test_multi_step_attention_survives_serialization():
    layer = MultiStepAttention(embedding_dim=12)
    assert MultiStepAttention.from_config(layer.get_config()).embedding_dim == 12
