import keras

from zoo import checks
from zoo.layers.initializers import fresh_initializer


def _gelu_approximate(x):
    return keras.activations.gelu(x, approximate=True)


# Names the layer understands beyond Keras's own: T5.1.1's GELU is the tanh approximation
# ("gelu_new" in Hugging Face), while Keras's "gelu" is the exact erf form.
_ACTIVATIONS = {"gelu_approximate": _gelu_approximate}


@keras.saving.register_keras_serializable(package="zoo")
class FeedForward(keras.layers.Layer):
    """T5's position-wise feed-forward block, without biases: plain or gated.

    Plain (T5): `activation(x @ W_in) @ W_out`. Gated (T5.1.1, Shazeer 2020's GEGLU when
    the activation is GELU): `(activation(x @ W_in) * (x @ W_gate)) @ W_out`. Dropout acts
    on the intermediate activations, as in T5's `DenseReluDense`; the residual connection,
    the normalisation before the block and the dropout after it belong to the caller.

    Args:
        hidden_dim: int, the size of the output (the model's hidden size).
        intermediate_dim: int, the size of the intermediate activations.
        activation: str or callable, the activation; "relu" for T5, and for T5.1.1's
            gated GELU "gelu_approximate" (the tanh approximation T5.1.1 was trained
            with) or "gelu" (Keras's exact form).
        gated: bool, whether to multiply the activations by a second, linear projection.
        dropout: float, dropout rate on the intermediate activations.
        kernel_initializer: initializer of the three kernels; LeCun normal (T5's
            fan-in scaling) by default.

    Call args:
        inputs: float [..., input_dim].
        training: bool, whether dropout is active.

    Returns:
        float [..., hidden_dim].

    Example:
    >>> feed_forward = zoo.layers.FeedForward(512, 1024, "gelu_approximate", gated=True)
    >>> outputs = inputs + feed_forward(keras.layers.RMSNormalization()(inputs))
    """

    def __init__(
        self,
        hidden_dim,
        intermediate_dim,
        activation="relu",
        gated=False,
        dropout=0.0,
        kernel_initializer="lecun_normal",
        **kwargs,
    ):
        super().__init__(**kwargs)
        checks.positive_int(hidden_dim, "hidden_dim")
        checks.positive_int(intermediate_dim, "intermediate_dim")
        if not isinstance(gated, bool):
            raise ValueError(f"`gated` must be a bool, got {gated!r}.")
        checks.fraction(dropout, "dropout")
        if isinstance(activation, str) and activation in _ACTIVATIONS:
            activation_fn = _ACTIVATIONS[activation]
        else:
            try:
                activation_fn = keras.activations.get(activation)
            except ValueError as error:
                raise ValueError(
                    f"`activation` must be a Keras activation, 'gelu_approximate' or a "
                    f"callable, got {activation!r}."
                ) from error
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.activation = activation
        self.gated = gated
        self.dropout = dropout
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

        def dense(units, name):
            return keras.layers.Dense(
                units,
                use_bias=False,
                kernel_initializer=fresh_initializer(self.kernel_initializer),
                dtype=self.dtype_policy,
                name=name,
            )

        self.input_projection = dense(intermediate_dim, "input_projection")
        self.gate_projection = dense(intermediate_dim, "gate_projection") if gated else None
        self.output_projection = dense(hidden_dim, "output_projection")
        self.activation_fn = activation_fn
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)

    def build(self, inputs_shape):
        self.input_projection.build(inputs_shape)
        if self.gated:
            self.gate_projection.build(inputs_shape)
        self.output_projection.build((*inputs_shape[:-1], self.intermediate_dim))
        self.built = True

    def call(self, inputs, training=None):
        hidden = self.activation_fn(self.input_projection(inputs))
        if self.gated:
            hidden = hidden * self.gate_projection(inputs)
        hidden = self.dropout_layer(hidden, training=training)
        return self.output_projection(hidden)

    def compute_output_shape(self, inputs_shape):
        return (*inputs_shape[:-1], self.hidden_dim)

    def get_config(self):
        activation = self.activation
        if not isinstance(activation, str):
            activation = keras.activations.serialize(activation)
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "intermediate_dim": self.intermediate_dim,
            "activation": activation,
            "gated": self.gated,
            "dropout": self.dropout,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        }
