import keras

from zoo.layers.recurrent_stack import CELLS, RecurrentStack


@keras.saving.register_keras_serializable(package="zoo")
class RecurrentEncoder(RecurrentStack):
    """Stacked (optionally bidirectional) LSTM/GRU layers over embedded source tokens.

    Args:
        bidirectional: bool, whether each layer reads the sequence both ways; each direction
            then has `units // 2` cells, so the concatenated states still have size `units`.
        **kwargs: see `RecurrentStack` (cell, units, num_layers, residual, layer_norm,
            dropout).

    Call args:
        inputs: float [batch, length, dim], the embedded tokens.
        padding_mask: bool [batch, length], True at real tokens.

    Returns:
        (outputs, final_states): the last layer's outputs [batch, length, units], and per
        layer its final states, `[h]` (GRU) or `[h, c]` (LSTM), each [batch, units].

    Example:
    >>> encoder = zoo.layers.RecurrentEncoder("gru", units=256, num_layers=2)
    >>> outputs, final_states = encoder(embedded, padding_mask=mask)
    """

    def __init__(self, cell="lstm", units=512, num_layers=1, bidirectional=False, **kwargs):
        super().__init__(cell, units, num_layers, **kwargs)
        if bidirectional and units % 2:
            raise ValueError(
                f"`units` must be even with `bidirectional=True` (each direction gets half), "
                f"got {units!r}."
            )
        self.bidirectional = bidirectional
        self.rnn_layers = [
            _rnn_layer(CELLS[cell], units, bidirectional, self.dtype_policy, name=f"{cell}_{i}")
            for i in range(num_layers)
        ]

    def build(self, inputs_shape, padding_mask_shape=None):
        dim = inputs_shape[-1]
        for layer in self.rnn_layers:
            layer.build((None, None, dim))
            dim = self.units
        self.build_norms()

    def call(self, inputs, padding_mask=None, training=None):
        x = inputs
        final_states = []
        for i, layer in enumerate(self.rnn_layers):
            outputs, *states = layer(x, mask=padding_mask, training=training)
            final_states.append(_merge_directions(states) if self.bidirectional else states)
            x = self.between_layers(i, x, outputs, training)
        return x, final_states

    def get_config(self):
        return {**super().get_config(), "bidirectional": self.bidirectional}


def _rnn_layer(rnn, units, bidirectional, dtype, name):
    if not bidirectional:
        return rnn(units, return_sequences=True, return_state=True, dtype=dtype, name=name)
    return keras.layers.Bidirectional(
        rnn(units // 2, return_sequences=True, return_state=True, dtype=dtype),
        dtype=dtype,
        name=name,
    )


def _merge_directions(states):
    """[fw_h, (fw_c,) bw_h, (bw_c)] -> [h, (c)], each the two directions concatenated."""
    half = len(states) // 2
    return [
        keras.ops.concatenate([forward, backward], axis=-1)
        for forward, backward in zip(states[:half], states[half:], strict=True)
    ]
