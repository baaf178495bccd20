"""Training under tf.distribute on this machine: the strategies' overhead, and on paper the
scaling over N GPUs.

`transformer-small` trains on the first `--pairs` Multi30k En->De pairs (batches of at most
`--batch-size` pairs, global) for two epochs, each run in a fresh process:

- "one process": no strategy, every core;
- "mirrored": `MirroredStrategy` over two logical CPU devices of one process;
- "multi-worker": `MultiWorkerMirroredStrategy`, two worker processes on localhost (collective
  all-reduce over gRPC), each pinned to one core.

The second epoch is timed (the first traces the step for each padded length): steps per
second and real target tokens (those that carry loss weight) per second, and the efficiency
against one process. On two cores this measures what the strategies cost, not a speed-up:
the replicas share the cores one process already uses. The projection for N GPUs takes the
all-reduce volume of a step (the float32 gradients: parameters x 4 bytes), a ring
all-reduce's 2 (N - 1) / N of it sent by each GPU, and stated link bandwidths.

Run from the repository root:

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/scale.py --data ../shared/data/multi30k

The last line printed is one JSON object with every figure.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from common import add_record_option, machine_conditions, print_json

import zoo

REPOSITORY = Path(__file__).resolve().parent.parent
RUNS = ("one process", "mirrored", "multi-worker")
# Link bandwidths per direction, GB/s, for the projection.
LINKS = {"NVLink 4 (H100 SXM)": 450.0, "PCIe 4.0 x16": 32.0, "100 Gb/s Ethernet": 12.5}
GPU_COUNTS = (2, 4, 8)


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", default="../shared/data/multi30k", help="the Multi30k directory")
    parser.add_argument("--pairs", type=int, default=4096, help="training pairs (the first N)")
    parser.add_argument("--batch-size", type=int, default=64, help="global batch, in pairs")
    parser.add_argument("--run", choices=RUNS, help=argparse.SUPPRESS)  # a child process's run
    parser.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    add_record_option(parser)
    args = parser.parse_args()
    if not Path(args.data).is_absolute():
        args.data = str(REPOSITORY / args.data)
    return args


# === One run, in its own process ===
class EpochTimer(keras.callbacks.Callback):
    """Times every epoch of `fit` (which validates nothing here)."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def train_once(args):
    """Trains two epochs under `args.run`'s strategy; prints the timed epoch's figures.
    Devices are set up before TensorFlow runs anything: imports alone run nothing."""
    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    if args.run == "mirrored":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    elif args.run == "multi-worker":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        strategy = tf.distribute.get_strategy()
    keras.utils.set_random_seed(0)
    sources, targets = zoo.datasets.load_translation("multi30k", "train", path=args.data)
    sources, targets = sources[: args.pairs], targets[: args.pairs]
    with strategy.scope():
        model = zoo.build("transformer-small", sources, targets, dtype="auto")
    dataset = model.training_dataset(sources, targets, batch_size=args.batch_size)
    real_tokens = int(sum(np.sum(weights) for _, _, weights in dataset.as_numpy_iterator()))
    steps = int(dataset.cardinality())
    timer = EpochTimer()
    model.fit(sources, targets, batch_size=args.batch_size, epochs=2, callbacks=[timer], verbose=0)
    seconds = timer.seconds[-1]
    print(
        json.dumps(
            {
                "replicas": strategy.num_replicas_in_sync,
                "parameters": model.count_params(),
                "steps": steps,
                "epoch_seconds": round(seconds, 2),
                "steps_per_second": round(steps / seconds, 3),
                "real_target_tokens_per_second": round(real_tokens / seconds, 1),
            }
        )
    )


# === The runs, from the parent process ===
def start(args, run, tf_config=None, threads=0, cpus=None):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(REPOSITORY)}
    env.pop("TF_CONFIG", None)
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    command = [sys.executable, __file__, "--run", run, "--data", args.data]
    command += ["--pairs", str(args.pairs), "--batch-size", str(args.batch_size)]
    command += ["--threads", str(threads)]
    if cpus is not None:  # pinned to these cores
        command = ["taskset", "--cpu-list", cpus, *command]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)


def result(process):
    output, _ = process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"a run failed (exit {process.returncode}):\n{output[-2000:]}")
    return json.loads(output.strip().splitlines()[-1])


def free_port():
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def measure(args):
    figures = {"one process": result(start(args, "one process"))}
    figures["mirrored"] = result(start(args, "mirrored"))
    cluster = {"worker": [f"localhost:{free_port()}" for _ in range(2)]}
    workers = [
        start(
            args,
            "multi-worker",
            {"cluster": cluster, "task": {"type": "worker", "index": index}},
            threads=1,
            cpus=str(index),
        )
        for index in range(2)
    ]
    figures["multi-worker"] = [result(worker) for worker in workers][0]
    baseline = figures["one process"]["real_target_tokens_per_second"]
    for run in RUNS:
        figures[run]["efficiency"] = round(
            figures[run]["real_target_tokens_per_second"] / baseline, 3
        )
    return figures


def projection(parameters):
    """All-reduce time per step of a ring over N GPUs, per link, in milliseconds."""
    volume_bytes = 4 * parameters
    return {
        "all_reduce_megabytes": round(volume_bytes / 1e6, 2),
        "ring_all_reduce_ms": {
            link: {
                str(gpus): round(1e3 * 2 * (gpus - 1) / gpus * volume_bytes / (gbs * 1e9), 3)
                for gpus in GPU_COUNTS
            }
            for link, gbs in LINKS.items()
        },
    }


def main():
    args = parse_args()
    if args.run:
        train_once(args)
        return
    conditions = machine_conditions()
    start_time = time.perf_counter()
    runs = measure(args)
    figures = {
        "benchmark": "scale",
        "model": "transformer-small",
        "data": "multi30k en-de train",
        "pairs": args.pairs,
        "batch_size": args.batch_size,
        "dtype": "auto",
        "runs": runs,
        "projection": projection(runs["one process"]["parameters"]),
        "conditions": conditions,
        "total_seconds": round(time.perf_counter() - start_time, 1),
    }
    print(f"{'run':<14}{'replicas':>9}{'steps/s':>9}{'real tokens/s':>15}{'efficiency':>12}")
    for run in RUNS:
        row = runs[run]
        print(
            f"{run:<14}{row['replicas']:>9}{row['steps_per_second']:>9.2f}"
            f"{row['real_target_tokens_per_second']:>15,.0f}{row['efficiency']:>12.2f}"
        )
    plan = figures["projection"]
    print(f"all-reduce per step: {plan['all_reduce_megabytes']} MB (float32 gradients)")
    for link, times in plan["ring_all_reduce_ms"].items():
        spelled = ", ".join(f"{gpus} GPUs {ms} ms" for gpus, ms in times.items())
        print(f"  ring all-reduce over {link}: {spelled}")
    print_json(figures, record=args.record)


if __name__ == "__main__":
    main()
