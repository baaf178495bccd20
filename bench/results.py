"""README's recorded results: Markdown rendered from the JSON that benchmark scripts printed.

A benchmark run with `--record bench/results/NAME.json` writes the JSON object of its last line
there, with the commit and date it ran at. README.md shows a recorded result between the
lines `<!-- results: NAME -->` and `<!-- /results -->`, rendered by this module from that file,
so that its figures are the ones a script printed, never retyped; `tests/test_results.py`
checks that every such block is up to date.

    .venv/bin/python bench/results.py   # rewrites README.md's result blocks from bench/results/
"""

import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BLOCK = re.compile(r"(<!-- results: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /results -->)", re.S)


def conditions(figures):
    """Where and how a recorded run ran, as one sentence."""
    machine = figures["conditions"]
    return (
        f"`{figures['command']}` at {figures['commit']}, {figures['date']}, {machine['cpu']} "
        f"({machine['usable_cores']} cores), TensorFlow {machine['tensorflow']}, 1-minute load "
        f"{machine['load_average_1min']} at its start."
    )


def megabytes(size):
    return f"{size / 1e6:.1f} MB"


def both_directions(figures):
    bleu = figures["test_bleu"]
    directions = list(bleu)
    header = " | ".join(f"test BLEU {direction.replace('->', '→')}" for direction in directions)
    one_way = " | ".join(str(bleu[direction]["one_way_preset_bleu"]) for direction in directions)
    both = " | ".join(str(bleu[direction]["both_ways_model_bleu"]) for direction in directions)
    pairs = bleu[directions[0]]["test_pairs"]
    one_way_size = megabytes(figures["one_way_presets_bytes"])
    both_size = megabytes(figures["both_ways_model_bytes"])
    return f"""| model | {header} | bytes on disk |
|---|{"---:|" * len(directions)}---:|
| two one-way presets (as shipped) | {one_way} | {one_way_size} |
| one T5 for both directions, by task prefix | {both} | {both_size} |

Greedy, all {pairs:,} test pairs per direction, {figures["weights_dtype"]} weights loaded in
float32, sacrebleu `{figures["bleu_signature"]}`. The both-ways model trained {figures["epochs"]}
epochs of {figures["train_pairs"]:,} pairs (both directions) in {figures["train_minutes"]}
minutes, best validation loss {figures["best_validation_loss"]}. {conditions(figures)}
"""


def quarters(load):
    """The memory by quarter of the load run, where the record has it."""
    if "resident_mb_by_quarter" not in load:
        return ""
    values = ", ".join(f"{value:,}" for value in load["resident_mb_by_quarter"])
    return (
        f"; after each quarter of the sentences {values} MB "
        f"({load['resident_mb_growth_second_half']:+,} MB over the second half)"
    )


def serve(figures):
    reference, load = figures["reference"], figures["load"]
    rows = [
        ("sentences", "sentences"),
        ("sentences per second", "sentences_per_second"),
        ("batch latency p50, ms", "batch_latency_p50_ms"),
        ("batch latency p99, ms", "batch_latency_p99_ms"),
        ("errors", "errors"),
    ]
    table = "\n".join(f"| {label} | {reference[key]:,} | {load[key]:,} |" for label, key in rows)
    export = f"`{figures['preset']}` export, batches of {figures['batch_size']}"
    return f"""| {export} | 1 thread | {load["threads"]} threads |
|---|---:|---:|
{table}

Resident memory of the serving process: {load["resident_mb_after_warmup"]:,} MB after the
warm-up, {load["resident_mb_peak"]:,} MB at its peak, {load["resident_mb_end"]:,} MB at the
end{quarters(load)}.
{conditions(figures)}
"""


RENDERERS = {"both_directions": both_directions, "serve": serve}


def render(name):
    """The Markdown of the recorded result `name` (bench/results/NAME.json)."""
    figures = json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))
    return RENDERERS[figures["benchmark"]](figures)


def rendered(text):
    """`text` (a Markdown document) with every result block rendered from its record."""
    return BLOCK.sub(
        lambda match: match.group(1) + render(match.group("name")) + match.group(4), text
    )


if __name__ == "__main__":
    readme = ROOT / "README.md"
    readme.write_text(rendered(readme.read_text(encoding="utf-8")), encoding="utf-8")
