"""The Transformer's learning-rate schedule and optimizer (Vaswani et al. 2017)."""

import keras
from keras import ops

from zoo import checks, optimizers


@keras.saving.register_keras_serializable(package="zoo")
class InverseSquareRootSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup, then inverse square-root decay (Vaswani et al. 2017, eq. 3).

    `lr = scale * hidden_dim**-0.5 * min(step**-0.5, step * warmup_steps**-1.5)`, where
    `step` is the optimizer iteration plus one, so the first update does not get a zero
    learning rate. The peak, `scale * (hidden_dim * warmup_steps)**-0.5`, is reached at
    iteration `warmup_steps - 1`.

    Args:
        hidden_dim: int, the model width `d_model`; wider models get smaller steps.
        warmup_steps: int, the number of steps of linear warmup.
        scale: float, a factor on the whole schedule.

    Example:
    >>> schedule = zoo.schedules.InverseSquareRootSchedule(hidden_dim=512)
    >>> optimizer = keras.optimizers.Adam(learning_rate=schedule)
    """

    def __init__(self, hidden_dim, warmup_steps=4000, scale=1.0):
        checks.positive_int(hidden_dim, "hidden_dim")
        checks.positive_int(warmup_steps, "warmup_steps")
        checks.positive_number(scale, "scale")
        self.hidden_dim = int(hidden_dim)
        self.warmup_steps = int(warmup_steps)
        self.scale = float(scale)

    def __call__(self, step):
        step = ops.cast(step, "float32") + 1.0
        decay = ops.minimum(ops.rsqrt(step), step * self.warmup_steps**-1.5)
        return self.scale * self.hidden_dim**-0.5 * decay

    def get_config(self):
        return {
            "hidden_dim": self.hidden_dim,
            "warmup_steps": self.warmup_steps,
            "scale": self.scale,
        }


def transformer_optimizer(hidden_dim, warmup_steps=4000, scale=1.0, **optimizer_options):
    """Adam (`zoo.optimizers.Adam`) with the Transformer paper's settings and learning-rate
    schedule.

    Vaswani et al. (2017) train with beta_1=0.9, beta_2=0.98, epsilon=1e-9 and the
    `InverseSquareRootSchedule` of the given width and warmup.

    Args:
        hidden_dim: int, the model width `d_model`.
        warmup_steps: int, the number of steps of linear warmup.
        scale: float, a factor on the learning rate.
        **optimizer_options: Keras optimizer arguments, such as `use_ema=True` and
            `ema_momentum` (a moving average of the weights, which
            `keras.callbacks.SwapEMAWeights` validates and `fit` ends with) or `clipnorm`.

    Example:
    >>> model.compile(optimizer=zoo.schedules.transformer_optimizer(hidden_dim=512), ...)
    >>> averaged = zoo.schedules.transformer_optimizer(256, 1000, use_ema=True, ema_momentum=0.999)
    """
    schedule = InverseSquareRootSchedule(hidden_dim, warmup_steps=warmup_steps, scale=scale)
    return optimizers.Adam(
        learning_rate=schedule, beta_1=0.9, beta_2=0.98, epsilon=1e-9, **optimizer_options
    )
