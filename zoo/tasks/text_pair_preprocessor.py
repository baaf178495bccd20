"""TextPairPreprocessor: from raw text pairs to what a `Seq2Seq` backbone reads, and back."""

import numpy as np
import tensorflow as tf

from zoo import checks
from zoo.metrics import corpus_bleu
from zoo.tasks.attention_maps import attention_maps
from zoo.tasks.inputs import as_text_list, as_text_pairs, check_text_pair_dataset
from zoo.training.batching import DEFAULT_BUCKET_WIDTH, LengthBuckets, check_batching, reshuffled

# Source lengths are padded up to a multiple of this before the compiled decoding loop,
# so XLA compiles once per bucket rather than once per distinct length.
SOURCE_LENGTH_BUCKET = 8


class TextPairPreprocessor:
    """The source and target sides of a `Seq2Seq`: checks what users pass, tokenizes pairs
    once for training and batches them by length, packs teacher-forcing batches, and turns
    sources into the generation graph's encoder inputs.

    It is the task's, made from the task's vectorizers (which `save` stores); a task over
    another kind of source (`ImageCaptionPreprocessor`) overrides its source side.

    Args:
        source_vectorizer: a `zoo.text.Vectorizer` for the source texts.
        target_vectorizer: one for the target texts (may be the same object).
    """

    def __init__(self, source_vectorizer, target_vectorizer):
        self.source_vectorizer = source_vectorizer
        self.target_vectorizer = target_vectorizer

    # === Teacher forcing ===
    def tokenize_pairs(self, sources, target_texts):
        """A batch of sources and tf.string [batch] targets -> what the training data stores:
        `(tokenize_sources(sources), ragged target token ids without start/end tokens)`."""
        return self.tokenize_sources(sources), self.target_vectorizer.tokenize(target_texts)

    def teacher_forcing(self, source_tokens, target_token_ids):
        """Tokenized pairs -> `(x, y, sample_weight)`: the decoder reads the target shifted
        right and predicts it shifted left; padding gets zero weight."""
        target_token_ids, target_padding_mask = self.target_vectorizer.pack(target_token_ids)
        x = {
            **self.encoder_inputs(source_tokens),
            "decoder_token_ids": target_token_ids[:, :-1],
            "decoder_padding_mask": target_padding_mask[:, :-1],
        }
        return x, target_token_ids[:, 1:], tf.cast(target_padding_mask[:, 1:], tf.float32)

    def preprocess(self, source_texts, target_texts):
        """Vectorizes a batch of string pairs into teacher-forcing `(x, y, sample_weight)`."""
        return self.teacher_forcing(*self.tokenize_pairs(source_texts, target_texts))

    # === Batches ===
    def length_buckets(self, batch_size, batch_tokens, length_bucket_width=DEFAULT_BUCKET_WIDTH):
        if length_bucket_width is not None:
            checks.positive_int(length_bucket_width, "length_bucket_width")
        return LengthBuckets(
            self.max_training_length,
            *check_batching(batch_size, batch_tokens),
            width=length_bucket_width,
        )

    def batches(self, x, y, x_name, y_name, buckets, shuffle=False):
        """Teacher-forcing batches of pairs of similar length (see `Seq2Seq.training_dataset`):
        of parallel lists, or of a tf.data.Dataset of pairs (then `y` is None)."""
        if isinstance(x, tf.data.Dataset):
            if y is not None:
                raise ValueError(
                    f"`{y_name}` must be None when `{x_name}` is a tf.data.Dataset of pairs."
                )
            if check_text_pair_dataset(x, x_name):  # the user's batches, as they are
                batches = x.map(self.preprocess, num_parallel_calls=tf.data.AUTOTUNE)
                return batches.prefetch(tf.data.AUTOTUNE)
            pairs = x.batch(1024).map(self.tokenize_pairs).unbatch()
            if int(x.cardinality()) >= 0:
                count = self.count_batches(pairs, buckets, x_name)
            else:  # an endless (or uncountable) stream: no pair may be longer than this
                count = None
                buckets.check_fits(self.max_training_length)
        else:
            pairs = self.training_pairs(x, y, x_name, y_name, shuffle)
            count = self.count_batches(pairs, buckets, x_name)
        batches = buckets.batch(pairs, self.training_length)
        batches = batches.map(self.teacher_forcing)
        if count is not None:
            # Told, Keras shows the steps of the first epoch too (tf.data cannot count
            # through group_by_window); a miscount would raise when iterated.
            batches = batches.apply(tf.data.experimental.assert_cardinality(count))
        return batches.prefetch(tf.data.AUTOTUNE)

    def count_batches(self, pairs, buckets, name):
        """Checks that the longest of the tokenized `pairs` fits a batch; returns how many
        batches `buckets` make of them."""
        lengths = [np.zeros([0], np.int32), *pairs.map(self.training_length).batch(4096)]
        lengths = np.concatenate(lengths)
        if not lengths.size:
            raise ValueError(f"`{name}` is an empty dataset: it yielded no (source, target) pairs.")
        buckets.check_fits(lengths.max())
        return buckets.count_batches(lengths)

    # === Sources ===
    def check_sources(self, x, name="x"):
        """Checks sources given to a public verb; returns `(tensor batch, is_single)`."""
        texts, is_single = as_text_list(x, name)
        return tf.constant(texts), is_single

    def training_pairs(self, x, y, x_name="x", y_name="y", shuffle=False):
        """Checks parallel data; returns a tf.data.Dataset of single pairs as the training
        data stores them (`tokenize_pairs`), which `fit` batches, reshuffled every time it is
        iterated when `shuffle`."""
        sources, targets = as_text_pairs(x, y, x_name, y_name)
        # Tokenizing the whole corpus once, up front, is ~30x cheaper than in every batch.
        pairs = tf.data.Dataset.from_tensor_slices(
            self.tokenize_pairs(tf.constant(sources), tf.constant(targets))
        )
        return reshuffled(pairs) if shuffle else pairs

    def training_length(self, source_tokens, target_token_ids):
        """One tokenized pair -> int32, the padded length of its longer side as
        `teacher_forcing` packs it: what groups it with pairs of similar length."""
        source_length = self.source_vectorizer.sequence_length - 1  # + the end token
        target_length = self.target_vectorizer.sequence_length - 2  # + start or end
        return 1 + tf.maximum(
            tf.minimum(tf.size(source_tokens), source_length),
            tf.minimum(tf.size(target_token_ids), target_length),
        )

    @property
    def max_training_length(self):
        """The most that `training_length` can return."""
        return max(
            self.source_vectorizer.sequence_length, self.target_vectorizer.sequence_length - 1
        )

    def tokenize_sources(self, sources):
        """tf.string [batch] -> ragged token ids without start/end tokens, what the training
        data stores (once, before the epochs) and `encoder_inputs` packs."""
        return self.source_vectorizer.tokenize(sources)

    def encoder_inputs(self, source_tokens):
        """A batch of `tokenize_sources` output -> the backbone's named source inputs."""
        token_ids, padding_mask = self.source_vectorizer.pack(source_tokens, add_start=False)
        return {"encoder_token_ids": token_ids, "encoder_padding_mask": padding_mask}

    def generation_inputs(self, sources):
        """tf.string [batch], in the generation graph -> `(source, padding_mask, answered)`:
        the inputs of `generate` (and `backbone.encode`), and bool [batch], which sources can
        be answered, or None for all (any text can)."""
        inputs = self.encoder_inputs(self.tokenize_sources(sources))
        source, padding_mask = _pad_length_to_multiple(
            inputs["encoder_token_ids"], inputs["encoder_padding_mask"], SOURCE_LENGTH_BUCKET
        )
        return source, padding_mask, None

    def source_labels(self, source):
        """What labels the attention columns of a `generation_inputs` source, as extra
        generator outputs: here "source_tokens" [batch, source_length]."""
        return {"source_tokens": self.source_vectorizer.id_to_token(source)}

    def attention_maps(self, result):
        """Per input, the attention that `predict(..., return_attention=True)` returns, from
        a batch of the attention generator's NumPy outputs."""
        return attention_maps(result, self.source_vectorizer, self.target_vectorizer)

    def generation_metrics(self, outputs, references):
        """Metrics of decoded outputs against their references, for `evaluate`."""
        return {"bleu": corpus_bleu(outputs, references)}

    @property
    def vectorizers(self):
        """The vectorizers whose tokenizer resources an export must hold."""
        return {self.source_vectorizer, self.target_vectorizer}

    def evaluation_pairs(self, x, y):
        """`evaluate`'s data, checked: `(sources, references)`."""
        if not isinstance(x, tf.data.Dataset):
            return as_text_pairs(x, y)
        if y is not None:
            raise ValueError("`y` must be None when `x` is a tf.data.Dataset of pairs.")
        if check_text_pair_dataset(x, "x"):
            x = x.unbatch()
        pairs = [(s.decode("utf-8"), t.decode("utf-8")) for s, t in x.as_numpy_iterator()]
        if not pairs:
            raise ValueError("`x` is an empty dataset: it yielded no (source, target) pairs.")
        sources, targets = zip(*pairs, strict=True)
        return list(sources), list(targets)


def _pad_length_to_multiple(token_ids, padding_mask, multiple):
    length = tf.shape(token_ids)[1]
    padding = [[0, 0], [0, -length % multiple]]
    return tf.pad(token_ids, padding), tf.pad(padding_mask, padding)
