import keras
import tensorflow as tf
from keras import ops

from zoo.layers.hard_attention import HardAttention
from zoo.layers.luong_local_attention import LuongLocalAttention
from zoo.layers.recurrent_stack import CELLS, RecurrentStack


@keras.saving.register_keras_serializable(package="zoo")
class RecurrentDecoder(RecurrentStack):
    """Stacked LSTM/GRU layers over embedded target tokens, optionally attending to a source.

    Without attention this is the decoder of Sutskever et al. (2014): its outputs are the
    last layer's. With an attention layer (any `zoo.layers.Attention`) each output is the
    attentional state tanh(W [context; h]) of Luong et al. (2015), where the context is the
    attention-weighted sum of `encoder_outputs`. The query is:
    - `attend_previous_state=False` (Luong): the current top-layer output h_t;
    - `attend_previous_state=True` (Bahdanau et al. 2015): the previous top-layer state
      s_{t-1}, and the context also enters the first layer's input.
    `input_feeding=True` feeds the previous attentional state into the first layer's input
    (Luong et al. 2015, section 3.3). `context_gate=True` scales the Bahdanau-style context
    by a gating scalar sigmoid(w . s_{t-1} + b) before it is used (Xu et al. 2015,
    section 4.2.1), so the decoder can learn how much to look at the source at each step.

    With a `zoo.layers.HardAttention`, each position reads one source position: in training
    `call` draws them (`HardAttention.draw`), and `step` takes a position's `draws`; at
    inference both read by the attention's inference rule.

    Teacher-forced `call` and one-token `step` use the same layers, so cached decoding equals
    the training graph. When nothing feeds back into the recurrence (no attention, or Luong
    without input feeding), `call` runs the whole sequence through each Keras RNN layer and
    attends once for all positions; otherwise it scans `step` over the positions. Either way
    the attention keys of the encoder outputs are projected once (`project_keys`), not at
    every position; a decoding loop keeps them in its cache and passes them to every `step`.

    Args:
        attention: a `zoo.layers.Attention` layer, or None.
        attend_previous_state: bool, Bahdanau-style query (see above).
        input_feeding: bool, feed the previous attentional state back in (needs attention).
        context_gate: bool, gate the context by a scalar of the previous state (needs
            `attend_previous_state`).
        **kwargs: see `RecurrentStack` (cell, units, num_layers, residual, layer_norm,
            dropout).

    Call args:
        inputs: float [batch, length, dim], the embedded target tokens (shifted right).
        initial_states: per layer `[h]` or `[h, c]`, each [batch, units].
        encoder_outputs: float [batch, source_length, value_dim], attended to.
        encoder_padding_mask: bool [batch, source_length], True at real source tokens.
        padding_mask: bool [batch, length], True at real target tokens.
        return_attention: bool, whether to also return the weights [batch, length,
            source_length] and, with a `HardAttention`, the position each step read
            ([batch, length] int32, -1 for the expectation: `HardAttention.read_positions`).

    Example:
    >>> decoder = zoo.layers.RecurrentDecoder(
    ...     "lstm", units=256, attention=zoo.layers.BahdanauAttention(256),
    ...     attend_previous_state=True)
    >>> outputs = decoder(embedded, encoder_states, encoder_outputs, encoder_padding_mask)
    """

    def __init__(
        self,
        cell="lstm",
        units=512,
        num_layers=1,
        attention=None,
        attend_previous_state=False,
        input_feeding=False,
        context_gate=False,
        **kwargs,
    ):
        super().__init__(cell, units, num_layers, **kwargs)
        if isinstance(attention, dict):
            attention = keras.saving.deserialize_keras_object(attention)
        if attention is None and (attend_previous_state or input_feeding):
            raise ValueError(
                "`attend_previous_state` and `input_feeding` need an `attention` layer, "
                "got attention=None."
            )
        if context_gate and not attend_previous_state:
            raise ValueError(
                "`context_gate` gates the context of the previous state: it needs "
                "`attend_previous_state=True`."
            )
        self.attention = attention
        self.attend_previous_state = attend_previous_state
        self.input_feeding = input_feeding
        self.context_gate = (
            keras.layers.Dense(
                1, activation="sigmoid", dtype=self.dtype_policy, name="context_gate"
            )
            if context_gate
            else None
        )
        self.rnn_layers = [
            CELLS[cell](
                units,
                return_sequences=True,
                return_state=True,
                dtype=self.dtype_policy,
                name=f"{cell}_{i}",
            )
            for i in range(num_layers)
        ]
        self.attentional_projection = (
            None
            if attention is None
            else keras.layers.Dense(
                units,
                activation="tanh",
                use_bias=False,
                dtype=self.dtype_policy,
                name="attentional_projection",
            )
        )

    @property
    def feeds_back(self):
        """Whether attention enters the recurrence, so training must go step by step."""
        return self.attend_previous_state or self.input_feeding

    def build(
        self,
        inputs_shape,
        initial_states_shape=None,
        encoder_outputs_shape=None,
        encoder_padding_mask_shape=None,
        padding_mask_shape=None,
    ):
        dim = inputs_shape[-1]
        if self.attend_previous_state:
            dim += encoder_outputs_shape[-1]
        if self.input_feeding:
            dim += self.units
        for layer in self.rnn_layers:
            layer.build((None, None, dim))
            dim = self.units
        self.build_norms()
        if self.attention is not None:
            self.attention.build((None, None, self.units), encoder_outputs_shape)
            self.attentional_projection.build((None, encoder_outputs_shape[-1] + self.units))
        if self.context_gate is not None:
            self.context_gate.build((None, self.units))

    def call(
        self,
        inputs,
        initial_states,
        encoder_outputs=None,
        encoder_padding_mask=None,
        padding_mask=None,
        training=None,
        return_attention=False,
    ):
        encoder_keys = None if self.attention is None else self.project_keys(encoder_outputs)
        draws = None
        if training and isinstance(self.attention, HardAttention):
            draws = self.attention.draw(*ops.shape(inputs)[:2])
        if self.feeds_back:
            outputs, weights = self._scan(
                inputs,
                initial_states,
                encoder_outputs,
                encoder_keys,
                encoder_padding_mask,
                draws,
                training,
            )
        else:
            x = inputs
            for i, layer in enumerate(self.rnn_layers):
                layer_outputs, *_ = layer(
                    x, initial_state=initial_states[i], mask=padding_mask, training=training
                )
                x = self.between_layers(i, x, layer_outputs, training)
            if self.attention is None:
                return x
            outputs, weights = self._attentional(
                x, encoder_outputs, encoder_keys, encoder_padding_mask, 0, draws, training
            )
        if not return_attention:
            return outputs
        if isinstance(self.attention, HardAttention):
            return outputs, weights, self.attention.read_positions(weights, draws)
        return outputs, weights

    def project_keys(self, encoder_outputs):
        """The attention keys of `encoder_outputs` [batch, source_length, value_dim], for
        `step`'s `encoder_keys`: they depend on the source alone."""
        return self.attention.project_keys(encoder_outputs)

    def initial_state(self, encoder_states):
        """The decoder state that `step` carries, from the encoder's final states."""
        state = {"layers": encoder_states}
        if self.input_feeding:
            state["feed"] = ops.zeros_like(encoder_states[-1][0])
        return state

    def step(
        self,
        inputs,
        state,
        encoder_outputs=None,
        encoder_padding_mask=None,
        index=0,
        training=False,
        encoder_keys=None,
        draws=None,
    ):
        """Decodes one position.

        Args:
            inputs: float [batch, dim], the embedded previous token.
            state: the structure from `initial_state` or the previous `step`.
            index: int32 scalar, the target position (local-m attention aligns to it).
            encoder_keys: `project_keys(encoder_outputs)`, projected once for all steps;
                None projects them again at this step.
            draws: None, or float [batch]: a `HardAttention`'s draws for this position.

        Returns:
            (outputs [batch, units], state, weights [batch, source_length] or None).
        """
        x = inputs
        if self.attend_previous_state:
            previous_top_state = state["layers"][-1][0]
            context, weights = self._attend(
                previous_top_state[:, None],
                encoder_outputs,
                encoder_keys,
                encoder_padding_mask,
                index,
                None if draws is None else draws[:, None],
            )
            context, weights = context[:, 0], weights[:, 0]
            if self.context_gate is not None:
                context = self.context_gate(previous_top_state) * context
            x = ops.concatenate([x, context], axis=-1)
        if self.input_feeding:
            x = ops.concatenate([x, state["feed"]], axis=-1)
        layer_states = []
        for i, layer in enumerate(self.rnn_layers):
            layer_outputs, states = layer.cell(x, state["layers"][i], training=training)
            layer_states.append(list(states))
            x = self.between_layers(i, x, layer_outputs, training)
        next_state = {"layers": layer_states}
        if self.attention is None:
            return x, next_state, None
        if self.attend_previous_state:
            outputs = self._readout(context, x, training)
        else:
            outputs, weights = self._attentional(
                x[:, None],
                encoder_outputs,
                encoder_keys,
                encoder_padding_mask,
                index,
                None if draws is None else draws[:, None],
                training,
            )
            outputs, weights = outputs[:, 0], weights[:, 0]
        if self.input_feeding:
            next_state["feed"] = outputs
        return outputs, next_state, weights

    def _scan(
        self,
        inputs,
        initial_states,
        encoder_outputs,
        encoder_keys,
        encoder_padding_mask,
        draws,
        training,
    ):
        """Teacher forcing one position at a time, for attention that feeds back."""

        def scan_step(previous, at_index):
            index, state, _, _ = previous
            outputs, state, weights = self.step(
                at_index["inputs"],
                state,
                encoder_outputs,
                encoder_padding_mask,
                index,
                training,
                encoder_keys=encoder_keys,
                draws=at_index.get("draws"),
            )
            return index + 1, state, outputs, weights

        # tf.scan stacks whole accumulators, so the outputs ride in it from a zero start, in
        # the dtype the steps return them in.
        batch_size = ops.shape(inputs)[0]
        first = (
            ops.convert_to_tensor(0, "int32"),
            self.initial_state(initial_states),
            ops.zeros((batch_size, self.units), self.compute_dtype),
            ops.zeros((batch_size, ops.shape(encoder_outputs)[1]), self.compute_dtype),
        )
        positions = {"inputs": inputs} if draws is None else {"inputs": inputs, "draws": draws}
        by_position = {name: ops.swapaxes(value, 0, 1) for name, value in positions.items()}
        _, _, outputs, weights = tf.scan(scan_step, by_position, first)
        return ops.swapaxes(outputs, 0, 1), ops.swapaxes(weights, 0, 1)

    def _attend(
        self, query, encoder_outputs, encoder_keys, encoder_padding_mask, query_start, draws
    ):
        # Only local attention aligns with the target position; only hard attention draws.
        options = {}
        if isinstance(self.attention, LuongLocalAttention):
            options["query_start"] = query_start
        if draws is not None:
            options["draws"] = draws
        return self.attention(
            query, encoder_outputs, encoder_padding_mask, keys=encoder_keys, **options
        )

    def _attentional(
        self,
        query,
        encoder_outputs,
        encoder_keys,
        encoder_padding_mask,
        query_start,
        draws,
        training,
    ):
        """Luong's attentional states for decoder outputs `query` [batch, length, units]."""
        context, weights = self._attend(
            query, encoder_outputs, encoder_keys, encoder_padding_mask, query_start, draws
        )
        return self._readout(context, query, training), weights

    def _readout(self, context, decoder_outputs, training):
        combined = ops.concatenate([context, decoder_outputs], axis=-1)
        return self.dropout_layer(self.attentional_projection(combined), training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "attention": keras.saving.serialize_keras_object(self.attention),
            "attend_previous_state": self.attend_previous_state,
            "input_feeding": self.input_feeding,
            "context_gate": self.context_gate is not None,
        }
