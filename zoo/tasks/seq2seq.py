"""Seq2Seq: the one fit/predict/evaluate/save/export interface of every text-to-text family."""

import keras
import numpy as np
import tensorflow as tf

from zoo import decoding
from zoo.losses import LabelSmoothedCrossentropy
from zoo.tasks.attention_maps import decode_strings
from zoo.tasks.inputs import validation_parts
from zoo.tasks.pretraining import pretraining_objective
from zoo.tasks.task import Task, evaluates_raw_inputs, requested
from zoo.tasks.text_generation import TextGeneration
from zoo.tasks.text_pair_preprocessor import TextPairPreprocessor
from zoo.training.batching import DEFAULT_BUCKET_WIDTH


@keras.saving.register_keras_serializable(package="zoo")
class Seq2Seq(TextGeneration, Task):
    """A sequence-to-sequence model that takes and returns raw text.

    It owns a backbone (the family's teacher-forced functional graph, with `encode` and
    `step` decode functions) and the source and target vectorizers, and gives every
    family the same verbs: `fit`, `predict`, `evaluate`, `save` and `export`.
    Builders such as `zoo.lstm_translator` return it compiled.

    Args:
        backbone: a keras.Model with the named translation inputs, returning logits, with
            `encode(encoder_token_ids, encoder_padding_mask, max_length, return_attention)
            -> cache`, `step(token_ids, cache, index) -> (logits, cache)` and
            `has_attention`.
        source_vectorizer: a `zoo.text.TextVectorizer` (or another `zoo.text.Vectorizer`,
            such as `zoo.text.SentencePieceVectorizer`) for the source texts.
        target_vectorizer: the same for the target texts; None shares the source's (one
            vocabulary for both sides).
        preprocessor: what turns raw pairs into the backbone's inputs: by default a
            `zoo.tasks.TextPairPreprocessor` over the two vectorizers; a task over other
            sources passes its own (`ImageCaptioner`).

    Example:
    >>> model = zoo.lstm_translator(sources, targets, units=256)
    >>> model.fit(sources, targets, epochs=10)
    >>> model.predict("the dog runs.")
    >>> model.predict(["the dog runs."], sampler=zoo.decoding.BeamSampler(num_beams=4))
    >>> model.evaluate(test_sources, test_targets)  # {"loss", "token_accuracy", "bleu"}
    >>> model.export("saved_models/en_fr/1")
    """

    # What `text_generator`, and so `predict` and `export`, take: a batch of text.
    generator_input_signature = [tf.TensorSpec([None], tf.string)]
    # The export's signature that also returns the attention weights.
    attention_signature = "translate_with_attention"
    components = ("backbone", "source_vectorizer", "target_vectorizer")

    def __init__(
        self, backbone, source_vectorizer, target_vectorizer=None, *, preprocessor=None, **kwargs
    ):
        super().__init__(backbone, **kwargs)
        self.source_vectorizer = source_vectorizer
        shared = target_vectorizer is None
        self.target_vectorizer = source_vectorizer if shared else target_vectorizer
        if preprocessor is None:
            preprocessor = TextPairPreprocessor(self.source_vectorizer, self.target_vectorizer)
        self.preprocessor = preprocessor
        self.sampler = decoding.GreedySampler()
        self._text_generators = {}

    # === Training ===
    def preprocess(self, sources, target_texts):
        """Vectorizes a batch of pairs into teacher-forcing `(x, y, sample_weight)`."""
        return self.preprocessor.preprocess(sources, target_texts)

    def compile(
        self,
        optimizer="auto",
        loss="auto",
        *,
        weighted_metrics="auto",
        sampler="greedy",
        label_smoothing=0.0,
        **kwargs,
    ):
        """Configures training, with defaults for sequence-to-sequence learning.

        Args:
            optimizer: "auto" (Adam, learning rate 1e-3, gradient norm clipped to 1) or any
                Keras optimizer.
            loss: "auto" (`zoo.losses.LabelSmoothedCrossentropy`: token cross-entropy with
                `label_smoothing`, averaged over the real, unpadded tokens of the global
                batch, under a tf.distribute strategy too) or a loss.
            weighted_metrics: "auto" (token accuracy over real tokens) or a list of metrics.
            sampler: the decoding strategy `predict`, `evaluate` and `export` use by default:
                a `zoo.decoding.Sampler` or its name ("greedy", "beam", "random").
            label_smoothing: float in [0, 1), the "auto" loss's label smoothing.
            **kwargs: passed to `keras.Model.compile`.
        """
        if loss == "auto":
            loss = LabelSmoothedCrossentropy(label_smoothing)
        if weighted_metrics == "auto":
            weighted_metrics = [keras.metrics.SparseCategoricalAccuracy(name="token_accuracy")]
        kwargs.setdefault("metrics", None)  # its accuracy is weighted: real tokens only
        super().compile(optimizer=optimizer, loss=loss, weighted_metrics=weighted_metrics, **kwargs)
        self.sampler = decoding.get(sampler)

    def get_compile_config(self):
        config = super().get_compile_config()
        if config is not None:
            config["sampler"] = decoding.serialize(self.sampler)
        return config

    def fit(
        self,
        x=None,
        y=None,
        *,
        batch_size=None,
        batch_tokens=None,
        length_bucket_width=DEFAULT_BUCKET_WIDTH,
        validation_data=None,
        shuffle=True,
        **kwargs,
    ):
        """Trains on parallel texts, in batches of pairs of similar length.

        Pairs are grouped by length (`zoo.training.batching`) so that a batch pads little,
        and every pair is seen once per epoch.

        Args:
            x: the source texts (list, tuple or 1-D array of str), or a `tf.data.Dataset` of
                (source, target) string pairs: single pairs are batched as lists are;
                batches are used as they are (then `y` is None).
            y: the target texts, parallel to `x`.
            batch_size: int, most pairs per batch; 64 unless `batch_tokens` is given.
            batch_tokens: int, most padded tokens per batch, each side counted on its own
                (fairseq's `--max-tokens`): short pairs make large batches, long pairs
                small ones. At least the longest pair's padded length.
            length_bucket_width: int, pairs whose longer sides' padded lengths differ by less
                than this share batches (OpenNMT-tf's `length_bucket_width`); None draws
                batches from all pairs at random, each padded to its longest pair.
            validation_data: `(source_texts, target_texts)` or a dataset like `x`.
            shuffle: bool, whether to reshuffle the pairs every epoch.
            **kwargs: passed to `keras.Model.fit` (`epochs`, `callbacks`, `verbose`, ...).

        Returns:
            The Keras `History`.
        """
        batching = {
            "batch_size": batch_size,
            "batch_tokens": batch_tokens,
            "length_bucket_width": length_bucket_width,
        }
        dataset = self.training_dataset(x, y, shuffle=shuffle, **batching)
        if validation_data is not None:
            validation_data = self.preprocessor.batches(
                *validation_parts(validation_data, "(source_texts, target_texts)", True),
                self.preprocessor.length_buckets(**batching),
            )
        return self.fit_batches(dataset, validation_data=validation_data, **kwargs)

    def training_dataset(
        self,
        x,
        y=None,
        *,
        batch_size=None,
        batch_tokens=None,
        length_bucket_width=DEFAULT_BUCKET_WIDTH,
        shuffle=False,
    ):
        """The teacher-forcing `(x, y, sample_weight)` batches that `fit` trains on.

        Args: as `fit`'s.

        Returns:
            A `tf.data.Dataset` of one epoch's batches, each of pairs of similar length
            (`zoo.training.batching`), reshuffled every time it is iterated when `shuffle`; its
            cardinality is known unless `x` is a dataset of unknown size.
        """
        buckets = self.preprocessor.length_buckets(batch_size, batch_tokens, length_bucket_width)
        return self.preprocessor.batches(x, y, "x", "y", buckets, shuffle)

    def pretrain(self, texts, *, objective=None, batch_size=None, batch_tokens=None, **kwargs):
        """Pre-trains on unlabelled text with a denoising objective; then `fit` fine-tunes.

        The objective is the backbone's own unless given (`backbone.pretraining_objective`:
        BART's for `zoo.bart`, T5's span corruption for the others):
        "span_corruption" (`zoo.tasks.SpanCorruption`: the model reads each example with a
        sentinel in place of each dropped span and writes the spans) or "bart"
        (`zoo.tasks.TextInfilling`: it reads the text with its sentences shuffled and spans
        masked, and writes the original); pass an objective object to change its
        settings. Both draw fresh noise every epoch from TensorFlow's global random state:
        seed it with `keras.utils.set_random_seed` for repeatable runs. The model needs one
        vocabulary for both sides, holding the objective's special tokens.

        Args:
            texts: list, tuple or 1-D array of str, the unlabelled text.
            objective: None, "span_corruption", "bart", or an objective object.
            batch_size: int, examples per step; 64 unless `batch_tokens` is given.
            batch_tokens: int, most padded tokens per step: as many examples as fit.
            **kwargs: passed to `keras.Model.fit` (`epochs`, `callbacks`, `verbose`, ...).

        Returns:
            The Keras `History`.

        Example:
        >>> model = zoo.t5(sources, targets)
        >>> model.pretrain(monolingual_texts, epochs=10)
        >>> model.pretrain(monolingual_texts, objective=zoo.tasks.SpanCorruption(0.3), epochs=1)
        >>> model.fit(sources, targets, epochs=10)
        """
        dataset = self.pretraining_dataset(
            texts, objective=objective, batch_size=batch_size, batch_tokens=batch_tokens
        )
        return self.fit_batches(dataset, **kwargs)

    def pretraining_dataset(self, texts, *, objective=None, batch_size=None, batch_tokens=None):
        """The examples `pretrain` trains on, as teacher-forcing batches.

        Args: as `pretrain`'s.

        Returns:
            A `tf.data.Dataset` of `(x, y, sample_weight)` batches, like `preprocess`'s, that
            draws new examples every time it is iterated.
        """
        if objective is None:
            objective = self.backbone.pretraining_objective
        return pretraining_objective(objective).batches(self, texts, batch_size, batch_tokens)

    # === Generation (and `generate`, `text_generator`: `TextGeneration`) ===
    def predict(
        self,
        x,
        *,
        sampler=None,
        batch_size=32,
        max_length=None,
        return_scores=False,
        return_attention=False,
        **kwargs,
    ):
        """Translates texts.

        Args:
            x: a str, or a list / 1-D array of str. The empty string is a valid input.
            sampler: a `zoo.decoding.Sampler` or name; defaults to the compiled one (greedy).
            batch_size: int, texts decoded together.
            max_length: int, most tokens to generate; defaults to the target vectorizer's
                `sequence_length - 1`.
            return_scores: bool, whether to also return each output's score (log-probability,
                length-penalised for beam search).
            return_attention: bool, whether to also return, for each input, a dict with
                "source" (the source tokens the model read, ending with the end token,
                "[END]" for a `TextVectorizer`), "translation" (the tokens it wrote, ending
                with the end token unless cut at `max_length`) and "weights", a
                (len(translation), len(source)) array whose
                rows sum to 1 (less under local-p attention, whose Gaussian window scales
                them) — ready for `zoo.plot_attention(**attention)`. For beam search, those
                of the best beam. ConvS2S, whose every decoder layer attends, gives
                (layers, len(translation), len(source)); `zoo.plot_attention` draws the last
                layer unless told `layer=`. Needs a model with attention.

        Returns:
            A str for a str, else a list of str; with a beam sampler that returns all beams,
            a list of str (best first) per input. With `return_scores` and/or
            `return_attention`, a tuple `(outputs, scores, attention)` of what was asked for.
        """
        if kwargs:
            raise TypeError(f"Unexpected arguments to `predict`: {sorted(kwargs)}.")
        sources, is_single = self.preprocessor.check_sources(x, "x")
        if return_attention:
            self._check_has_attention()
        generate_text = self._cached_text_generator(sampler, max_length, return_attention)
        outputs, scores, attention = [], [], []
        # Full batches only (copies of a source lengthen nothing): XLA compiles per shape.
        for result in self.batches_through(generate_text, sources, batch_size, True):
            outputs.extend(decode_strings(result["outputs"]))
            scores.append(result["scores"])
            if return_attention:
                attention.extend(self.preprocessor.attention_maps(result))
        scores = np.concatenate(scores)
        if is_single:
            outputs, scores = outputs[0], scores[0]
            attention = attention[0] if attention else attention
        return requested(
            outputs, scores=(return_scores, scores), attention=(return_attention, attention)
        )

    # === Evaluation ===
    @evaluates_raw_inputs
    def evaluate(self, x=None, y=None, *, batch_size=64, sampler=None, **kwargs):
        """Scores the model on parallel texts.

        Args:
            x: source texts, or a `tf.data.Dataset` of (source, target) string pairs.
            y: target texts (references), parallel to `x`.
            batch_size: int.
            sampler: decoding strategy for the BLEU translations; defaults to the compiled one.

        Returns:
            dict with "loss" and "token_accuracy" (teacher-forced, over real tokens) and
            "bleu" (sacrebleu corpus BLEU of the decoded, detokenized translations).
        """
        sources, targets = self.preprocessor.evaluation_pairs(x, y)
        metrics = self.evaluate_batches(
            self.training_dataset(sources, targets, batch_size=batch_size), **kwargs
        )
        translations = self.predict(sources, sampler=sampler, batch_size=batch_size)
        metrics.update(self.preprocessor.generation_metrics(translations, targets))
        return metrics

    # === Export and serialization ===
    def export(self, filepath, sampler=None, max_length=None):
        """Writes a SavedModel that serves raw text; see `zoo.export.export_text_model`."""
        from zoo.export import export_text_model

        export_text_model(self, filepath, sampler=sampler, max_length=max_length)

    def get_config(self):
        config = super().get_config()
        if self.target_vectorizer is self.source_vectorizer:
            # None: one vectorizer serves both sides (a shared vocabulary), and stays one.
            config["target_vectorizer"] = None
        return config
