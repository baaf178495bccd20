"""Training batches of pairs of similar length, sized in pairs or in tokens."""

import collections

import numpy as np
import pytest

import zoo
from tests.test_case import MEMORY_SOURCES, MEMORY_TARGETS, tiny_translator
from zoo.datasets.keyword_documents import keyword_documents
from zoo.training.batching import DEFAULT_BUCKET_WIDTH, LengthBuckets

# Pairs of many lengths: the memorised corpus, and the same pairs joined two and four at a
# time (sources and targets up to four times as long).
SOURCES = [
    *MEMORY_SOURCES,
    *(" ".join(MEMORY_SOURCES[i : i + n]) for n in (2, 4) for i in range(0, 40, n)),
]
TARGETS = [
    *MEMORY_TARGETS,
    *(" ".join(MEMORY_TARGETS[i : i + n]) for n in (2, 4) for i in range(0, 40, n)),
]


@pytest.fixture(scope="module")
def model():
    return tiny_translator(SOURCES, TARGETS)


def real_rows(token_ids, padding_mask):
    return [tuple(row[mask]) for row, mask in zip(token_ids, padding_mask, strict=True)]


def epoch_of_pairs(dataset):
    """Each batch of one pass over a training dataset, as NumPy."""
    return [
        ({name: value.numpy() for name, value in x.items()}, y.numpy(), weight.numpy())
        for x, y, weight in dataset
    ]


def pairs_of(batches):
    """The (source, label) token rows of every pair in `batches`, without padding."""
    pairs = collections.Counter()
    for x, y, weight in batches:
        sources = real_rows(x["encoder_token_ids"], x["encoder_padding_mask"])
        pairs.update(zip(sources, real_rows(y, weight > 0), strict=True))
    return pairs


@pytest.mark.parametrize("sizing", [{"batch_size": 8}, {"batch_tokens": 96}])
def test_every_pair_is_seen_once_per_epoch_in_batches_of_similar_length(model, sizing):
    dataset = model.training_dataset(SOURCES, TARGETS, shuffle=True, **sizing)
    # All pairs in one batch: what each pair looks like to the model, padding aside.
    expected = pairs_of(epoch_of_pairs(model.training_dataset(SOURCES, TARGETS, batch_size=100)))
    assert sum(expected.values()) == len(SOURCES)
    epochs = [epoch_of_pairs(dataset) for _ in range(2)]
    for batches in epochs:
        assert len(batches) == int(dataset.cardinality())
        assert pairs_of(batches) == expected
        for x, y, weight in batches:
            # Every label but padding carries weight 1; the decoder reads them shifted right.
            np.testing.assert_array_equal(weight, y != model.target_vectorizer.pad_token_id)
            np.testing.assert_array_equal(
                x["decoder_token_ids"][:, 1:][weight[:, :-1] > 0], y[:, :-1][weight[:, :-1] > 0]
            )
            # Pairs of one bucket: the longer sides' lengths differ by less than its width.
            longer = np.maximum(
                x["encoder_padding_mask"].sum(-1), x["decoder_padding_mask"].sum(-1)
            )
            assert longer.max() - longer.min() < DEFAULT_BUCKET_WIDTH
            if "batch_size" in sizing:
                assert len(y) <= sizing["batch_size"]
            else:
                for side in ("encoder_token_ids", "decoder_token_ids"):
                    assert x[side].size <= sizing["batch_tokens"]
    # Reshuffled: the second epoch orders its batches differently.
    first, second = ([real_rows(y, w > 0) for _, y, w in batches] for batches in epochs)
    assert first != second


def test_batches_pad_less_than_random_batches_of_the_same_size(model):
    def padding_efficiency(weights):
        """Real target tokens over padded ones."""
        return sum(w.sum() for w in weights) / sum(w.size for w in weights)

    bucketed = epoch_of_pairs(model.training_dataset(SOURCES, TARGETS, batch_size=16))
    order = np.random.default_rng(0).permutation(len(SOURCES))
    random = [
        model.preprocess(
            np.array(SOURCES)[order[i : i + 16]], np.array(TARGETS)[order[i : i + 16]]
        )[2]
        for i in range(0, len(order), 16)
    ]
    assert padding_efficiency([w.numpy() for w in random]) < 0.7
    assert padding_efficiency([weight for _, _, weight in bucketed]) > 0.85


def test_without_length_buckets_batches_draw_from_every_length(model):
    dataset = model.training_dataset(SOURCES, TARGETS, batch_size=10, length_bucket_width=None)
    batches = epoch_of_pairs(dataset)
    assert len(batches) == int(dataset.cardinality()) == 7
    assert pairs_of(batches) == pairs_of(epoch_of_pairs(model.training_dataset(SOURCES, TARGETS)))
    spreads = [
        np.ptp(np.maximum(x["encoder_padding_mask"].sum(-1), weight.sum(-1)))
        for x, _, weight in batches
    ]
    assert max(spreads) >= 2 * DEFAULT_BUCKET_WIDTH


def test_length_buckets_count_the_batches_they_make():
    buckets = LengthBuckets(max_length=20, batch_tokens=24)
    # Batch sizes: 24 tokens over the buckets' longest lengths 4, 8, 12, 16, 20.
    np.testing.assert_array_equal(buckets.batch_sizes, [6, 3, 2, 1, 1])
    lengths = np.array([1, 4, 4, 5, 9, 9, 9, 20] + [2] * 7)
    # Bucket 0 holds 10 examples in batches of 6, bucket 1 one, bucket 2 three in batches
    # of 2, bucket 4 one: 2 + 1 + 2 + 1.
    assert buckets.count_batches(lengths) == 6
    with pytest.raises(ValueError, match=r"`batch_tokens` must hold .* got 3.*pads to 5"):
        LengthBuckets(max_length=20, batch_tokens=3).check_fits(5)


def test_training_traces_a_bounded_number_of_times_as_lengths_vary():
    model = tiny_translator(SOURCES, TARGETS)
    traces = []
    train_step = model.train_step

    def counted_train_step(data):
        traces.append(data[0]["decoder_token_ids"].shape)  # Python runs only when tracing
        return train_step(data)

    model.train_step = counted_train_step
    history = model.fit(SOURCES, TARGETS, batch_tokens=96, epochs=2, verbose=0)
    batches = int(model.training_dataset(SOURCES, TARGETS, batch_tokens=96).cardinality())
    assert batches > 10 and len(history.history["loss"]) == 2
    # Keras retraces once with unknown dimensions, then reuses that trace.
    assert len(traces) <= 2, traces


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_tokens": 20}, r"`batch_tokens` must hold at least the longest example: got 20"),
        ({"batch_tokens": 0}, r"`batch_tokens` must be a positive int, got 0"),
        ({"batch_size": 8, "batch_tokens": 96}, r"`batch_size` or `batch_tokens`, not both"),
        ({"batch_size": 2.5}, r"`batch_size` must be a positive int, got 2.5"),
        ({"length_bucket_width": 0}, r"`length_bucket_width` must be a positive int, got 0"),
    ],
)
def test_bad_batch_sizing_raises_clear_errors(model, options, message):
    with pytest.raises(ValueError, match=message):
        model.fit(SOURCES, TARGETS, **options)


def documents_of(batches):
    """The (word token rows, label id) of every document in `batches`, without padding."""
    documents = collections.Counter()
    for x, label_ids in batches:
        token_ids, masks = x["word_token_ids"].numpy(), x["word_padding_mask"].numpy()
        for document, mask, label_id in zip(token_ids, masks, label_ids.numpy(), strict=True):
            sentences = tuple(sentence for sentence in real_rows(document, mask) if sentence)
            documents[(sentences, int(label_id))] += 1
    return documents


def test_a_classifier_batches_documents_with_the_same_number_of_sentences():
    documents, labels = keyword_documents(60, seed=0)  # of 3 to 6 sentences
    options = {"embedding_dim": 8, "units": 8, "max_sentences": 5, "max_words": 8}
    classifier = zoo.hierarchical_attention_classifier(documents, labels, **options)
    dataset = classifier.training_dataset(documents, labels, batch_size=8)
    expected = documents_of(classifier.training_dataset(documents, labels, batch_size=60))
    assert sum(expected.values()) == len(documents)
    epochs = [list(dataset) for _ in range(2)]
    for batches in epochs:
        assert len(batches) == int(dataset.cardinality())
        assert documents_of(batches) == expected
        for x, label_ids in batches:
            assert len(label_ids) <= 8
            sentences = x["word_padding_mask"].numpy().any(axis=-1).sum(axis=-1)
            assert len(set(sentences)) == 1  # 6-sentence documents read as 5 (max_sentences)
    orders = [[label_ids.numpy().tolist() for _, label_ids in batches] for batches in epochs]
    assert orders[0] != orders[1]  # reshuffled every epoch
