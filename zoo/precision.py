"""Mixed precision: the `dtype` every builder takes, and what "auto" picks on this machine."""

from pathlib import Path

import keras
import tensorflow as tf

# The CPU flags of bfloat16 units that oneDNN computes with (AVX-512 BF16, Intel AMX).
BFLOAT16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The instruction-set flags of the first CPU listed in `cpuinfo` (Linux's
    /proc/cpuinfo by default), as a frozenset of str; empty where the file does not exist."""
    path = Path(cpuinfo)
    if not path.is_file():
        return frozenset()
    for line in path.read_text(errors="replace").splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "flags":
            return frozenset(value.split())
    return frozenset()


def dtype_policy(dtype="auto", *, flags=None, num_gpus=None):
    """Resolves the `dtype` a builder takes to what its backbone takes.

    As keras-hub backbones, builders take a Keras dtype policy: under a mixed policy the
    layers compute in 16 bits and keep float32 weights, while the logits, the softmaxes and
    the loss stay float32. "auto" picks for the machine: "mixed_float16" where TensorFlow
    sees a GPU, "mixed_bfloat16" on a CPU with bfloat16 units (`BFLOAT16_CPU_FLAGS`, which
    oneDNN uses), "float32" otherwise.

    Args:
        dtype: "auto"; None (Keras' global policy, `keras.config.dtype_policy()`, is
            used); a Keras dtype policy name ("float32", "mixed_bfloat16",
            "mixed_float16", "bfloat16", ...); or a `keras.DTypePolicy`.
        flags: the CPU's flags for "auto"; by default `cpu_flags()` of this machine.
        num_gpus: int, the GPUs for "auto"; by default those TensorFlow sees.

    Returns:
        None, a policy name (str), or the given `keras.DTypePolicy`.

    Raises:
        ValueError: `dtype` is neither "auto", None, nor a policy Keras knows.

    Example:
    >>> zoo.dtype_policy("auto")  # -> "mixed_bfloat16" on a CPU with AVX512_BF16
    >>> zoo.dtype_policy("auto", flags={"avx2"}, num_gpus=0)  # -> "float32"
    """
    if dtype is None or isinstance(dtype, keras.DTypePolicy):
        return dtype
    if dtype == "auto":
        if num_gpus is None:
            num_gpus = len(tf.config.list_physical_devices("GPU"))
        if num_gpus:
            return "mixed_float16"
        flags = cpu_flags() if flags is None else flags
        return "mixed_bfloat16" if set(flags) & set(BFLOAT16_CPU_FLAGS) else "float32"
    if isinstance(dtype, str):
        try:
            keras.dtype_policies.get(dtype)
        except ValueError:
            pass
        else:
            return dtype
    raise ValueError(
        '`dtype` must be "auto", None, a Keras dtype policy name such as "float32" or '
        f'"mixed_bfloat16", or a keras.DTypePolicy, got {dtype!r}.'
    )
