"""Learning tests: train until the bar the test asserts has held for several epochs, under a
seed the run chooses, and say on which machine.

A test that trains for a fixed number of epochs just past where its bar was first met on one
machine fails on another: oneDNN's AVX-512 kernels round differently from its AVX2 ones, the
training trajectory diverges, and the bar is met a few epochs later or not yet. So a learning
test measures its model after every epoch as it asserts and stops once every measure has met
its bar `plateau` epochs in a row, within at most `max_epochs` (well past where the bars were
first met under every seed tried). `--learning-seed` (`make test-seeds`) reruns the tests
under other seeds, and the run ends with where each model first met its bars.
"""

import re
from pathlib import Path

import keras
import numpy as np
import pytest

learning = pytest.mark.learning  # the tests `make test-seeds` reruns

SEED = 0  # --learning-seed; tests/conftest.py sets it in every worker
RECORDS = []  # one per training, handed to the test's report by tests/conftest.py


def set_seed():
    """Seeds the weights, the batch order and dropout with this run's learning seed."""
    keras.utils.set_random_seed(SEED)


def exact_match(model, inputs, expected, **predict_options):
    """The share of `inputs` for which `model.predict` returns exactly what is `expected`."""
    predicted = model.predict(inputs, **predict_options)
    return float(np.mean([p == e for p, e in zip(predicted, expected, strict=True)]))


class _Plateau(keras.callbacks.Callback):
    """Measures the model after every epoch; stops training once every measure has met its
    bar `plateau` epochs in a row."""

    def __init__(self, measure, bars, plateau):
        super().__init__()
        self.measure, self.bars, self.plateau = measure, bars, plateau
        self.measures = []  # one {name: value} per epoch

    def met(self, measures):
        return all(measures[name] >= bar for name, bar in self.bars.items())

    def on_epoch_end(self, epoch, logs=None):
        self.measures.append(
            {name: float(value) for name, value in self.measure(self.model).items()}
        )
        if self.held:
            self.model.stop_training = True

    @property
    def held(self):
        """Whether every bar has been met after each of the last `plateau` epochs."""
        recent = self.measures[-self.plateau :]
        return len(recent) == self.plateau and all(map(self.met, recent))

    @property
    def first_epoch_met(self):
        """The first epoch (counted from 1) after which every bar was met, or None."""
        return next((i + 1 for i, m in enumerate(self.measures) if self.met(m)), None)


def fit_to_plateau(
    model, *fit_arguments, name, measure, bars, max_epochs, plateau=3, **fit_options
):
    """Fits `model` until every `measure(model)[key] >= bars[key]` has held after `plateau`
    consecutive epochs, and records the measures under `name`; fails the test if that has not
    happened within `max_epochs`.

    `measure(model)` returns {name: value}; `fit_arguments` and `fit_options` go to
    `model.fit`.
    """
    callback = _Plateau(measure, bars, plateau)
    model.fit(*fit_arguments, epochs=max_epochs, callbacks=[callback], verbose=0, **fit_options)
    record = {
        "name": name,
        "seed": SEED,
        "first_met": callback.first_epoch_met,
        "epochs": len(callback.measures),
        "max_epochs": max_epochs,
        "bars": bars,
        "measures": callback.measures,
    }
    RECORDS.append(record)
    if not callback.held:  # a bar met only at the cap is luck, not a plateau
        pytest.fail(
            f"The bars did not hold {plateau} epochs in a row within {max_epochs}:\n"
            + describe_record(record),
            pytrace=False,
        )


def fit_to_memorise(
    model, inputs, targets, expected, *, name, max_epochs, batch_size=8, samplers=("greedy",)
):
    """Fits `model` on (inputs, targets) until its outputs of `inputs` under each of `samplers`
    have been exactly `expected` (the targets as the model writes them) for 3 epochs in a row.

    A sampler is measured only once the ones before it have met the bar: beam search may still
    prefer a short hypothesis after greedy decoding has memorised the corpus.
    """

    def measure(model):
        measures = {}
        for sampler in samplers:
            met = all(value == 1.0 for value in measures.values())
            measures[sampler] = exact_match(model, inputs, expected, sampler=sampler) if met else 0
        return measures

    return fit_to_plateau(
        model,
        inputs,
        targets,
        batch_size=batch_size,
        name=name,
        measure=measure,
        bars=dict.fromkeys(samplers, 1.0),
        max_epochs=max_epochs,
    )


def describe_record(record):
    """Where the bars were first met, how long it trained, and each measure by epoch."""
    first = record["first_met"] or "never"
    lines = [
        f"{record['name']} (seed {record['seed']}): bars first met after epoch {first}, "
        f"trained {record['epochs']} of at most {record['max_epochs']} epochs"
    ]
    for key, bar in record["bars"].items():
        values = " ".join(f"{measures[key]:.3g}" for measures in record["measures"])
        lines.append(f"    {key} (bar {bar:g}) by epoch: {values}")
    return "\n".join(lines)


def machine_kind():
    """The CPU and the instruction sets that change oneDNN's kernels, hence training runs."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return "unknown CPU (no /proc/cpuinfo)"
    text = cpuinfo.read_text()
    model = re.search(r"^model name\s*:\s*(.*)$", text, re.MULTILINE)
    flags = re.search(r"^flags\s*:\s*(.*)$", text, re.MULTILINE)
    flags = set(flags.group(1).split()) if flags else set()
    kernels = [flag for flag in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if flag in flags]
    return f"{model.group(1) if model else 'unknown CPU'}: {', '.join(kernels) or 'no AVX2'}"
