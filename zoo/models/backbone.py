"""The base of every backbone: its dtype policy, as keras-hub's `Backbone` keeps it."""

import keras


class Backbone(keras.Model):
    """Base of the zoo backbones: a functional keras.Model with a dtype policy.

    As `keras_hub.models.Backbone`: a subclass passes its `dtype` to every layer it creates
    and then to this constructor, which makes it the model's own policy (the compute dtype
    of the decoding caches built in `encode`); `get_config` holds the name, `trainable` and
    the policy, so that `save` and `zoo.load` restore the model under the policy it was
    built with, whatever the global policy is then.

    Args:
        dtype: None (Keras' global policy), a Keras dtype policy name such as
            "mixed_bfloat16", or a `keras.DTypePolicy`.
        *args, **kwargs: passed to `keras.Model` (the functional graph's inputs, outputs
            and name).
    """

    # What `Seq2Seq.pretrain` trains on unless told (see `zoo.tasks.pretraining`).
    pretraining_objective = "span_corruption"

    def __init__(self, *args, dtype=None, **kwargs):
        super().__init__(*args, **kwargs)
        if dtype is not None:
            self.dtype_policy = keras.dtype_policies.get(dtype)

    def get_config(self):
        # Not `super().get_config()`: a functional model's is its graph, which the
        # subclasses' constructors rebuild from their own arguments.
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.get(config["dtype"])
        return cls(**config)
