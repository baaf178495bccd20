"""What the benchmark scripts share: timing, training batches counted and timed, the
machine's description, `--option` parsing and the JSON line."""

import ast
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

import keras

# Read when a script starts: a long run's record names the code it ran, whatever is committed
# while it runs (empty outside a git checkout).
STARTED_AT_COMMIT = subprocess.run(
    ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
).stdout.strip()
STARTED_ON = datetime.date.today().isoformat()


class BatchMeter(keras.callbacks.Callback):
    """Counts the training batches of every epoch and times each one.

    A batch's time runs from `on_train_batch_begin` to `on_train_batch_end`, which in Keras'
    TensorFlow trainer spans fetching the batch and the training step, but not validation.
    """

    def on_train_begin(self, logs=None):
        self.batches_per_epoch = []
        self.batch_seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.batches_per_epoch.append(0)

    def on_train_batch_begin(self, batch, logs=None):
        self._batch_start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.batch_seconds.append(time.perf_counter() - self._batch_start)
        self.batches_per_epoch[-1] += 1


def parse_options(pairs):
    """`--option KEY=VALUE` arguments -> {key: value}, values read as Python literals where
    they are ones (`units=256`, `filters=(16, 32)`) and kept as strings otherwise."""
    options = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator:
            raise SystemExit(f"--option takes KEY=VALUE, got {pair!r}.")
        try:
            options[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            options[key] = value  # a bare string such as cell=gru
    return options


def median_seconds(function, repeats):
    """Calls `function()` `repeats` times; returns the median wall-clock seconds of a call."""
    durations = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        durations.append(time.perf_counter() - start)
    return statistics.median(durations)


def interleaved_median_seconds(functions, repeats):
    """Calls each of `functions` (a dict name -> callable) once per round for `repeats` rounds;
    returns {name: median wall-clock seconds of a call}.

    Taking turns spreads the drift of a shared machine over every function alike, so the
    ratios between them hold better than those of figures measured one after the other.
    """
    durations = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            durations[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in durations.items()}


def machine_conditions():
    """The conditions a figure was measured under: cores, CPU, library versions, load."""
    import tensorflow as tf

    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        # Other work on the machine shows here: above 0 before we start, our figures drift.
        "load_average_1min": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def _cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def add_record_option(parser):
    """Adds `--record PATH` to a script's arguments: see `print_json`."""
    parser.add_argument(
        "--record",
        metavar="PATH",
        help="also write the figures, with the command, commit and date, to this JSON file "
        "(bench/results/NAME.json, which README.md renders: see bench/results.py)",
    )


def print_json(figures, record=None):
    """Prints the figures as one JSON object on one line: the last line a script prints.
    With `record` (a path), also writes them there with the command that ran, the commit
    and the date it started from, for README.md's recorded results (`bench/results.py`)."""
    print(json.dumps(figures, default=str), flush=True)
    if record:
        recorded = {
            **figures,
            "command": shlex.join(["python", *sys.argv]),
            "commit": STARTED_AT_COMMIT,
            "date": STARTED_ON,
        }
        with open(record, "w", encoding="utf-8") as file:
            json.dump(recorded, file, indent=2, default=str)
            file.write("\n")


def in_graph_decoder(backbone, sampler, start_token_id, new_tokens, jit_compile):
    """Returns `decode(token_ids, padding_mask) -> NumPy token ids`: `backbone.encode` and
    the sampler's loop over `backbone.step` in one tf.function, generating exactly
    `new_tokens` tokens (the end token is -1, never produced)."""
    import tensorflow as tf

    @tf.function(jit_compile=jit_compile)
    def decode(encoder_token_ids, encoder_padding_mask):
        cache = backbone.encode(encoder_token_ids, encoder_padding_mask, new_tokens)
        result = sampler(
            backbone.step,
            cache,
            batch_size=tf.shape(encoder_token_ids)[0],
            start_token_id=start_token_id,
            end_token_id=-1,
            max_length=new_tokens,
        )
        return result.token_ids

    return lambda token_ids, padding_mask: decode(token_ids, padding_mask).numpy()
