"""The end-to-end memory network's backbone against NumPy, for both weight tyings: position
encoding, temporal encoding by recency, hops of attention over the sentences, padding-blind."""

import re

import numpy as np
import pytest

from tests.test_case import numpy_masked_softmax
from zoo.models import MemoryNetworkBackbone
from zoo.models.memory_network_backbone import position_encoding

RNG = np.random.default_rng(0)
VOCABULARY, ANSWERS = 30, [3, 5, 7, 11]


def story_batch(sentences=5, words=4):
    """Random stories and questions with padded words and padded sentences."""
    story_mask = RNG.random((2, sentences, words)) < 0.8
    story_mask[:, :, 0] = True
    story_mask[1, 3:] = False  # the second story has 3 sentences
    question_mask = np.array([[True, True, True], [True, True, False]])
    return {
        "story_token_ids": RNG.integers(1, VOCABULARY, (2, sentences, words)).astype("int32"),
        "story_padding_mask": story_mask,
        "question_token_ids": RNG.integers(1, VOCABULARY, (2, 3)).astype("int32"),
        "question_padding_mask": question_mask,
    }


def numpy_memory_network(backbone, inputs):
    """(logits, hop attention) by NumPy, from the backbone's weights."""
    d = backbone.embedding_dim

    def encode(matrix, token_ids, mask):
        real = mask.astype("float64")
        j = np.cumsum(real, axis=-1)[..., None]
        words = np.maximum(real.sum(axis=-1, keepdims=True), 1)[..., None]
        k = np.arange(1, d + 1) / d
        weights = ((1 - j / words) - k * (1 - 2 * j / words)) * real[..., None]
        return (matrix[token_ids] * weights).sum(axis=-2)

    words = [layer.embeddings.numpy() for layer in backbone.word_embeddings]
    times = [layer.embeddings.numpy() for layer in backbone.time_embeddings]
    sentence_mask = inputs["story_padding_mask"].any(axis=-1)
    real = sentence_mask.astype(int)
    recency = np.minimum((real.sum(-1, keepdims=True) - np.cumsum(real, -1)) * real, 49)
    state = encode(words[0], inputs["question_token_ids"], inputs["question_padding_mask"])
    attention = []
    for hop in range(backbone.hops):
        if backbone.weight_tying == "adjacent":
            a, t_a, c, t_c = words[hop], times[hop], words[hop + 1], times[hop + 1]
        else:
            a, t_a, c, t_c = words[1], times[0], words[2], times[1]
        story = inputs["story_token_ids"], inputs["story_padding_mask"]
        memories = encode(a, *story) + t_a[recency]
        outputs = encode(c, *story) + t_c[recency]
        weights = numpy_masked_softmax(np.einsum("bsd,bd->bs", memories, state), sentence_mask)
        read = np.einsum("bs,bsd->bd", weights, outputs)
        hop_update = backbone.hop_update
        state = read + (state if hop_update is None else state @ hop_update.kernel.numpy())
        attention.append(weights)
    if backbone.answer_projection is None:
        logits = state @ words[-1][ANSWERS].T
    else:
        logits = state @ backbone.answer_projection.kernel.numpy()
    return logits, np.stack(attention, axis=1)


@pytest.mark.parametrize("weight_tying", ["adjacent", "layer-wise"])
def test_matches_numpy(weight_tying):
    backbone = MemoryNetworkBackbone(
        VOCABULARY, ANSWERS, embedding_dim=6, weight_tying=weight_tying
    )
    inputs = story_batch()
    result = backbone.call_with_attention(inputs)
    logits, attention = numpy_memory_network(backbone, inputs)
    np.testing.assert_allclose(result["logits"], logits, atol=1e-5)
    np.testing.assert_allclose(result["hop_attention"], attention, atol=1e-6)
    np.testing.assert_allclose(backbone(inputs), logits, atol=1e-5)
    assert np.all(result["hop_attention"].numpy()[1, :, 3:] == 0)  # padded sentences


def test_adjacent_tying_has_one_more_embedding_than_hops():
    backbone = MemoryNetworkBackbone(VOCABULARY, ANSWERS, embedding_dim=6, hops=3)
    assert len(backbone.word_embeddings) == len(backbone.time_embeddings) == 4
    layer_wise = MemoryNetworkBackbone(VOCABULARY, ANSWERS, hops=3, weight_tying="layer-wise")
    assert (len(layer_wise.word_embeddings), len(layer_wise.time_embeddings)) == (3, 2)


def test_padding_changes_nothing():
    backbone = MemoryNetworkBackbone(VOCABULARY, ANSWERS, embedding_dim=6)
    inputs = story_batch()
    padded = {
        name: np.pad(value, [(0, 0), (0, 2), (0, 3)] if value.ndim == 3 else [(0, 0), (0, 2)])
        for name, value in inputs.items()
    }
    expected = backbone.call_with_attention(inputs)
    result = backbone.call_with_attention(padded)
    np.testing.assert_allclose(result["logits"], expected["logits"], atol=1e-5)
    np.testing.assert_allclose(result["hop_attention"][:, :, :5], expected["hop_attention"])


def test_position_encoding_is_the_papers():
    encoding = position_encoding(np.array([[True, True, False]]), 4).numpy()[0]
    j, words, k = np.array([[1], [2]]), 2, np.arange(1, 5) / 4
    np.testing.assert_allclose(encoding[:2], (1 - j / words) - k * (1 - 2 * j / words))
    assert np.all(encoding[2] == 0)


def test_config_round_trips():
    backbone = MemoryNetworkBackbone(VOCABULARY, ANSWERS, hops=2, weight_tying="layer-wise")
    restored = MemoryNetworkBackbone.from_config(backbone.get_config())
    assert restored.get_config() == backbone.get_config()
    assert restored.count_params() == backbone.count_params()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"hops": 0}, "`hops` must be a positive int, got 0."),
        ({"weight_tying": "none"}, "`weight_tying` must be one of ('adjacent', 'layer-wise')"),
        ({"answer_token_ids": [99]}, "`answer_token_ids` must be a non-empty list of vocabulary"),
    ],
)
def test_bad_options_are_named(options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        MemoryNetworkBackbone(
            **{"vocabulary_size": VOCABULARY, "answer_token_ids": ANSWERS, **options}
        )


def test_the_graph_reads_the_answer_embedding_as_it_is_when_run():
    backbone = MemoryNetworkBackbone(VOCABULARY, ANSWERS, embedding_dim=6)
    inputs = story_batch()
    last = backbone.word_embeddings[-1].embeddings
    last.assign(last + RNG.normal(size=last.shape).astype("float32"))
    logits, _ = numpy_memory_network(backbone, inputs)
    np.testing.assert_allclose(backbone(inputs), logits, atol=1e-5)
