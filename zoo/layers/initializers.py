"""A fresh initializer per weight."""


def fresh_initializer(initializer):
    """A new instance of a Keras initializer, for one more weight.

    Keras initializers draw from a seed fixed when they are made (a random one when
    unseeded), so one instance that starts two weights of the same size gives both the same
    values, as keras-hub's `clone_initializer` notes.
    """
    return initializer.__class__.from_config(initializer.get_config())
