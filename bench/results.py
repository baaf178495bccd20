"""README's recorded results: Markdown rendered from the JSON that benchmark scripts printed.

A benchmark run with `--record bench/results/NAME.json` writes the JSON object of its last line
there, with the commit and date it ran at. README.md shows a recorded result between the
lines `<!-- results: NAME -->` and `<!-- /results -->` (or `<!-- results: NAME OTHER -->` for
runs shown side by side, of one benchmark), rendered by this module from those files,
so that its figures are the ones a script printed, never retyped; `tests/test_results.py`
checks that every such block is up to date.

    .venv/bin/python bench/results.py   # rewrites README.md's result blocks from bench/results/
"""

import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
BLOCK = re.compile(
    r"(<!-- results: (?P<names>[\w -]+?) -->\n)(?P<body>.*?)(<!-- /results -->)", re.S
)


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


def translate(*runs):
    """Catalog models trained for a time budget on Multi30k, one row each."""
    beam = f"beam{runs[0]['decode']['num_beams']}"
    rows = "\n".join(
        f"| `{run['model']}` | {run['parameters']:,} | {run['epochs_run']:.2f} | "
        f"{run['train_target_tokens_per_second']:,.0f} | {run['bleu']['validation_greedy']} | "
        f"{run['bleu']['test_greedy']} / {run['bleu'][f'test_{beam}']} | "
        f"{run['decode_ms_per_sentence']['greedy']} / {run['decode_ms_per_sentence'][beam]} |"
        for run in runs
    )
    first, data = runs[0], runs[0]["data"]
    ran = "\n".join(f"- {conditions(run)}" for run in runs)
    budget = f"{first['budget_minutes']:g} min"
    return f"""| model | parameters | epochs in {budget} | target tokens/s | BLEU val (greedy) | \
BLEU test2016 greedy / {beam} | ms per sentence greedy / {beam} |
|---|---:|---:|---:|---:|---:|---:|
{rows}

Multi30k {data["source_language"]}→{data["target_language"]}, {data["train_pairs"]:,} training
pairs, batches of at most {first["batch_size"]} pairs; BLEU on the {data["test_pairs"]:,}
test2016 pairs, length penalty {first["decode"]["length_penalty"]}, sacrebleu
`{first["bleu_signature"]}`.
{ran}
"""


def caption(*records):
    """Captioners trained for a time budget on Flickr8k, one row per run, then the
    published figures of the runs' papers."""
    first = records[0]
    beam = f"beam{first['num_beams']}"
    runs = [run for record in records for run in record["runs"]]

    def bleu(run, sampler):
        return f"{run['bleu'][sampler]['bleu_1']} / {run['bleu'][sampler]['bleu_4']}"

    rows = "\n".join(
        f"| {run['run']} / {run['encoder']} | {run['epochs_run']:.2f} | {run['test_loss']} | "
        f"{bleu(run, 'greedy')} | {bleu(run, beam)} |"
        for run in runs
    )
    published = "\n".join(
        f"| published: {paper['paper']} | | | | {paper.get('bleu_1', '-')} / "
        f"{paper.get('bleu_4', '-')} |"
        for label, paper in first["published"].items()
        if label in {run["run"] for run in runs}
    )
    data, phases = first["data"], {phase["phase"] for run in runs for phase in run["phases"]}
    ran = "\n".join(f"- {conditions(record)}" for record in records)
    return f"""| run / encoder | epochs in {first["budget_minutes"]:g} min | test loss | \
BLEU-1 / 4 greedy | BLEU-1 / 4 {beam} |
|---|---:|---:|---:|---:|
{rows}
{published}

Flickr8k: {data["train_images"]:,} training images, BLEU on the {data["test_images"]:,} test
images against {data["references"]} (sacrebleu); encoder phases: {", ".join(sorted(phases))};
batches of {first["batch_size"]}.
{ran}
"""


RENDERERS = {
    "both_directions": both_directions,
    "caption": caption,
    "serve": serve,
    "translate": translate,
}


def render(names):
    """The Markdown of the recorded results `names` (bench/results/NAME.json, space-separated
    names for runs of one benchmark side by side)."""
    records = [
        json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8")) for name in names.split()
    ]
    benchmarks = {record["benchmark"] for record in records}
    if len(benchmarks) != 1:
        raise ValueError(f"Results {names!r} come from several benchmarks: {benchmarks}.")
    return RENDERERS[benchmarks.pop()](*records)


def rendered(text):
    """`text` (a Markdown document) with every result block rendered from its records."""
    return BLOCK.sub(
        lambda match: match.group(1) + render(match.group("names")) + match.group(4), text
    )


if __name__ == "__main__":
    readme = ROOT / "README.md"
    readme.write_text(rendered(readme.read_text(encoding="utf-8")), encoding="utf-8")
