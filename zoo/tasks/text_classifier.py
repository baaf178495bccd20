"""TextClassifier: the fit/predict/evaluate/save/export interface of document classifiers."""

import keras
import numpy as np
import tensorflow as tf

from zoo import checks
from zoo.tasks.inputs import as_label_list, as_text_list, label_ids, validation_parts
from zoo.tasks.task import Task, evaluates_raw_inputs, requested
from zoo.text.segmentation import split_sentences
from zoo.training.batching import LengthBuckets, reshuffled


def class_names_from_labels(labels, name="labels"):
    """The classes of `labels`: their sorted distinct values (at least two)."""
    class_names = sorted(set(as_label_list(labels, name)))
    if len(class_names) < 2:
        raise ValueError(f"`{name}` must hold at least two classes, got only {class_names}.")
    return class_names


@keras.saving.register_keras_serializable(package="zoo")
class TextClassifier(Task):
    """A document classifier that takes raw text and returns labels.

    It owns a backbone (a functional graph from `word_token_ids` and `word_padding_mask`,
    int32 / bool [batch, sentences, words], to logits [batch, num_classes], with
    `call_with_attention`), the `zoo.text.TextVectorizer` of its words and the class
    names, and gives the classifier families the verbs `fit`, `predict`, `evaluate`,
    `save` and `export`. Builders such as `zoo.hierarchical_attention_classifier` return
    it compiled.

    Documents are split into sentences in the graph (see `split_sentences`): after . ! ?
    or … followed by whitespace, and at line breaks. Only the first `max_sentences`
    sentences of a document and the first `max_words` tokens of a sentence are read; the
    rest is dropped. An empty document has no sentence and gets the classifier's prior.

    Args:
        backbone: a keras.Model as above, e.g. `zoo.models.HierarchicalAttentionBackbone`.
        vectorizer: `zoo.text.TextVectorizer` for the words (no start/end tokens are used).
        class_names: list of str or of int, the classes in logit order. `predict` returns
            them as given; the export returns them as strings.
        max_sentences: int, most sentences read per document.
        max_words: int, most tokens read per sentence.

    Example:
    >>> model = zoo.hierarchical_attention_classifier(documents, labels)
    >>> model.fit(documents, labels, epochs=5, validation_data=(val_documents, val_labels))
    >>> model.predict("The match went to extra time. Nobody scored.")  # -> "sports"
    >>> label, attention = model.predict(document, return_attention=True)
    >>> model.evaluate(test_documents, test_labels)  # {"loss", "accuracy"}
    >>> model.export("saved_models/topics/1")
    """

    components = ("backbone", "vectorizer")

    def __init__(self, backbone, vectorizer, class_names, max_sentences=16, max_words=48, **kwargs):
        class_names = as_label_list(class_names, "class_names")
        if len(set(class_names)) != len(class_names):
            raise ValueError(f"`class_names` holds duplicates: {class_names}.")
        checks.positive_int(max_sentences, "max_sentences")
        checks.positive_int(max_words, "max_words")
        num_logits = backbone.output.shape[-1]
        if num_logits != len(class_names):
            raise ValueError(
                f"`class_names` has {len(class_names)} classes but the backbone returns "
                f"{num_logits} logits."
            )
        super().__init__(backbone, **kwargs)
        self.vectorizer = vectorizer
        # A tuple: Keras would wrap a list attribute in a tracked list.
        self.class_names = tuple(class_names)
        self.max_sentences = int(max_sentences)
        self.max_words = int(max_words)
        self._functions = {}

    @property
    def num_classes(self):
        return len(self.class_names)

    # === Preprocessing ===
    def split_sentences(self, documents):
        """tf.string [batch] -> the ragged [batch, (sentences)] the model reads: at most
        `max_sentences` per document."""
        return split_sentences(documents)[:, : self.max_sentences]

    def tokenize_sentences(self, sentences):
        """Ragged tf.string [batch, (sentences)] -> ragged int32 [batch, (sentences),
        (words)], at most `max_words` tokens per sentence."""
        token_ids = self.vectorizer.tokenize(sentences.flat_values)[:, : self.max_words]
        return sentences.with_flat_values(token_ids)

    def tokenize(self, documents):
        """tf.string [batch] -> ragged int32 [batch, (sentences), (words)], truncated."""
        return self.tokenize_sentences(self.split_sentences(documents))

    def pack(self, token_ids):
        """Ragged token ids -> the backbone's input dict, padded to the batch's most
        sentences and words (at least one of each, so an all-empty batch still runs)."""
        num_sentences = tf.maximum(tf.reduce_max(token_ids.row_lengths()), 1)
        num_words = tf.maximum(tf.reduce_max(token_ids.values.row_lengths()), 1)
        shape = tf.stack([token_ids.nrows(), num_sentences, num_words])
        padding_mask = tf.ones_like(token_ids, dtype=tf.bool)
        return {
            "word_token_ids": token_ids.to_tensor(self.vectorizer.pad_token_id, shape=shape),
            "word_padding_mask": padding_mask.to_tensor(False, shape=shape),
        }

    def preprocess(self, documents):
        """tf.string [batch] -> the backbone's input dict."""
        return self.pack(self.tokenize(documents))

    # === Training ===
    def fit(self, x=None, y=None, *, batch_size=32, validation_data=None, shuffle=True, **kwargs):
        """Trains on labelled documents.

        Args:
            x: the documents: a list, tuple or 1-D array of str.
            y: their labels, parallel to `x`, each one of `class_names`.
            batch_size: int, most documents per step. Documents with the same number of
                sentences share batches, as Yang et al. (2016) batch them, so that little
                of a step is spent on padded sentences.
            validation_data: `(documents, labels)`.
            shuffle: bool, whether to reshuffle the documents every epoch.
            **kwargs: passed to `keras.Model.fit` (`epochs`, `callbacks`, `verbose`, ...).

        Returns:
            The Keras `History`.
        """
        dataset = self.training_dataset(x, y, batch_size, shuffle)
        if validation_data is not None:
            parts = validation_parts(validation_data, "(documents, labels)")
            validation_data = self._dataset(*parts, batch_size)
        return self.fit_batches(dataset, validation_data=validation_data, **kwargs)

    def training_dataset(self, x, y, batch_size=32, shuffle=True):
        """The batches `fit` trains on: `(x, label_ids)`, at most `batch_size` documents
        each, all with the same number of sentences (up to `max_sentences`; an empty
        document counts as one), every document once per pass, in a new order every pass
        when `shuffle`."""
        return self._dataset(x, y, "x", "y", batch_size, shuffle, by_sentence_count=True)

    def _dataset(
        self, x, y, x_name="x", y_name="y", batch_size=32, shuffle=False, by_sentence_count=False
    ):
        """Checks labelled documents; returns a dataset of ready `(x, label_ids)` batches,
        of documents with the same number of sentences when `by_sentence_count`."""
        documents, _ = as_text_list(x, x_name)
        labels = as_label_list(y, y_name)
        checks.same_length(documents, labels, x_name, y_name)
        ids = label_ids(labels, self.class_names, y_name)
        checks.positive_int(batch_size, "batch_size")
        # Tokenizing the whole corpus once, up front, is far cheaper than in every batch.
        token_ids = self.tokenize(tf.constant(documents))
        examples = tf.data.Dataset.from_tensor_slices((token_ids, ids))
        if shuffle:
            examples = reshuffled(examples)
        if by_sentence_count:
            # An empty document (no sentence) pads to one sentence, as `pack` pads it.
            buckets = LengthBuckets(self.max_sentences, batch_size, width=1)
            batches = buckets.batch(examples, _padded_sentence_count)
            count = buckets.count_batches(tf.maximum(token_ids.row_lengths(), 1))
            batches = batches.apply(tf.data.experimental.assert_cardinality(count))
        else:
            batches = examples.batch(batch_size)
        batches = batches.map(lambda ids, labels: (self.pack(ids), labels))
        return batches.prefetch(tf.data.AUTOTUNE)

    # === Inference ===
    def classify_function(self):
        """Returns a `tf.function` from tf.string [batch] to `{"labels", "probabilities"}`:
        tf.string [batch] class names and float32 [batch, num_classes], all in the graph.
        It is what `predict` and `export` call."""
        if "classify" not in self._functions:
            class_names = tf.constant([str(name) for name in self.class_names])

            @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
            def classify(documents):
                logits = self.backbone(self.preprocess(documents), training=False)
                probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
                labels = tf.gather(class_names, tf.argmax(probabilities, axis=-1))
                return {"labels": labels, "probabilities": probabilities}

            self._functions["classify"] = classify
        return self._functions["classify"]

    def _attention_function(self):
        if "attention" not in self._functions:

            @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
            def attend(documents):
                sentences = self.split_sentences(documents)
                inputs = self.pack(self.tokenize_sentences(sentences))
                outputs = self.backbone.call_with_attention(inputs, training=False)
                return {
                    "probabilities": tf.nn.softmax(tf.cast(outputs["logits"], tf.float32)),
                    "sentences": sentences.to_tensor(""),
                    "num_sentences": sentences.row_lengths(),
                    "word_padding_mask": inputs["word_padding_mask"],
                    "words": self.vectorizer.id_to_token(inputs["word_token_ids"]),
                    "word_attention": outputs["word_attention"],
                    "sentence_attention": outputs["sentence_attention"],
                }

            self._functions["attention"] = attend
        return self._functions["attention"]

    def predict(
        self, x, *, batch_size=32, return_probabilities=False, return_attention=False, **kwargs
    ):
        """Classifies documents.

        Args:
            x: a str, or a list / 1-D array of str. The empty string is a valid input.
            batch_size: int, documents classified together.
            return_probabilities: bool, whether to also return the class probabilities,
                float32 [num_classes] per document in `class_names` order.
            return_attention: bool, whether to also return, per document, a dict of what
                the model read and where it looked, real positions only (no padding):
                "sentences" (list of str), "sentence_weights" (float array, one per
                sentence, summing to 1), "words" (per sentence, the list of its tokens as
                the vocabulary spells them, "[UNK]" for unknown ones) and "word_weights"
                (per sentence, a float array summing to 1).

        Returns:
            A label for a str, else a list of labels, of the kind of `class_names`; with
            `return_probabilities` and/or `return_attention`, a tuple
            `(labels, probabilities, attention)` of those asked for, in that order.
        """
        if kwargs:
            raise TypeError(f"Unexpected arguments to `predict`: {sorted(kwargs)}.")
        documents, is_single = as_text_list(x, "x")
        function = self._attention_function() if return_attention else self.classify_function()
        probabilities, attention = [], []
        for outputs in self.batches_through(function, tf.constant(documents), batch_size):
            probabilities.append(outputs["probabilities"])
            if return_attention:
                attention.extend(self._attention_dicts(outputs))
        probabilities = np.concatenate(probabilities)
        labels = [self.class_names[i] for i in probabilities.argmax(axis=-1)]
        if is_single:
            labels, probabilities = labels[0], probabilities[0]
            attention = attention[0] if return_attention else attention
        return requested(
            labels,
            probabilities=(return_probabilities, probabilities),
            attention=(return_attention, attention),
        )

    def _attention_dicts(self, outputs):
        dicts = []
        for i, num_sentences in enumerate(outputs["num_sentences"]):
            words, word_weights = [], []
            for j in range(num_sentences):
                real = outputs["word_padding_mask"][i, j]
                words.append([word.decode("utf-8") for word in outputs["words"][i, j][real]])
                word_weights.append(outputs["word_attention"][i, j][real])
            sentences = outputs["sentences"][i, :num_sentences]
            dicts.append(
                {
                    "sentences": [sentence.decode("utf-8") for sentence in sentences],
                    "sentence_weights": outputs["sentence_attention"][i, :num_sentences],
                    "words": words,
                    "word_weights": word_weights,
                }
            )
        return dicts

    # === Evaluation ===
    @evaluates_raw_inputs
    def evaluate(self, x=None, y=None, *, batch_size=32, **kwargs):
        """Scores the model on labelled documents.

        Args:
            x: documents, a list / 1-D array of str.
            y: their labels, parallel to `x`.
            batch_size: int.

        Returns:
            dict with "loss" (mean cross-entropy) and "accuracy".
        """
        return self.evaluate_batches(self._dataset(x, y, batch_size=batch_size), **kwargs)

    # === Export and serialization ===
    def export(self, filepath):
        """Writes a SavedModel that serves raw documents.

        Its `serving_default` signature takes `inputs`: tf.string [batch] and returns
        `labels`: tf.string [batch] (the class names as strings) and `probabilities`:
        tf.float32 [batch, num_classes], with sentence splitting and tokenization in the
        graph; it loads with `tf.saved_model.load` in a process that imports only
        tensorflow and tensorflow_text, and matches `predict`.
        """
        from zoo.export import export_endpoints

        endpoints = {"serving_default": self.classify_function()}
        export_endpoints(self, filepath, endpoints, vectorizers=[self.vectorizer])

    def get_config(self):
        return {
            **super().get_config(),
            "class_names": list(self.class_names),
            "max_sentences": self.max_sentences,
            "max_words": self.max_words,
        }


def _padded_sentence_count(token_ids, label_id):
    """One tokenized document -> int32, the sentences `pack` pads it to when alone."""
    return tf.maximum(tf.cast(token_ids.nrows(), tf.int32), 1)
