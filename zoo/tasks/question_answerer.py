"""QuestionAnswerer: the fit/predict/evaluate/save/export interface of models that answer a
question about a story with one word (memory networks)."""

import keras
import tensorflow as tf

from zoo import checks, optimizers
from zoo.tasks.inputs import as_label_list, as_text_list, label_ids, validation_parts
from zoo.tasks.task import Task, evaluates_raw_inputs, requested
from zoo.text.segmentation import split_sentences
from zoo.training.batching import reshuffled


@keras.saving.register_keras_serializable(package="zoo")
class QuestionAnswerer(Task):
    """Answers questions about stories: raw text in, one-word answers out.

    It owns a backbone (a functional graph from `story_token_ids` / `story_padding_mask`,
    [batch, sentences, words], and `question_token_ids` / `question_padding_mask`,
    [batch, words], to answer logits, with `call_with_attention` and the
    `training_callbacks` that `fit` adds), the `zoo.text.TextVectorizer` of its words and its
    answers. A story is one string; the model reads its sentences as
    `zoo.text.split_sentences` splits them (one sentence per line works), the last
    `max_sentences` of them, and the first `max_words` tokens of each sentence and of the
    question. Builders such as `zoo.memory_network` return it compiled.

    Args:
        backbone: a keras.Model as above, e.g. `zoo.models.MemoryNetworkBackbone`.
        vectorizer: `zoo.text.TextVectorizer` for the words (no start/end tokens are used).
        answers: list of str, the answers in logit order.
        max_sentences: int, most sentences read per story (the last ones).
        max_words: int, most tokens read per sentence and per question.

    Example:
    >>> stories, questions, answers = zoo.datasets.babi_tasks(1, 1000)
    >>> model = zoo.memory_network(stories, questions, answers, hops=3)
    >>> model.fit(stories, questions, answers, epochs=20)
    >>> model.predict(stories[0], questions[0])  # one answer word, e.g. "bedroom"
    >>> answer, attention = model.predict(story, question, return_attention=True)
    >>> model.export("saved_models/babi/1")  # serving_default(stories, questions)
    """

    components = ("backbone", "vectorizer")

    def __init__(self, backbone, vectorizer, answers, max_sentences=50, max_words=16, **kwargs):
        answers = as_label_list(answers, "answers")
        if len(set(answers)) != len(answers):
            raise ValueError(f"`answers` holds duplicates: {answers}.")
        checks.positive_int(max_sentences, "max_sentences")
        checks.positive_int(max_words, "max_words")
        super().__init__(backbone, **kwargs)
        self.vectorizer = vectorizer
        # A tuple: Keras would wrap a list attribute in a tracked list.
        self.answers = tuple(answers)
        self.max_sentences = int(max_sentences)
        self.max_words = int(max_words)
        self._functions = {}

    # === Preprocessing ===
    def story_sentences(self, stories):
        """tf.string [batch] -> ragged [batch, (sentences)]: the last `max_sentences`."""
        sentences = split_sentences(stories)
        start = tf.maximum(sentences.row_lengths() - self.max_sentences, 0)
        return tf.ragged.boolean_mask(
            sentences, tf.ragged.range(sentences.row_lengths()) >= tf.expand_dims(start, 1)
        )

    def preprocess(self, stories, questions):
        """tf.string [batch] stories and questions -> the backbone's input dict."""
        sentences = self.story_sentences(stories)
        story_ids = sentences.with_flat_values(self._tokenize(sentences.flat_values))
        question_ids = self._tokenize(questions)
        shape = tf.stack(
            [
                story_ids.nrows(),
                tf.maximum(tf.reduce_max(story_ids.row_lengths()), 1),
                tf.maximum(tf.reduce_max(story_ids.values.row_lengths()), 1),
            ]
        )
        pad = self.vectorizer.pad_token_id
        return {
            "story_token_ids": story_ids.to_tensor(pad, shape=shape),
            "story_padding_mask": tf.ones_like(story_ids, tf.bool).to_tensor(False, shape=shape),
            "question_token_ids": question_ids.to_tensor(pad),
            "question_padding_mask": tf.ones_like(question_ids, tf.bool).to_tensor(False),
        }

    def _tokenize(self, texts):
        return self.vectorizer.tokenize(texts)[:, : self.max_words]

    def _checked(self, stories, questions, answers=None, names=("stories", "questions")):
        """Checks raw inputs; returns (stories, questions[, answer ids]) as tensors/arrays."""
        stories, is_single = as_text_list(stories, names[0])
        questions, _ = as_text_list(questions, names[1])
        checks.same_length(stories, questions, *names)
        for i, story in enumerate(stories):
            if not story.strip():
                raise ValueError(f"`{names[0]}[{i}]` holds no sentence: {story!r}.")
        checked = [tf.constant(stories), tf.constant(questions), is_single]
        if answers is not None:
            answers = as_label_list(answers, "answers")
            checks.same_length(stories, answers, names[0], "answers")
            checked.append(label_ids(answers, self.answers, "answers", kind="answers"))
        return checked

    # === Training ===
    def compile(self, optimizer="auto", loss="auto", *, metrics="auto", **kwargs):
        """Configures training: "auto" is Adam (learning rate 0.01, gradient norm clipped
        to 40, as the paper clips it), sparse categorical cross-entropy from logits and
        accuracy."""
        if optimizer == "auto":
            optimizer = optimizers.Adam(learning_rate=0.01, clipnorm=40.0)
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def training_dataset(self, stories, questions, answers, batch_size=32, shuffle=True):
        """Ready `(x, answer_ids)` batches of the examples, reshuffled every pass when
        `shuffle`."""
        checks.positive_int(batch_size, "batch_size")
        stories, questions, _, answer_ids = self._checked(stories, questions, answers)
        dataset = tf.data.Dataset.from_tensor_slices((stories, questions, answer_ids))
        if shuffle:
            dataset = reshuffled(dataset)
        dataset = dataset.batch(batch_size).map(
            lambda story, question, answer: (self.preprocess(story, question), answer)
        )
        return dataset.prefetch(tf.data.AUTOTUNE)

    def fit(
        self,
        stories=None,
        questions=None,
        answers=None,
        *,
        batch_size=32,
        validation_data=None,
        shuffle=True,
        **kwargs,
    ):
        """Trains on (story, question, answer) examples.

        Args:
            stories: list of str, one story each (its sentences one per line).
            questions: list of str, parallel to `stories`.
            answers: list of str, each one of the model's `answers`.
            batch_size: int, examples per step.
            validation_data: `(stories, questions, answers)`.
            shuffle: bool, whether to reshuffle the examples every epoch.
            **kwargs: passed to `keras.Model.fit` (`epochs`, `callbacks`, `verbose`, ...).

        Returns:
            The Keras `History`.
        """
        dataset = self.training_dataset(stories, questions, answers, batch_size, shuffle)
        if validation_data is not None:
            parts = validation_parts(validation_data, "(stories, questions, answers)")
            validation_data = self.training_dataset(*parts[:3], batch_size, shuffle=False)
        # The backbone's own schedule, such as the memory network's linear start.
        callbacks = [*(kwargs.pop("callbacks", None) or []), *self.backbone.training_callbacks()]
        return self.fit_batches(
            dataset, validation_data=validation_data, callbacks=callbacks, **kwargs
        )

    @evaluates_raw_inputs
    def evaluate(self, stories=None, questions=None, answers=None, *, batch_size=32, **kwargs):
        """Scores the model: a dict with "loss" (mean cross-entropy) and "accuracy"."""
        dataset = self.training_dataset(stories, questions, answers, batch_size, shuffle=False)
        return self.evaluate_batches(dataset, **kwargs)

    # === Inference ===
    def answer_function(self):
        """Returns a `tf.function` from tf.string [batch] stories and questions to
        `{"answers": tf.string [batch], "probabilities": float32 [batch]}` (the answer's
        probability), all in the graph: what `export` serves."""
        if "answer" not in self._functions:
            answers = tf.constant(list(self.answers))

            @tf.function(input_signature=[tf.TensorSpec([None], tf.string)] * 2)
            def answer(stories, questions):
                logits = self.backbone(self.preprocess(stories, questions), training=False)
                probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
                return {
                    "answers": tf.gather(answers, tf.argmax(probabilities, axis=-1)),
                    "probabilities": tf.reduce_max(probabilities, axis=-1),
                }

            self._functions["answer"] = answer
        return self._functions["answer"]

    def _attention_function(self):
        if "attention" not in self._functions:

            @tf.function(input_signature=[tf.TensorSpec([None], tf.string)] * 2)
            def attend(stories, questions):
                sentences = self.story_sentences(stories)
                outputs = self.backbone.call_with_attention(self.preprocess(stories, questions))
                return {
                    "probabilities": tf.nn.softmax(tf.cast(outputs["logits"], tf.float32)),
                    "sentences": sentences.to_tensor(""),
                    "num_sentences": sentences.row_lengths(),
                    "hop_attention": outputs["hop_attention"],
                }

            self._functions["attention"] = attend
        return self._functions["attention"]

    def predict(self, stories, questions, *, batch_size=32, return_attention=False, **kwargs):
        """Answers questions about stories.

        Args:
            stories: a str (one story), or a list of str.
            questions: a str, or a list of str parallel to `stories`.
            batch_size: int, examples answered together.
            return_attention: bool, whether to also return, per example, a dict with
                "sentences" (the story's sentences the model read, list of str) and
                "hop_weights" (float32 [hops, sentences]: each hop's attention, each row
                summing to 1).

        Returns:
            An answer (str) for a str, else a list of answers; with `return_attention`, the
            tuple `(answers, attention)`.
        """
        if kwargs:
            raise TypeError(f"Unexpected arguments to `predict`: {sorted(kwargs)}.")
        stories, questions, is_single = self._checked(stories, questions)
        function = self._attention_function() if return_attention else self.answer_function()
        answers, attention = [], []
        for outputs in self.batches_through(function, (stories, questions), batch_size):
            if return_attention:
                answers.extend(self.answers[i] for i in outputs["probabilities"].argmax(-1))
                for i, count in enumerate(outputs["num_sentences"]):
                    sentences = outputs["sentences"][i, :count]
                    attention.append(
                        {
                            "sentences": [sentence.decode("utf-8") for sentence in sentences],
                            "hop_weights": outputs["hop_attention"][i, :, :count],
                        }
                    )
            else:
                answers.extend(answer.decode("utf-8") for answer in outputs["answers"])
        if is_single:
            answers, attention = answers[0], attention[0] if attention else attention
        return requested(answers, attention=(return_attention, attention))

    # === Export and serialization ===
    def export(self, filepath):
        """Writes a SavedModel that answers raw text: its `serving_default` signature takes
        `stories` and `questions`, tf.string [batch] each, and returns `answers`: tf.string
        [batch] and `probabilities`: float32 [batch] (the answer's); it loads with
        `tf.saved_model.load` in a process that imports only tensorflow and tensorflow_text,
        and matches `predict`."""
        from zoo.export import export_endpoints

        export_endpoints(
            self,
            filepath,
            {"serving_default": self.answer_function()},
            vectorizers=[self.vectorizer],
            input_names=("stories", "questions"),
        )

    def get_config(self):
        return {
            **super().get_config(),
            "answers": list(self.answers),
            "max_sentences": self.max_sentences,
            "max_words": self.max_words,
        }
