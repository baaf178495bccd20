"""What both benchmark scripts share: timing, the machine's description and the JSON line."""

import json
import os
import platform
import statistics
import time


def median_seconds(function, repeats):
    """Calls `function()` `repeats` times; returns the median wall-clock seconds of a call."""
    durations = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        durations.append(time.perf_counter() - start)
    return statistics.median(durations)


def machine_conditions():
    """The conditions a figure was measured under: cores, CPU, library versions, load."""
    import keras
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


def print_json(figures):
    """Prints the figures as one JSON object on one line: the last line a script prints."""
    print(json.dumps(figures, default=str), flush=True)
