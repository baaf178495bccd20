"""Vectorizer: what every vectorizer shares, whatever its tokenizer."""

import tensorflow as tf

from zoo import checks


class Vectorizer:
    """Base class of the vectorizers: packs token ids for a model and reads them back.

    A subclass tokenizes and detokenizes (`tokenize`, `detokenize`, `id_to_token`) and
    names its reserved ids (`pad_token_id`, `start_token_id`, `end_token_id`); this class
    turns ragged token ids into the padded batches a model reads, and picks out the ids
    that `detokenize` should read. The start and pad tokens may be one token (T5 starts
    decoding from its pad token): masks come from the ragged structure, not the ids.

    Args:
        sequence_length: int, the most token ids per text, start and end tokens included.
            Longer texts are truncated: their first `sequence_length - 2` tokens are kept.
    """

    # A token that begins every text's ids (BART's "<s>"), which pre-training keeps in place;
    # None where texts begin with their first piece.
    begin_token_id = None

    def __init__(self, sequence_length=64):
        checks.int_at_least(sequence_length, "sequence_length", 3, "start, one token, end")
        self.sequence_length = sequence_length

    def __call__(self, texts, add_start=True, add_end=True):
        """Vectorizes a batch of texts for a model: `pack(tokenize(texts))`.

        Args:
            texts: tf.string tensor [batch].
            add_start: bool, whether to begin each sequence with the start token.
            add_end: bool, whether to end each sequence with the end token.

        Returns:
            (token_ids, padding_mask): int32 and bool tensors [batch, length], padded to the
            longest sequence of the batch, `length <= sequence_length`.
        """
        return self.pack(self.tokenize(texts), add_start, add_end)

    def pack(self, token_ids, add_start=True, add_end=True):
        """Truncates ragged token ids, adds start/end tokens and pads to the batch's longest.

        Unlike keras_hub's StartEndPacker, which pads every batch to `sequence_length`,
        this pads only as far as the batch needs: recurrent layers pay for every step.
        """
        num_reserved = int(add_start) + int(add_end)
        kept = self.sequence_length - num_reserved
        # Dense ops on the padded ids: ragged slicing and concatenation expand into many
        # small ops, which tf.data instantiates anew for every epoch's iterator.
        lengths = tf.minimum(tf.cast(token_ids.row_lengths(), tf.int32), kept) + num_reserved
        pieces = [token_ids.to_tensor(self.pad_token_id)[:, :kept]]
        batch_size = tf.shape(pieces[0])[0]
        if add_start:
            pieces.insert(0, tf.fill([batch_size, 1], self.start_token_id))
        if add_end:  # a column of room, the end token written after each sequence below
            pieces.append(tf.fill([batch_size, 1], self.pad_token_id))
        token_ids = tf.concat(pieces, axis=1)
        positions = tf.range(tf.shape(token_ids)[1])
        if add_end:
            is_end = positions == tf.expand_dims(lengths - 1, 1)
            token_ids = tf.where(is_end, self.end_token_id, token_ids)
        return token_ids, positions < tf.expand_dims(lengths, 1)

    def readable_token_ids(self, token_ids):
        """int [batch, length] -> ragged int32: the ids before the first end token, without
        pad and start tokens; what `detokenize` turns into text."""
        token_ids = tf.cast(token_ids, tf.int32)
        after_end = tf.cumsum(tf.cast(token_ids == self.end_token_id, tf.int32), axis=1) > 0
        keep = ~after_end & (token_ids != self.pad_token_id) & (token_ids != self.start_token_id)
        return tf.ragged.boolean_mask(token_ids, keep)

    @property
    def resources(self):
        """The TensorFlow resources the tokenizer ops read (list), which an exported
        SavedModel must track; none unless a subclass says otherwise."""
        return []

    @property
    def pad_token(self):
        """The pad token as `id_to_token` shows it (str)."""
        return self.id_to_token(self.pad_token_id).numpy().decode()

    @property
    def end_token(self):
        """The end token as `id_to_token` shows it (str)."""
        return self.id_to_token(self.end_token_id).numpy().decode()
