"""`zoo.hierarchical_attention_classifier`: builds a document classifier from labelled texts."""

import tensorflow as tf

from zoo import checks
from zoo.models.hierarchical_attention_backbone import HierarchicalAttentionBackbone
from zoo.precision import dtype_policy
from zoo.tasks.inputs import as_text_list
from zoo.tasks.text_classifier import TextClassifier, class_names_from_labels
from zoo.text.segmentation import split_sentences
from zoo.text.text_vectorizer import TextVectorizer


def hierarchical_attention_classifier(
    documents=None,
    labels=None,
    *,
    vectorizer=None,
    vocabulary_size=20000,
    tokenizer_level="word",
    lowercase=True,
    max_sentences=16,
    max_words=48,
    embedding_dim=200,
    units=50,
    attention_units=None,
    dropout=0.0,
    dtype=None,
):
    """Builds a compiled hierarchical attention classifier (Yang et al. 2016).

    The vocabulary is learned from the sentences of `documents` (split as the model
    splits them) unless a vectorizer is given; the classes are the sorted distinct
    `labels`. See `HierarchicalAttentionBackbone` for the architecture and
    `zoo.tasks.TextClassifier` for the verbs.

    Args:
        documents: list of str, the corpus to learn the vocabulary from.
        labels: list of str or list of int, one per document (or any labels covering the
            classes, when a vectorizer is given): the classes the model predicts.
        vectorizer: a ready `zoo.text.TextVectorizer`, instead of learning one.
        vocabulary_size: int, tokens in the learned vocabulary.
        tokenizer_level: "word", "subword" or "character".
        lowercase: bool, whether a learned vectorizer lower-cases text.
        max_sentences: int, most sentences read per document; later ones are dropped.
        max_words: int, most tokens read per sentence; later ones are dropped.
        embedding_dim: int, size of the word embeddings.
        units: int, state size of each GRU direction.
        attention_units: int, hidden size of the attention scorers (default `2 * units`).
        dropout: float, dropout on word embeddings and on the document vector.
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or "auto": mixed bfloat16 on a CPU with bfloat16 units,
            mixed float16 on a GPU, float32 otherwise (see `zoo.dtype_policy`). Logits,
            softmaxes and the loss stay float32.

    Returns:
        A compiled `zoo.tasks.TextClassifier`.

    Example:
    >>> documents, labels = zoo.datasets.keyword_documents(1000)
    >>> model = zoo.hierarchical_attention_classifier(documents, labels, units=32)
    >>> model.fit(documents, labels, epochs=5)
    >>> model.predict("Kalo rain suvi. Mopa dita.")  # -> "weather"
    """
    class_names = class_names_from_labels(labels, "labels")
    checks.positive_int(max_sentences, "max_sentences")
    checks.positive_int(max_words, "max_words")
    dtype = dtype_policy(dtype)
    if vectorizer is None:
        documents, _ = as_text_list(documents, "documents")
        checks.same_length(documents, labels, "documents", "labels")
        sentences = [
            sentence.decode("utf-8")
            for sentence in split_sentences(tf.constant(documents)).flat_values.numpy()
        ]
        if not sentences:
            raise ValueError("`documents` holds no sentence to learn a vocabulary from.")
        vectorizer = TextVectorizer.from_corpus(
            sentences,
            vocabulary_size,
            tokenizer_level,
            lowercase,
            sequence_length=max_words + 2,
        )
    backbone = HierarchicalAttentionBackbone(
        vectorizer.vocabulary_size,
        len(class_names),
        embedding_dim=embedding_dim,
        units=units,
        attention_units=attention_units,
        dropout=dropout,
        dtype=dtype,
    )
    model = TextClassifier(
        backbone,
        vectorizer,
        class_names,
        max_sentences=max_sentences,
        max_words=max_words,
    )
    model.compile()
    return model
