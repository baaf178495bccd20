"""The decode functions shared by the attention-only encoder-decoders (Transformer, T5)."""

from keras import ops

from zoo import checks
from zoo.decoding.attention_buffer import record_attention, with_attention_buffer
from zoo.models.backbone import Backbone
from zoo.models.inputs import translation_inputs


class CachedEncoderDecoder(Backbone):
    """Base of the backbones whose decoder layers attend with fixed-size key/value caches.

    Subclasses build their layers, hand `_teacher_forced_graph()` to `keras.Model`'s
    constructor, and provide:
    `_source(inputs)` -> (the source, its padding mask or None) from the named inputs (the
    translation inputs by default),
    `decoder_layers` (each with `head_dim`, `cross_attention_cache(encoder_outputs)`, and a
    call that takes a self-attention cache and `cache_index` for one token), `decoder_norm`,
    `num_heads`, and the methods
    `_run_encoder(source, padding_mask, training)` -> encoder outputs;
    `_run_decoder(token_ids, padding_mask, encoder_outputs, encoder_padding_mask, training)`
    -> (decoder outputs, the last layer's cross-attention);
    `_step_inputs(token_ids, index, max_length)` -> (the embedded tokens [batch, 1, hidden],
    keyword arguments for every decoder layer's call);
    `_logits(decoder_outputs)` -> next-token logits, float32 whatever the dtype policy (the
    loss and the samplers read them).
    """

    has_attention = True

    def _teacher_forced_graph(self, inputs=None):
        """The functional graph's `(inputs, logits)`: the teacher-forced pass over the named
        inputs (by default the translation inputs), for the subclass's `__init__` to hand to
        `keras.Model`."""
        inputs = inputs or translation_inputs()
        source, source_padding_mask = self._source(inputs)
        decoder_outputs, _ = self._run_decoder(
            inputs["decoder_token_ids"],
            inputs["decoder_padding_mask"],
            self._run_encoder(source, source_padding_mask),
            source_padding_mask,
        )
        return inputs, self._logits(decoder_outputs)

    def _source(self, inputs):
        return inputs["encoder_token_ids"], inputs["encoder_padding_mask"]

    def attention_weights(self, inputs):
        """The last decoder layer's cross-attention, averaged over heads, when the decoder
        reads the given (teacher-forced) inputs: float [batch, decoder_length, source_length]."""
        source, source_padding_mask = self._source(inputs)
        _, weights = self._run_decoder(
            inputs["decoder_token_ids"],
            inputs["decoder_padding_mask"],
            self._run_encoder(source, source_padding_mask, training=False),
            source_padding_mask,
            training=False,
        )
        return weights

    def encode(self, source, padding_mask, max_length, return_attention=False):
        """Runs the encoder; returns the decoder's initial cache for `max_length` steps.

        The cache holds each decoder layer's cross-attention keys and values, computed here
        once, the source's padding mask (unless None: every position is attended to), and
        each layer's zeroed self-attention cache: keys and values, [batch, heads,
        max_length, head_dim] each (`zoo.layers.head_major_attention`), in the compute dtype
        as the keys and values written into it.
        With `return_attention`, also a zeroed float32 "attention_weights" buffer
        [batch, source_length, max_length] that `step` fills column by column; the source
        length is the encoder outputs' (grid cells for an image).
        """
        encoder_outputs = self._run_encoder(source, padding_mask, training=False)
        batch_size, source_length = ops.shape(encoder_outputs)[0], ops.shape(encoder_outputs)[1]
        empty = ops.zeros(
            (batch_size, self.num_heads, max_length, self.decoder_layers[0].head_dim),
            self.compute_dtype,
        )
        cache = {
            "self_attention": [(empty, empty)] * len(self.decoder_layers),
            "cross_attention": [
                layer.cross_attention_cache(encoder_outputs) for layer in self.decoder_layers
            ],
        }
        if padding_mask is not None:
            cache["encoder_padding_mask"] = padding_mask
        if return_attention:
            cache = with_attention_buffer(cache, batch_size, source_length, max_length)
        return cache

    def step(self, token_ids, cache, index):
        """Feeds one token [batch] at position `index`; returns (float32 logits, cache)."""
        max_length = ops.shape(cache["self_attention"][0][0])[2]
        x, layer_inputs = self._step_inputs(ops.expand_dims(token_ids, 1), index, max_length)
        self_attention = []
        for layer, layer_self_attention, layer_cross_attention in zip(
            self.decoder_layers, cache["self_attention"], cache["cross_attention"], strict=True
        ):
            x, weights, layer_self_attention = layer(
                x,
                encoder_padding_mask=cache.get("encoder_padding_mask"),
                self_attention_cache=layer_self_attention,
                cross_attention_cache=layer_cross_attention,
                cache_index=index,
                training=False,
                **layer_inputs,
            )
            self_attention.append(layer_self_attention)
        cache = record_attention({**cache, "self_attention": self_attention}, index, weights[:, 0])
        return self._logits(self.decoder_norm(x))[:, 0], cache


def with_stack_depths(num_layers, backbone_options):
    """A builder's `backbone_options` with `num_encoder_layers` and `num_decoder_layers`
    set to its `num_layers` unless given (None counts as not given)."""
    checks.positive_int(num_layers, "num_layers")
    depths = {"num_encoder_layers": num_layers, "num_decoder_layers": num_layers}
    for name in depths:
        if backbone_options.get(name) is not None:
            depths[name] = backbone_options[name]
    return {**backbone_options, **depths}
