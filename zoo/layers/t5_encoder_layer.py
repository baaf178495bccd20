import keras
from keras import ops

from zoo.layers.feed_forward import FeedForward
from zoo.layers.t5_attention import T5Attention


@keras.saving.register_keras_serializable(package="zoo")
class T5EncoderLayer(keras.layers.Layer):
    """One T5 encoder layer (Raffel et al. 2020): pre-norm self-attention and feed-forward.

    Each sub-layer normalises its input with an RMS norm (T5's scale-only "layer norm"),
    runs, is dropped out and added to its input: self-attention (`zoo.layers.T5Attention`)
    with the stack's shared relative position bias, then a bias-free
    `zoo.layers.FeedForward`. The stack's final norm belongs to the caller, as does the
    position bias, computed once per forward pass and passed to every layer.

    Args:
        num_heads: int, attention heads.
        intermediate_dim: int, hidden size of the feed-forward network (d_ff).
        key_value_dim: int, the size of each head (d_kv); by default the hidden size divided
            by `num_heads`, which must then divide it.
        dropout: float, dropout on each sub-layer's output, on the attention weights and
            on the feed-forward network's intermediate activations.
        activation: the feed-forward network's activation ("relu" for T5,
            "gelu_approximate" with `gated` for T5.1.1).
        gated: bool, whether the feed-forward network is gated (T5.1.1).
        layer_norm_epsilon: float.

    Call args:
        inputs: [batch, length, hidden_dim].
        position_bias: float [1, num_heads, length, length], added to the attention scores.
        padding_mask: bool [batch, length], True at real tokens.
        training: bool, whether dropout is active.

    Returns:
        [batch, length, hidden_dim].

    Example:
    >>> layer = zoo.layers.T5EncoderLayer(num_heads=8, intermediate_dim=2048)
    >>> bias = zoo.layers.RelativePositionBias(num_heads=8)(length, length)
    >>> outputs = layer(embeddings, position_bias=bias, padding_mask=mask)
    """

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        key_value_dim=None,
        dropout=0.0,
        activation="relu",
        gated=False,
        layer_norm_epsilon=1e-6,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.key_value_dim = key_value_dim
        self.dropout = dropout
        self.activation = activation
        self.gated = gated
        self.layer_norm_epsilon = layer_norm_epsilon

    def build(self, inputs_shape):
        hidden_dim = inputs_shape[-1]
        key_value_dim = self.key_value_dim
        if key_value_dim is None:
            if hidden_dim % self.num_heads:
                raise ValueError(
                    f"`num_heads` ({self.num_heads}) must divide the hidden size ({hidden_dim}) "
                    "unless `key_value_dim` is given."
                )
            key_value_dim = hidden_dim // self.num_heads
        self.head_dim = key_value_dim
        self.self_attention = self._attention(key_value_dim, "self_attention")
        self.self_attention.build(inputs_shape)
        self.self_attention_norm = self._norm("self_attention_norm", inputs_shape)
        self.feed_forward = FeedForward(
            hidden_dim,
            self.intermediate_dim,
            activation=self.activation,
            gated=self.gated,
            dropout=self.dropout,
            dtype=self.dtype_policy,
            name="feed_forward",
        )
        self.feed_forward.build(inputs_shape)
        self.feed_forward_norm = self._norm("feed_forward_norm", inputs_shape)
        self.output_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy)

    def _attention(self, key_value_dim, name):
        return T5Attention(
            self.num_heads, key_value_dim, self.dropout, dtype=self.dtype_policy, name=name
        )

    def _norm(self, name, inputs_shape):
        norm = keras.layers.RMSNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )
        norm.build(inputs_shape)
        return norm

    def _add_residual(self, residual, x, training):
        return residual + self.output_dropout(x, training=training)

    def _feed_forward_block(self, x, training):
        outputs = self.feed_forward(self.feed_forward_norm(x), training=training)
        return self._add_residual(x, outputs, training)

    def call(self, inputs, position_bias=None, padding_mask=None, training=None):
        attention_mask = None
        if padding_mask is not None:
            attention_mask = ops.expand_dims(padding_mask, 1)  # the same keys for each query
        x, _ = self.self_attention(
            self.self_attention_norm(inputs),
            position_bias=position_bias,
            attention_mask=attention_mask,
            training=training,
        )
        x = self._add_residual(inputs, x, training)
        return self._feed_forward_block(x, training)

    def get_config(self):
        activation = self.activation
        if not isinstance(activation, str):
            activation = keras.activations.serialize(activation)
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "intermediate_dim": self.intermediate_dim,
            "key_value_dim": self.key_value_dim,
            "dropout": self.dropout,
            "activation": activation,
            "gated": self.gated,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        }
