import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.text import RESERVED_TOKENS, TextVectorizer, learn_vocabulary
from zoo.text.piece_learner import learn_pieces
from zoo.text.segmentation import normalize

CORPUS = [
    "Ça alors, t'es là !",
    "Je n'aime pas les épinards.",
    "Straße, Œuvre — naïve café?",
    "東京は大きい。",
    "Run! Go. Who?",
    "Der Hund läuft schnell: 3,5 km/h.",
    "Emoji 🙂 and ﬁ ligature ½",
    "e\u0301 composed",
]


@pytest.mark.parametrize("level", ["subword", "word", "character"])
def test_round_trip_restores_normalized_unicode_text(level):
    vectorizer = TextVectorizer.from_corpus(CORPUS, vocabulary_size=200, level=level)
    token_ids, _ = vectorizer(tf.constant(CORPUS))
    restored = [text.decode() for text in vectorizer.detokenize(token_ids).numpy()]
    expected = [text.decode() for text in normalize(tf.constant(CORPUS)).numpy()]
    assert restored == expected
    # NFKC: the ligature and the fraction are spelled out, the accent is composed.
    assert "fi ligature 1⁄2" in restored[6] and restored[7] == "\u00e9 composed"


def test_detokenized_text_keeps_the_corpus_spacing_of_punctuation():
    vectorizer = TextVectorizer.from_corpus(["Va !", "Run!", "Who?", "Qui ?"], 50)
    token_ids, _ = vectorizer(tf.constant(["Qui !", "Va?"]))
    assert [t.decode() for t in vectorizer.detokenize(token_ids).numpy()] == ["Qui !", "Va?"]
    assert not any(token.startswith("##") and len(token) == 2 for token in vectorizer.vocabulary)


@pytest.fixture(scope="module")
def vectorizer():
    return TextVectorizer.from_corpus(CORPUS, 200)


@pytest.fixture(scope="module")
def vectorized(vectorizer):
    """A short text, an empty one and a longer one: (token ids, padding mask)."""
    token_ids, padding_mask = vectorizer(tf.constant(["Run!", "", "Je n'aime pas les épinards."]))
    return token_ids.numpy(), padding_mask.numpy()


def test_the_vocabulary_starts_with_the_reserved_tokens(vectorizer):
    assert vectorizer.vocabulary[:4] == list(RESERVED_TOKENS)


def test_every_text_starts_with_the_start_token(vectorizer, vectorized):
    token_ids, _ = vectorized
    assert (token_ids[:, 0] == vectorizer.start_token_id).all()


def test_an_empty_text_is_start_end_then_padding(vectorized):
    token_ids, padding_mask = vectorized
    assert token_ids[1, :2].tolist() == [2, 3] and not token_ids[1, 2:].any()
    assert padding_mask.sum(axis=1)[1] == 2


def test_the_padding_mask_marks_the_real_tokens(vectorizer, vectorized):
    token_ids, padding_mask = vectorized
    np.testing.assert_array_equal(padding_mask, token_ids != vectorizer.pad_token_id)


def test_add_start_false_drops_only_the_start_token(vectorizer):
    without_start, _ = vectorizer(tf.constant(["Run!"]), add_start=False)
    assert without_start.numpy()[0, -1] == vectorizer.end_token_id
    assert without_start.numpy()[0, 0] != vectorizer.start_token_id


@pytest.mark.parametrize("add_start", [True, False])
@pytest.mark.parametrize("add_end", [True, False])
def test_pack_truncates_adds_start_end_and_pads_to_the_longest(add_start, add_end):
    vectorizer = TextVectorizer.from_corpus(CORPUS, 200, sequence_length=8)
    rng = np.random.default_rng(0)
    rows = [rng.integers(4, 200, size=length).tolist() for length in (0, 3, 12, 5, 6)]
    kept = 8 - add_start - add_end
    start, end = [vectorizer.start_token_id] * add_start, [vectorizer.end_token_id] * add_end
    for batch in (rows, rows[:2], rows[:1]):  # padded to 8, to 5 (or fewer), to 2 (or fewer)
        expected = [start + row[:kept] + end for row in batch]
        width = max(len(row) for row in expected)
        token_ids, padding_mask = vectorizer.pack(
            tf.ragged.constant(batch, dtype=tf.int32), add_start, add_end
        )
        np.testing.assert_array_equal(
            token_ids, [row + [vectorizer.pad_token_id] * (width - len(row)) for row in expected]
        )
        lengths = [[len(row)] for row in expected]
        np.testing.assert_array_equal(padding_mask, np.arange(width) < np.array(lengths))


def test_detokenize_stops_at_the_end_token():
    vectorizer = TextVectorizer.from_corpus(CORPUS, 200)
    run = vectorizer.tokenize(tf.constant(["Run!"])).to_list()[0]
    ids = tf.constant([[*run, vectorizer.end_token_id, *run]])
    assert vectorizer.detokenize(ids).numpy().tolist() == [b"Run!"]


def test_empty_text_round_trips():
    vectorizer = TextVectorizer.from_corpus(CORPUS, 200)
    token_ids, _ = vectorizer(tf.constant([""]))
    assert vectorizer.detokenize(token_ids).numpy().tolist() == [b""]
    # As a decoder writes it: the end token first, then padding.
    ids = tf.constant([[vectorizer.end_token_id, 0, 0]])
    assert vectorizer.detokenize(ids).numpy().tolist() == [b""]


def test_long_input_is_truncated_to_sequence_length():
    vectorizer = TextVectorizer.from_corpus(CORPUS, 200, sequence_length=16)
    long_text = " ".join(["Run!"] * 2500)  # 10,000 characters
    token_ids, padding_mask = vectorizer(tf.constant([long_text]))
    assert token_ids.shape == (1, 16) and padding_mask.numpy().all()
    assert token_ids.numpy()[0, -1] == vectorizer.end_token_id
    assert vectorizer.detokenize(token_ids).numpy()[0].decode().startswith("Run! Run!")


def test_lowercase_option_lowercases_the_text():
    vectorizer = TextVectorizer.from_corpus(["the dog runs."], 50, lowercase=True)
    token_ids, _ = vectorizer(tf.constant(["THE DOG RUNS."]))
    assert vectorizer.detokenize(token_ids).numpy().tolist() == [b"the dog runs."]


def test_unknown_characters_detokenize_as_the_unknown_token():
    vectorizer = TextVectorizer.from_corpus(["the dog runs."], 50, lowercase=True)
    token_ids, _ = vectorizer(tf.constant(["the zebra"]))
    assert vectorizer.detokenize(token_ids).numpy().tolist() == [b"the [UNK]"]


def test_config_round_trip_tokenizes_identically():
    vectorizer = TextVectorizer.from_corpus(CORPUS, 200, lowercase=True, sequence_length=20)
    restored = TextVectorizer.from_config(vectorizer.get_config())
    texts = tf.constant(CORPUS)
    np.testing.assert_array_equal(vectorizer(texts)[0], restored(texts)[0])
    assert restored.sequence_length == 20 and restored.lowercase


def test_bad_arguments_raise_errors_naming_them():
    with pytest.raises(ValueError, match="`vocabulary_size`.*got 4"):
        learn_vocabulary(CORPUS, vocabulary_size=4)
    with pytest.raises(ValueError, match="`level`.*'bytes'"):
        learn_vocabulary(CORPUS, level="bytes")
    with pytest.raises(ValueError, match="`vocabulary` must start with the reserved tokens"):
        TextVectorizer(["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="`sequence_length`.*got 2"):
        TextVectorizer(list(RESERVED_TOKENS) + ["a"], sequence_length=2)


def test_piece_learner_merges_the_most_frequent_pair_and_breaks_ties_alphabetically():
    counts = {"low": 5, "lower": 2, "newest": 6, "widest": 3}
    # "##e ##s" and "##s ##t" both occur 9 times: the alphabetically first merges first.
    assert learn_pieces(counts, 5) == ["##es", "##est", "##ow", "low", "##ew"]


def test_learning_the_same_corpus_twice_gives_the_same_vocabulary():
    sources, _ = zoo.datasets.load_translation("tatoeba", "validation")
    assert learn_vocabulary(sources, 1000) == learn_vocabulary(sources, 1000)
