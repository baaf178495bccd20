"""Generation in the graph for a `Seq2Seq`: sources in, decoded text (and attention) out,
what its `predict` and its export run."""

import json

import tensorflow as tf

from zoo import checks, decoding
from zoo.decoding.attention_buffer import ATTENTION_WEIGHTS


class TextGeneration:
    """The generation verbs of a `Seq2Seq`: decoding in the graph from sources to text (and
    attention), what its `predict` and its export run. The task holds `backbone`,
    `preprocessor`, `target_vectorizer`, its default `sampler` and a `_text_generators` dict.
    """

    def generate(self, source, padding_mask, sampler=None, max_length=None, return_attention=False):
        """Decodes token ids for the task's encoder inputs; returns a `zoo.decoding.DecodeResult`.

        Args:
            source, padding_mask: the encoder inputs (vectorized sources and their padding mask,
                or what the preprocessor's `generation_inputs` gives).
            sampler: a `zoo.decoding.Sampler` or its name; None: the compiled one.
            max_length: int, tokens to generate; by default the target vectorizer's
                `sequence_length - 1`.
            return_attention: bool, whether the result's cache holds "attention_weights"
                [batch, source_length, max_length] ([batch, layers, source_length, max_length]
                for a backbone that shows every decoder layer's, as ConvS2S does; of the best
                beam for beam search).
        """
        sampler = self._resolve_sampler(sampler)
        target = self.target_vectorizer
        max_length = max_length or target.sequence_length - 1
        cache = self.backbone.encode(
            source, padding_mask, max_length, return_attention=return_attention
        )
        return sampler(
            self.backbone.step,
            cache,
            batch_size=tf.shape(source)[0],
            start_token_id=target.start_token_id,
            end_token_id=target.end_token_id,
            pad_token_id=target.pad_token_id,
            max_length=max_length,
        )

    def text_generator(
        self, sampler=None, max_length=None, jit_compile=True, return_attention=False
    ):
        """Returns a `tf.function` from tf.string [batch] to `{"outputs", "scores"}`.

        (A task with another `generator_input_signature` takes its sources instead.)
        Tokenizing, decoding and detokenizing all run in the graph (the decoding loop compiled
        with XLA when `jit_compile`). `outputs` is tf.string [batch] (or [batch, num_beams] for
        a beam sampler that returns all beams) and `scores` the matching float32 sequence scores.
        With `return_attention`, also "attention": float32 [batch, max_length, source_length]
        (rows: generated tokens, columns: source tokens; zero at padding; [batch, layers,
        max_length, source_length] where the backbone shows each layer's), and the tokens that
        label it, "source_tokens" [batch, source_length] and "output_tokens" [batch, max_length]
        (the pad token at padding). Where the preprocessor cannot read some sources (an
        undecodable image), also "status": tf.string [batch], "ok" or "unreadable input", whose
        unreadable rows have the empty string as output, score -inf and zero attention, while
        the rest of the batch is answered.

        Args:
            sampler: a `zoo.decoding.Sampler` or its name; None: the compiled one.
            max_length: int, most tokens to generate; None: the target's `sequence_length - 1`.
            jit_compile: bool, whether to compile the decoding loop with XLA.
            return_attention: bool; the backbone must have attention.
        """
        if max_length is not None:
            checks.positive_int(max_length, "max_length")
        if return_attention:
            self._check_has_attention()
        sampler = self._resolve_sampler(sampler)

        # A def, not a lambda: AutoGraph cannot always find a lambda's source.
        @tf.function(jit_compile=jit_compile)
        def generate_token_ids(source, padding_mask):
            return self.generate(source, padding_mask, sampler, max_length, return_attention)

        # One trace for every batch size (XLA still compiles the loop per shape bucket).
        @tf.function(input_signature=self.generator_input_signature)
        def generate_text(sources):
            source, padding_mask, answered = self.preprocessor.generation_inputs(sources)
            result = generate_token_ids(source, padding_mask)
            texts = _texts(self, result)
            if return_attention:
                texts.update(_attention(self, source, result))
            return texts if answered is None else _unanswered_left_blank(texts, answered)

        return generate_text

    @property
    def has_attention(self):
        """Whether the backbone attends to the source, so it can return attention weights."""
        return self.backbone.has_attention

    def _check_has_attention(self):
        if not self.has_attention:
            raise ValueError(
                "`return_attention=True` needs a model with attention (e.g. "
                f"zoo.attention_translator); this {type(self.backbone).__name__} has none."
            )

    def _resolve_sampler(self, sampler):
        """The given sampler (instance, name or config), or the compiled default."""
        return self.sampler if sampler is None else decoding.get(sampler)

    def _cached_text_generator(self, sampler, max_length, return_attention):
        """`text_generator`'s function for these settings, traced once per task."""
        sampler = self._resolve_sampler(sampler)
        key = json.dumps(
            [decoding.serialize(sampler), max_length, return_attention], sort_keys=True
        )
        if key not in self._text_generators:
            self._text_generators[key] = self.text_generator(
                sampler, max_length, return_attention=return_attention
            )
        return self._text_generators[key]


def _texts(task, result):
    """The decoded token ids as text ("outputs"), with their "scores"."""
    generated = result.token_ids
    outputs = task.target_vectorizer.detokenize(
        tf.reshape(generated, [-1, tf.shape(generated)[-1]])
    )
    return {"outputs": tf.reshape(outputs, tf.shape(generated)[:-1]), "scores": result.scores}


def _attention(task, source, result):
    """The best sequence's attention weights, zero where it wrote padding, and the source
    and output tokens that label them."""
    generated = result.token_ids
    best = generated if generated.shape.rank == 2 else generated[:, 0]
    # [batch, (layers,) source, positions] -> [batch, (layers,) positions, source]
    weights = tf.linalg.matrix_transpose(result.cache[ATTENTION_WEIGHTS])
    # Finished sequences keep stepping on padding: zero those rows.
    written = tf.cast(best != task.target_vectorizer.pad_token_id, weights.dtype)
    for _ in range(weights.shape.rank - 3):  # broadcast over the layers
        written = written[:, None]
    return {
        "attention": weights * written[..., None],
        **task.preprocessor.source_labels(source),
        "output_tokens": task.target_vectorizer.id_to_token(best),
    }


def _unanswered_left_blank(texts, answered):
    """The generator's outputs with the sources that could not be read left blank: the
    empty string, score -inf, zero attention, and a "status" for every source."""

    def where_answered(value, blank):
        # `answered` [batch] broadcast over the value's other axes (beams, positions).
        shape = tf.concat([tf.shape(answered), tf.ones([value.shape.rank - 1], tf.int32)], 0)
        return tf.where(tf.reshape(answered, shape), value, blank)

    texts = {
        **texts,
        "outputs": where_answered(texts["outputs"], ""),
        "scores": where_answered(texts["scores"], float("-inf")),
        "status": tf.where(answered, "ok", "unreadable input"),
    }
    if "attention" in texts:
        texts["attention"] = where_answered(texts["attention"], 0.0)
    return texts
