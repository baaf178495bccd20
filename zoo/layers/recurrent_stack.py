import keras

from zoo import checks

CELLS = {"lstm": keras.layers.LSTM, "gru": keras.layers.GRU}


@keras.saving.register_keras_serializable(package="zoo")
class RecurrentStack(keras.layers.Layer):
    """Base of `RecurrentEncoder` and `RecurrentDecoder`: what sits between stacked layers.

    Layer i > 0 may add its input to its output (a residual connection); every layer but the
    last may be layer-normalised; dropout follows every layer.

    Args:
        cell: "lstm" or "gru".
        units: int, size of every recurrent layer's state.
        num_layers: int, stacked recurrent layers.
        residual: bool, whether each layer after the first adds its input to its output.
        layer_norm: bool, whether to layer-normalise between stacked layers.
        dropout: float, dropout after every layer.
    """

    def __init__(
        self,
        cell="lstm",
        units=512,
        num_layers=1,
        residual=False,
        layer_norm=False,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        checks.one_of(cell, CELLS, "cell")
        checks.positive_int(num_layers, "num_layers")
        checks.positive_int(units, "units")
        checks.fraction(dropout, "dropout")
        self.cell = cell
        self.units = units
        self.num_layers = num_layers
        self.residual = residual
        self.layer_norm = layer_norm
        self.dropout = dropout
        self.norms = [
            keras.layers.LayerNormalization(dtype=self.dtype_policy, name=f"layer_norm_{i}")
            for i in range(num_layers - 1 if layer_norm else 0)
        ]
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy, name="dropout")

    def build_norms(self):
        for norm in self.norms:
            norm.build((None, self.units))

    def between_layers(self, i, layer_inputs, layer_outputs, training=None):
        """Residual connection, layer norm and dropout after stacked layer `i`."""
        x = layer_outputs
        if self.residual and i > 0:
            x = x + layer_inputs
        if i < len(self.norms):
            x = self.norms[i](x)
        return self.dropout_layer(x, training=training)

    def get_config(self):
        return {
            **super().get_config(),
            "cell": self.cell,
            "units": self.units,
            "num_layers": self.num_layers,
            "residual": self.residual,
            "layer_norm": self.layer_norm,
            "dropout": self.dropout,
        }
