"""The step function shared by the backbones with a recurrent decoder."""

from keras import ops

from zoo.decoding.attention_buffer import record_attention
from zoo.models.backbone import Backbone


class RecurrentDecoding(Backbone):
    """Base of the backbones whose decoder is a `zoo.layers.RecurrentDecoder`.

    Subclasses build the layers and the functional (teacher-forced) graph, and provide
    `decoder_embedding`, `decoder`, `output_projection` and an `encode` whose cache holds
    "decoder_state" (from `decoder.initial_state`, in the compute dtype), the entries of
    `attention_cache` when the decoder attends, and optionally a zeroed float32
    "attention_weights" buffer [batch, source_length, max_length].
    """

    def attention_cache(self, encoder_outputs, encoder_padding_mask=None):
        """The cache entries `step` attends with: the "encoder_outputs", their attention
        keys projected once for every step ("encoder_keys") and, if given, their
        "encoder_padding_mask"."""
        cache = {
            "encoder_outputs": encoder_outputs,
            "encoder_keys": self.decoder.project_keys(encoder_outputs),
        }
        if encoder_padding_mask is not None:
            cache["encoder_padding_mask"] = encoder_padding_mask
        return cache

    def step(self, token_ids, cache, index):
        """Feeds one token [batch] through the decoder; returns (float32 logits, cache)."""
        outputs, decoder_state, weights = self.decoder.step(
            self.decoder_embedding(token_ids),
            cache["decoder_state"],
            cache.get("encoder_outputs"),
            cache.get("encoder_padding_mask"),
            index,
            encoder_keys=cache.get("encoder_keys"),
        )
        cache = record_attention({**cache, "decoder_state": decoder_state}, index, weights)
        return ops.cast(self.output_projection(outputs), "float32"), cache
