"""Fresh Python processes for tests that need them: logical devices and `TF_CONFIG` must be
set before TensorFlow runs anything, so distributed runs cannot share the test process."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def start_python(arguments, tf_config=None):
    """Starts `python ARGUMENTS` with this checkout's zoo importable and `TF_CONFIG` set to
    `tf_config` (a dict), or unset; its stdout and stderr go together to a pipe."""
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return subprocess.Popen(
        [sys.executable, *map(str, arguments)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def output_of(process, timeout=900):
    """Waits for a started process; returns what it printed, failing the test if it failed."""
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-3000:]
    return output


def localhost_workers(count):
    """The `TF_CONFIG` of each of `count` workers of a cluster on free localhost ports."""
    cluster = {"worker": [f"localhost:{_free_port()}" for _ in range(count)]}
    return [{"cluster": cluster, "task": {"type": "worker", "index": i}} for i in range(count)]


def _free_port():
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]
