"""The optimizers of zoo's models: Keras' Adam, updating each variable in one fused kernel.

Keras' Adam writes its update as a chain of elementwise operations per variable, each
reading and writing a tensor of the variable's size; on a CPU they run one after the other,
bound by memory (bench/fused_kernels.py times both on transformer-small's weights).
TensorFlow's `ResourceApplyAdam` kernel does the same arithmetic in one pass over the
weights, the moments and the gradient.
"""

import keras
import tensorflow as tf
from keras import ops


@keras.saving.register_keras_serializable(package="zoo")
class Adam(keras.optimizers.Adam):
    """`keras.optimizers.Adam`, applying each update with TensorFlow's fused
    `ResourceApplyAdam` kernel: Kingma and Ba's algorithm with Keras' "epsilon hat", in one
    pass instead of Keras' chain of full-size temporaries. It takes Keras' arguments and
    serves wherever Keras' Adam does, under tf.distribute strategies too. With
    `amsgrad=True`, and for an embedding's sparse gradient (IndexedSlices), it updates as
    Keras' does: Keras squares the slices of a row that a batch looks up twice before it
    sums them, which the dense kernel cannot, and models tuned on Keras' Adam rely on it
    (without it the memory network, whose lookups repeat rows, failed its bAbI task 2
    learning test).

    Example:
    >>> model.compile(optimizer=zoo.optimizers.Adam(1e-3, clipnorm=1.0))
    """

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad or isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        index = self._get_variable_index(variable)
        dtype = variable.dtype
        step = ops.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = (ops.cast(beta, dtype) for beta in (self.beta_1, self.beta_2))
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle,
            m=self._momentums[index].value.handle,
            v=self._velocities[index].value.handle,
            beta1_power=ops.power(beta_1, step),
            beta2_power=ops.power(beta_2, step),
            lr=ops.cast(learning_rate, dtype),
            beta1=beta_1,
            beta2=beta_2,
            epsilon=ops.cast(self.epsilon, dtype),
            grad=ops.cast(gradient, dtype),
        )
