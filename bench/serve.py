"""Load test of a served export: many sentences from several threads at once.

Exports a shipped preset (default `tatoeba_t5_en_fr`), reloads it with `tf.saved_model.load`
as a server does, warms it up with one pass over the sentences (so that every shape bucket is
compiled), then sends `--sentences` sentences (the English sentences of the shipped Tatoeba
test split, cycled) in batches of `--batch-size` from `--threads` threads at once. It prints
the throughput, each batch's latency (p50, p99), the process's resident memory after the
warm-up, at its peak and at the end (a leak shows as growth after the warm-up), and the
errors: calls that raised or answered a batch with the wrong number of outputs. Beside it,
the reference: the same export answering `--reference-batches` batches one after another
from one thread. The last line is one JSON object.

    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/serve.py             # 100,000 sentences
    TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python bench/serve.py --sentences 2000  # a quick check
"""

import argparse
import concurrent.futures
import itertools
import statistics
import tempfile
import threading
import time

import numpy as np
import tensorflow as tf
from common import add_record_option, machine_conditions, print_json

import zoo


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--preset", default="tatoeba_t5_en_fr")
    parser.add_argument("--sentences", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--warmup-batches",
        type=int,
        default=None,
        help="default: one pass over the sentences, so that every shape bucket is compiled",
    )
    parser.add_argument("--reference-batches", type=int, default=100)
    add_record_option(parser)
    return parser.parse_args()


def resident_megabytes():
    """The process's resident set size now, from /proc (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("No VmRSS in /proc/self/status.")


class MemorySampler:
    """Samples the resident set size every `interval` seconds in a thread, until stopped."""

    def __init__(self, interval=0.5):
        self.interval = interval
        self.samples = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stopped.wait(self.interval):
            self.samples.append(resident_megabytes())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stopped.set()
        self._thread.join()
        self.samples.append(resident_megabytes())


def by_quarter(samples):
    """The samples at a quarter, half, three quarters and the end of a run."""
    return [samples[max(len(samples) * quarter // 4 - 1, 0)] for quarter in (1, 2, 3, 4)]


def batches_of(sentences, batch_size, count):
    """`count` batches of `batch_size` sentences, cycling through `sentences`."""
    cycled = itertools.cycle(sentences)
    return [tf.constant(list(itertools.islice(cycled, batch_size))) for _ in range(count)]


def timed_call(signature, batch):
    """(seconds, error or None) of one call: an error if it raised or answered a batch with
    another number of outputs than inputs."""
    start = time.perf_counter()
    try:
        outputs = signature(inputs=batch)["outputs"]
    except Exception as error:  # a server must survive any: count it, keep going
        return time.perf_counter() - start, f"{type(error).__name__}: {error}"
    seconds = time.perf_counter() - start
    if outputs.shape[0] != batch.shape[0]:
        return seconds, f"{outputs.shape[0]} outputs for {batch.shape[0]} inputs"
    return seconds, None


def run(signature, batches, threads):
    """Sends `batches` from `threads` threads; returns the figures of the run."""
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(lambda batch: timed_call(signature, batch), batches))
    seconds = time.perf_counter() - start
    latencies = [latency for latency, _ in results]
    errors = [error for _, error in results if error]
    sentences = sum(int(batch.shape[0]) for batch in batches)
    return {
        "threads": threads,
        "sentences": sentences,
        "seconds": round(seconds, 1),
        "sentences_per_second": round(sentences / seconds, 1),
        "batch_latency_p50_ms": round(1000 * statistics.median(latencies), 1),
        "batch_latency_p99_ms": round(1000 * float(np.percentile(latencies, 99)), 1),
        "errors": len(errors),
        "first_errors": errors[:3],
    }


def main():
    args = parse_args()
    conditions = machine_conditions()
    english, _ = zoo.datasets.load_translation("tatoeba", "test")
    with tempfile.TemporaryDirectory() as directory:
        zoo.from_preset(args.preset).export(f"{directory}/1")
        signature = tf.saved_model.load(f"{directory}/1").signatures["serving_default"]
        warmup_batches = args.warmup_batches or -(-len(english) // args.batch_size)
        run(signature, batches_of(english, args.batch_size, warmup_batches), 1)
        reference = run(signature, batches_of(english, args.batch_size, args.reference_batches), 1)
        batches = batches_of(english, args.batch_size, -(-args.sentences // args.batch_size))
        after_warmup = resident_megabytes()
        with MemorySampler() as memory:
            loaded = run(signature, batches, args.threads)
    half = len(memory.samples) // 2
    figures = {
        **loaded,
        "resident_mb_after_warmup": round(after_warmup, 1),
        "resident_mb_peak": round(max(memory.samples), 1),
        "resident_mb_end": round(memory.samples[-1], 1),
        "resident_mb_growth": round(memory.samples[-1] - after_warmup, 1),
        # A leak keeps growing to the end; memory that settles in the first half does not.
        "resident_mb_by_quarter": [round(value, 1) for value in by_quarter(memory.samples)],
        "resident_mb_growth_second_half": round(memory.samples[-1] - memory.samples[half], 1),
    }
    print(f"{'':28} {'reference (1 thread)':>22} {f'load ({args.threads} threads)':>22}")
    for key in ("sentences", "sentences_per_second", "batch_latency_p50_ms", "errors"):
        print(f"{key:28} {reference[key]:>22} {figures[key]:>22}")
    print(
        f"{'batch_latency_p99_ms':28} {reference['batch_latency_p99_ms']:>22} "
        f"{figures['batch_latency_p99_ms']:>22}"
    )
    print(
        f"resident memory: {figures['resident_mb_after_warmup']} MB after the warm-up, "
        f"{figures['resident_mb_peak']} MB at peak, {figures['resident_mb_end']} MB at the end; "
        f"by quarter of the run {figures['resident_mb_by_quarter']} MB"
    )
    print_json(
        {
            "benchmark": "serve",
            "preset": args.preset,
            "batch_size": args.batch_size,
            "reference": reference,
            "load": figures,
            "conditions": conditions,
        },
        record=args.record,
    )


if __name__ == "__main__":
    main()
