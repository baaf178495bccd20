"""`zoo.memory_network`: builds a question answerer from stories, questions and answers."""

import tensorflow as tf

from zoo import checks
from zoo.models.memory_network_backbone import MemoryNetworkBackbone
from zoo.precision import dtype_policy
from zoo.tasks.inputs import as_label_list, as_text_list
from zoo.tasks.question_answerer import QuestionAnswerer
from zoo.text.segmentation import split_sentences
from zoo.text.text_vectorizer import TextVectorizer


def memory_network(
    stories=None,
    questions=None,
    answers=None,
    *,
    vectorizer=None,
    vocabulary_size=1000,
    lowercase=False,
    max_sentences=50,
    max_words=16,
    embedding_dim=20,
    hops=3,
    weight_tying="adjacent",
    linear_start=False,
    dtype=None,
):
    """Builds a compiled end-to-end memory network (Sukhbaatar et al. 2015) from examples.

    The word vocabulary is learned from the stories' sentences, the questions and the answers
    unless a vectorizer is given; the answers the model chooses from are the sorted distinct
    `answers`, each of which must be one word of the vocabulary (the adjacent tying reads
    the answer's embedding). See `MemoryNetworkBackbone` for the architecture and
    `zoo.tasks.QuestionAnswerer` for the verbs.

    Args:
        stories: list of str, one story each, its sentences one per line.
        questions: list of str, parallel to `stories`.
        answers: list of str, one word each, parallel to `stories`.
        vectorizer: a ready word-level `zoo.text.TextVectorizer`, instead of learning one.
        vocabulary_size: int, most words in the learned vocabulary.
        lowercase: bool, whether a learned vectorizer lower-cases text.
        max_sentences: int, most sentences read per story (the last ones).
        max_words: int, most words read per sentence and per question.
        embedding_dim: int, the size of every embedding.
        hops: int, rounds of attention over the story.
        weight_tying: "adjacent" or "layer-wise".
        linear_start: bool, whether to train without the softmaxes first (`fit` puts them
            back once the loss stops falling; see `MemoryNetworkBackbone`).
        dtype: None, a Keras dtype policy name, or "auto" (see `zoo.dtype_policy`).

    Returns:
        A compiled `zoo.tasks.QuestionAnswerer`.

    Example:
    >>> stories, questions, answers = zoo.datasets.babi_tasks(1, 1000)
    >>> model = zoo.memory_network(stories, questions, answers, hops=3)
    >>> model.fit(stories, questions, answers, epochs=20)
    """
    stories, _ = as_text_list(stories, "stories")
    questions, _ = as_text_list(questions, "questions")
    answer_list = as_label_list(answers, "answers")
    checks.same_length(stories, questions, "stories", "questions")
    checks.same_length(stories, answer_list, "stories", "answers")
    choices = sorted(set(answer_list))
    if vectorizer is None:
        sentences = split_sentences(tf.constant(stories)).flat_values.numpy()
        texts = [sentence.decode("utf-8") for sentence in sentences] + questions + choices
        vectorizer = TextVectorizer.from_corpus(
            texts, vocabulary_size, "word", lowercase, sequence_length=max_words + 2
        )
    answer_ids = vectorizer.tokenize(tf.constant(choices))
    for choice, ids in zip(choices, answer_ids.to_list(), strict=True):
        if len(ids) != 1 or ids[0] == vectorizer.unk_token_id:
            raise ValueError(f"Every answer must be one word of the vocabulary; {choice!r} is not.")
    backbone = MemoryNetworkBackbone(
        vectorizer.vocabulary_size,
        [ids[0] for ids in answer_ids.to_list()],
        embedding_dim=embedding_dim,
        hops=hops,
        max_sentences=max_sentences,
        weight_tying=weight_tying,
        linear_start=linear_start,
        dtype=dtype_policy(dtype),
    )
    model = QuestionAnswerer(
        backbone, vectorizer, choices, max_sentences=max_sentences, max_words=max_words
    )
    model.compile()
    return model
