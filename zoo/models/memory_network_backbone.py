"""End-to-end memory networks (Sukhbaatar et al. 2015), multi-hop attention over the sentences
of a story to answer a question about it: the backbone and its linear start."""

import keras
import keras_hub
from keras import ops

from zoo import checks
from zoo.layers.masked_softmax import masked_softmax
from zoo.models.backbone import Backbone

WEIGHT_TYING = ("adjacent", "layer-wise")


@keras.saving.register_keras_serializable(package="zoo")
class MemoryNetworkBackbone(Backbone):
    """A story's sentences as memories, read in several hops of attention by a question.

    Each sentence becomes two vectors, its memory (the keys) and its output (the values): the
    sum of its word embeddings weighted by the position encoding l_kj = (1 - j/J) -
    (k/d)(1 - 2j/J) (word j of J, dimension k of d), plus a temporal encoding of how recent
    the sentence is (the story's last sentence is 0). The question is embedded the same way
    into the state u. Each hop scores the memories against u (a softmax over the story's
    sentences, in float32), sums the outputs with those weights into o, and updates u to
    u + o (or H u + o, "layer-wise"); the answer's logits are the last state's dot products
    with the answers' embeddings.

    Weight tying (section 2.2 of the paper): "adjacent" (the default) uses K + 1 embedding
    matrices for K hops: the question's is the first hop's memory embedding, each hop's
    output embedding is the next hop's memory embedding, and the last output embedding, read
    at the answers' token ids, predicts the answer. "layer-wise" shares one memory and one
    output embedding across hops, adds the linear map H between hops, and predicts the
    answer with a matrix of its own.

    The functional graph maps `story_token_ids`, int32 [batch, sentences, words],
    `story_padding_mask` (True at real tokens), `question_token_ids`, int32 [batch, words],
    and `question_padding_mask` to the answers' logits [batch, num_answers], float32.
    `call_with_attention` also returns each hop's attention over the sentences.

    Args:
        vocabulary_size: int, size of the word vocabulary.
        answer_token_ids: list of ints, the vocabulary id of each answer word, in the order
            of the logits.
        embedding_dim: int, the size d of every embedding.
        hops: int, rounds of attention over the memories.
        max_sentences: int, the most sentences of a story the temporal encoding covers.
        weight_tying: "adjacent" or "layer-wise".
        linear_start: bool, whether to start without the hops' softmaxes (section 4.2 of the
            paper: the attention weights are the raw scores until `training_callbacks`'
            `LinearStart` puts the softmaxes back, once the loss stops falling).
        dtype: None (Keras' global policy), a Keras dtype policy name, or a
            `keras.DTypePolicy`: every layer's policy. The softmaxes and logits are float32.

    Example:
    >>> backbone = zoo.models.MemoryNetworkBackbone(60, answer_token_ids=[7, 8, 9], hops=3)
    >>> backbone.call_with_attention(inputs)["hop_attention"]  # [batch, hops, sentences]
    """

    def __init__(
        self,
        vocabulary_size,
        answer_token_ids,
        embedding_dim=20,
        hops=3,
        max_sentences=50,
        weight_tying="adjacent",
        linear_start=False,
        dtype=None,
        **kwargs,
    ):
        for name, value in (
            ("vocabulary_size", vocabulary_size),
            ("embedding_dim", embedding_dim),
            ("hops", hops),
            ("max_sentences", max_sentences),
        ):
            checks.positive_int(value, name)
        checks.one_of(weight_tying, WEIGHT_TYING, "weight_tying")
        answer_token_ids = [int(token_id) for token_id in answer_token_ids]
        if not answer_token_ids or not all(0 <= i < vocabulary_size for i in answer_token_ids):
            raise ValueError(
                "`answer_token_ids` must be a non-empty list of vocabulary ids, got "
                f"{answer_token_ids!r:.80}."
            )
        # === Config ===
        self.vocabulary_size = vocabulary_size
        self.answer_token_ids = answer_token_ids
        self.embedding_dim = embedding_dim
        self.hops = hops
        self.max_sentences = max_sentences
        self.weight_tying = weight_tying
        self.linear_start = bool(linear_start)

        # === Layers ===
        # Normal(0, 0.1), as the paper initialises every weight.
        def embedding(rows, name):
            return keras_hub.layers.ReversibleEmbedding(
                rows,
                embedding_dim,
                embeddings_initializer=keras.initializers.RandomNormal(stddev=0.1),
                dtype=dtype,
                name=name,
            )

        if weight_tying == "adjacent":
            # Hop k reads memories with matrix k and outputs with matrix k + 1.
            self.word_embeddings = [
                embedding(vocabulary_size, f"words_{k}") for k in range(hops + 1)
            ]
            self.time_embeddings = [embedding(max_sentences, f"time_{k}") for k in range(hops + 1)]
            self.hop_update = None
            self.answer_projection = None
        else:
            # The question's, the memories' and the outputs' embeddings, shared by every hop.
            self.word_embeddings = [embedding(vocabulary_size, f"words_{k}") for k in range(3)]
            self.time_embeddings = [embedding(max_sentences, f"time_{k}") for k in range(2)]
            normal = keras.initializers.RandomNormal(stddev=0.1)
            self.hop_update = keras.layers.Dense(
                embedding_dim, use_bias=False, kernel_initializer=normal, dtype=dtype, name="H"
            )
            self.answer_projection = keras.layers.Dense(
                len(answer_token_ids),
                use_bias=False,
                kernel_initializer=normal,
                dtype=dtype,
                name="answer_projection",
            )

        self.hop_attention = HopAttention(linear=linear_start, dtype=dtype, name="hop_attention")

        # === Functional Model ===
        inputs = {
            "story_token_ids": keras.Input((None, None), dtype="int32", name="story_token_ids"),
            "story_padding_mask": keras.Input(
                (None, None), dtype="bool", name="story_padding_mask"
            ),
            "question_token_ids": keras.Input((None,), dtype="int32", name="question_token_ids"),
            "question_padding_mask": keras.Input(
                (None,), dtype="bool", name="question_padding_mask"
            ),
        }
        logits, _ = self._answer(inputs)
        super().__init__(inputs=inputs, outputs=logits, dtype=dtype, **kwargs)

    def _hop_embeddings(self, hop):
        """(memory words, memory times, output words, output times) of hop `hop` (0-based)."""
        if self.weight_tying == "adjacent":
            return (
                self.word_embeddings[hop],
                self.time_embeddings[hop],
                self.word_embeddings[hop + 1],
                self.time_embeddings[hop + 1],
            )
        return (
            self.word_embeddings[1],
            self.time_embeddings[0],
            self.word_embeddings[2],
            self.time_embeddings[1],
        )

    def _answer(self, inputs):
        """(logits [batch, answers], hop attention [batch, hops, sentences])."""
        story_mask = inputs["story_padding_mask"]
        sentence_mask = ops.any(story_mask, axis=-1)
        recency = _recency(sentence_mask, self.max_sentences)
        state = _encode(
            self.word_embeddings[0],
            inputs["question_token_ids"],
            inputs["question_padding_mask"],
        )
        attention = []
        for hop in range(self.hops):
            memory_words, memory_times, output_words, output_times = self._hop_embeddings(hop)
            memories = _encode(memory_words, inputs["story_token_ids"], story_mask)
            memories = memories + memory_times(recency)
            outputs = _encode(output_words, inputs["story_token_ids"], story_mask)
            outputs = outputs + output_times(recency)
            scores = ops.einsum("bsd,bd->bs", memories, state)
            weights = self.hop_attention(scores, sentence_mask)
            read = ops.einsum("bs,bsd->bd", ops.cast(weights, outputs.dtype), outputs)
            state = read + (state if self.hop_update is None else self.hop_update(state))
            attention.append(weights)
        if self.answer_projection is None:
            # Through the layer, not its variable: the functional graph must read the
            # embedding when it runs, not hold the values it had when it was built.
            vocabulary_logits = self.word_embeddings[-1](state, reverse=True)
            logits = ops.take(vocabulary_logits, self.answer_token_ids, axis=-1)
        else:
            logits = self.answer_projection(state)
        # float32 whatever the policy: the loss reads them.
        return ops.cast(logits, "float32"), ops.stack(attention, axis=1)

    def call_with_attention(self, inputs):
        """{"logits": [batch, answers], "hop_attention": float32 [batch, hops, sentences]}:
        each hop's weights over the story's sentences (zero at padding)."""
        logits, attention = self._answer(inputs)
        return {"logits": logits, "hop_attention": attention}

    def training_callbacks(self):
        """The callbacks `QuestionAnswerer.fit` adds: `LinearStart` while the hops are
        linear."""
        return [LinearStart(self.hop_attention)] if self.hop_attention.is_linear() else []

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "answer_token_ids": self.answer_token_ids,
            "embedding_dim": self.embedding_dim,
            "hops": self.hops,
            "max_sentences": self.max_sentences,
            "weight_tying": self.weight_tying,
            "linear_start": self.linear_start,
        }


@keras.saving.register_keras_serializable(package="zoo")
class HopAttention(keras.layers.Layer):
    """A hop's attention weights over the sentences: the masked softmax of the scores, or,
    while linear, the scores themselves (zero at padding).

    Whether it is linear is a non-trainable variable, not a Python flag, so that the model's
    saved weights, its traced functions and its export all read the phase training left.

    Args:
        linear: bool, whether to start linear.
    """

    def __init__(self, linear=False, **kwargs):
        super().__init__(**kwargs)
        self.linear = bool(linear)
        self.linear_phase = self.add_weight(
            shape=(),
            initializer="ones" if linear else "zeros",
            trainable=False,
            dtype="float32",
            name="linear_phase",
        )

    def call(self, scores, mask):
        linear = ops.where(mask, ops.cast(scores, "float32"), 0.0)
        return ops.where(self.linear_phase > 0.5, linear, masked_softmax(scores, mask))

    def is_linear(self):
        return bool(self.linear_phase.numpy() > 0.5)

    def end_linear_phase(self):
        self.linear_phase.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "linear": self.linear}


class LinearStart(keras.callbacks.Callback):
    """Ends a `HopAttention`'s linear phase once the validation loss (the training loss
    without validation data) has not fallen for `patience` epochs.

    Args:
        hop_attention: the `HopAttention` layer.
        patience: int, epochs without a lower loss before the softmaxes go back in.
    """

    def __init__(self, hop_attention, patience=2):
        super().__init__()
        self.hop_attention, self.patience = hop_attention, patience
        self.best, self.waited = float("inf"), 0

    def on_epoch_end(self, epoch, logs=None):
        if not self.hop_attention.is_linear():
            return
        logs = logs or {}
        loss = logs.get("val_loss", logs.get("loss"))
        if loss < self.best:
            self.best, self.waited = loss, 0
            return
        self.waited += 1
        if self.waited >= self.patience:
            self.hop_attention.end_linear_phase()


def position_encoding(padding_mask, embedding_dim):
    """The paper's l_kj = (1 - j/J) - (k/d)(1 - 2j/J) for word j (1-based) of the J real
    words of each sentence and dimension k (1-based) of d: float [..., words, d], zero at
    padding."""
    real = ops.cast(padding_mask, "float32")
    j = ops.cumsum(real, axis=-1)
    words = ops.maximum(ops.sum(real, axis=-1, keepdims=True), 1.0)
    k = ops.arange(1, embedding_dim + 1, dtype="float32") / embedding_dim
    j, words = ops.expand_dims(j, -1), ops.expand_dims(words, -1)
    return ((1 - j / words) - k * (1 - 2 * j / words)) * ops.expand_dims(real, -1)


def _encode(embedding, token_ids, padding_mask):
    """Position-weighted sums of the word embeddings over the last axis of `token_ids`."""
    embedded = embedding(token_ids)
    weights = position_encoding(padding_mask, embedded.shape[-1])
    return ops.sum(embedded * ops.cast(weights, embedded.dtype), axis=-2)


def _recency(sentence_mask, max_sentences):
    """How many real sentences follow each one (the story's last is 0), capped at
    `max_sentences - 1`: int32 [batch, sentences] (0 at padding)."""
    real = ops.cast(sentence_mask, "int32")
    later = ops.sum(real, axis=-1, keepdims=True) - ops.cumsum(real, axis=-1)
    return ops.minimum(later * real, max_sentences - 1)
