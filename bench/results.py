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
        f"{run['train_target_tokens_per_second']:,.0f} | "
        f"{run['final_metrics']['loss']} / {run['final_metrics']['val_loss']} | "
        f"{run['bleu']['validation_greedy']} | "
        f"{run['bleu']['test_greedy']} / {run['bleu'][f'test_{beam}']} | "
        f"{run['decode_ms_per_sentence']['greedy']} / {run['decode_ms_per_sentence'][beam]} |"
        for run in runs
    )
    first, data = runs[0], runs[0]["data"]
    ran = "\n".join(f"- {conditions(run)}{kept_epoch(run)}" for run in runs)
    budget = f"{first['budget_minutes']:g} min"
    return f"""| model | parameters | epochs in {budget} | target tokens/s | loss train / val | \
BLEU val (greedy) | BLEU test2016 greedy / {beam} | ms per sentence greedy / {beam} |
|---|---:|---:|---:|---:|---:|---:|---:|
{rows}

Multi30k {data["source_language"]}→{data["target_language"]}, {data["train_pairs"]:,} training
pairs, {batches(first)}; BLEU on the {data["test_pairs"]:,}
test2016 pairs, length penalty {first["decode"]["length_penalty"]}, sacrebleu
`{first["bleu_signature"]}`.
{ran}
"""


def batches(run):
    """How a run's training batches were sized: in tokens or in pairs."""
    if run.get("batch_tokens"):
        return f"batches of at most {run['batch_tokens']:,} padded tokens a side"
    return f"batches of at most {run['batch_size']} pairs"


def kept_epoch(run):
    """What a run that kept its best epoch kept, else nothing."""
    if run.get("patience") is None:
        return ""
    kept = f"epoch {run['kept_epoch']}"
    if run.get("ema_momentum") is not None:
        kept = f"the moving average of the weights (momentum {run['ema_momentum']:g}) after {kept}"
    return (
        f" It kept {kept}, of highest validation greedy BLEU (so that "
        f"figure chose the weights; test2016's did not), stopping after {run['patience']} "
        f"epochs without a higher one or at the budget."
    )


def caption(*records):
    """Captioners trained for a time budget on Flickr8k, one row per run, then the
    published figures of the runs' papers."""
    first = records[0]
    beam = f"beam{first['num_beams']}"
    runs = [run for record in records for run in record["runs"]]

    def bleu(run, sampler):
        return f"{run['bleu'][sampler]['bleu_1']} / {run['bleu'][sampler]['bleu_4']}"

    def label(run):
        dropout = run["options"].get("dropout")
        return f"{run['run']} / {run['encoder']}" + (f", dropout {dropout}" if dropout else "")

    rows = "\n".join(
        f"| {label(run)} | {run['epochs_run']:.2f} | {run['test_loss']} | "
        f"{bleu(run, 'greedy')} | {bleu(run, beam)} |"
        for run in runs
    )
    published = "".join(
        f"\n| published: {paper['paper']} | | | | {paper.get('bleu_1', '-')} / "
        f"{paper.get('bleu_4', '-')} |"
        for label, paper in first["published"].items()
        if label in {run["run"] for run in runs}
    )
    data, phases = first["data"], {phase["phase"] for run in runs for phase in run["phases"]}
    ran = "\n".join(f"- {conditions(record)}" for record in records)
    kept = ""
    if first.get("patience") is not None:
        epochs = ", ".join(
            f"{phase['phase']} epoch {phase['kept_epoch']}"
            for run in runs
            for phase in run["phases"]
        )
        kept = (
            f" Each phase ended after {first['patience']} epochs without a lower validation "
            f"loss, or when its time ran out, and kept its best epoch's weights: {epochs}."
        )
    return f"""| run / encoder | epochs in {first["budget_minutes"]:g} min | test loss | \
BLEU-1 / 4 greedy | BLEU-1 / 4 {beam} |
|---|---:|---:|---:|---:|
{rows}{published}

Flickr8k: {data["train_images"]:,} training images, BLEU on the {data["test_images"]:,} test
images against {data["references"]} (sacrebleu); encoder phases: {", ".join(sorted(phases))};
batches of {first["batch_size"]}.{kept}
{ran}
"""


def precision(figures):
    """Mixed bfloat16 against float32: decoding and a training step, per model."""
    rows = []
    for family in ("lstm", "transformer"):
        if family not in figures:
            continue
        run, name = figures[family], "LSTM" if family == "lstm" else "Transformer"
        for setting, ms in run["decoding_ms_per_sentence"].items():
            fp32, bf16 = ms["float32"], ms["mixed_bfloat16"]
            rows.append(
                f"| {name}, greedy, {setting} | {fp32:,.2f} / {bf16:,.2f} | {bf16 / fp32:.2f}x | "
                f"{run['same_tokens'][setting]:.0%} |"
            )
        fp32, bf16 = (
            run["training_ms_per_step"][policy] for policy in ("float32", "mixed_bfloat16")
        )
        rows.append(f"| {name}, training step | {fp32:,.0f} / {bf16:,.0f} | {bf16 / fp32:.2f}x | |")
    table = "\n".join(rows)
    return f"""| model, setting | ms float32 / bfloat16 | bfloat16 / float32 | same tokens |
|---|---:|---:|---:|
{table}

Decoding in ms per sentence (32 new tokens), a training step in ms (batch 64 x 32 tokens);
"same tokens": the share of greedy picks both policies agree on (random weights give nearly
flat logits, so rounding can flip a pick, and the tokens after it). bfloat16 units:
{", ".join(figures["conditions"]["bfloat16_units"]) or "none"}. {conditions(figures)}
"""


def milliseconds(value):
    return f"{value:,.1f}" if value >= 10 else f"{value:.2f}"


def decode(figures):
    """Decoding speed: the LSTM against keras.io's loop, the Transformer against keras-hub."""
    parts = []
    if "ms_per_sentence" in figures:
        parts.append(_lstm_decoding(figures))
    if "transformer" in figures:
        parts.append(_transformer_decoding(figures["transformer"]))
    return "\n".join(parts) + f"\n{conditions(figures)}\n"


def _lstm_decoding(figures):
    ms, model = figures["ms_per_sentence"], figures["model"]
    paths = [
        ("ours, one `tf.function`, XLA", "ours_xla"),
        ("ours, no XLA", "ours_no_xla"),
        ("keras.io loop (`predict` per token)", "keras_io_loop"),
        ("`model.predict`, strings in and out (XLA)", "model_predict"),
    ]
    rows = "\n".join(
        f"| {label} | {milliseconds(ms[key]['batch1']) if 'batch1' in ms[key] else '-'} | "
        f"{milliseconds(ms[key]['batch32'])} |"
        for label, key in paths
    )
    speedup, target = figures["speedup_over_keras_io_loop"], figures["target_speedup"]
    return f"""LSTM translator (embedding {model["embedding_dim"]}, units {model["units"]}, \
vocabulary {model["vocabulary_size"]:,}), greedy, {figures["new_tokens"]} new tokens, \
ms per sentence:

| path | batch 1 | batch 32 |
|---|---:|---:|
{rows}
| **speed-up of ours (XLA) over the loop** | **{speedup["batch1"]}x** | **{speedup["batch32"]}x** |
| target | {target["batch1"]:g}x | {target["batch32"]:g}x |
"""


def _transformer_decoding(run):
    ms, ratio, model = run["ms_per_sentence"], run["ratio_keras_hub_over_ours"], run["model"]
    columns = [(sampler, size) for sampler in ("greedy", "beam4") for size in ("batch1", "batch32")]

    def cells(by_sampler):
        return " | ".join(milliseconds(by_sampler[sampler][size]) for sampler, size in columns)

    floor = run["matrix_product_floor"]
    target = run["target"]
    return f"""Transformer (hidden {model["hidden_dim"]}, {model["encoder_layers"]} + \
{model["decoder_layers"]} layers, vocabulary {model["vocabulary_size"]:,}) against keras-hub's \
`BartSeq2SeqLM.generate` of the same sizes, {run["new_tokens"]} new tokens, ms per sentence:

| path | greedy b1 | greedy b32 | beam {run["num_beams"]} b1 | beam {run["num_beams"]} b32 |
|---|---:|---:|---:|---:|
| ours, XLA | {cells(ms["ours_xla"])} |
| ours, no XLA | {cells(ms["ours_no_xla"])} |
| keras-hub `generate`, XLA | {cells(ms["keras_hub_xla"])} |
| **ratio keras-hub / ours (XLA)** | {cells(ratio["ours_xla"])} |
| floor: the decoder's matrix products alone, XLA / NumPy | \
{milliseconds(floor["batch1"]["xla_ms"])} / {milliseconds(floor["batch1"]["numpy_ms"])} | \
{milliseconds(floor["batch32"]["xla_ms"])} / {milliseconds(floor["batch32"]["numpy_ms"])} | - | - |

Targets: a ratio of at least {target["ratio_batch32_at_least"]:g}x at batch 32, greedy and \
beam; at most {target["ours_xla_greedy_batch1_ms_at_most"]:g} ms per sentence greedy at batch 1.
"""


def train(figures):
    """Training throughput: zoo's batches and precision against keras.io's fixed-length ones."""
    rows = []
    for kind in ("transformer", "lstm"):
        if kind not in figures:
            continue
        run = figures[kind]

        def rate(name, run=run):
            return f"{run[name]['real_target_tokens_per_second']:,.0f}"

        rows.append(
            f"| `{run['zoo_model']}` | {rate('zoo')} ({run['zoo']['padding_efficiency']:.0%}) | "
            f"{rate('zoo_float32')} | {rate('reference')} "
            f"({run['reference']['padding_efficiency']:.0%}) | **{run['speedup']}x** = "
            f"{run['batching_speedup']}x x {run['precision_speedup']}x |"
        )
    table = "\n".join(rows)
    dtype = next(figures[kind]["zoo_dtype"] for kind in ("transformer", "lstm") if kind in figures)
    text = f"""| model | zoo, {dtype} (real share of padded tokens) | zoo, float32 | \
reference, float32 | ratio = batches x precision |
|---|---:|---:|---:|---:|
{table}

Real target tokens per second (the labels that carry loss weight) on {figures["data"]}.
"""
    if "captioner" in figures:
        run = figures["captioner"]
        text += f"""`{run["model"]}` over a frozen MobileNet: \
{run["cached_features"]["steps_per_second"]} steps/s on feature grids computed once, \
{run["encoder_every_step"]["steps_per_second"]} running the encoder every step: \
**{run["speedup"]}x**.
"""
    return text + f"{conditions(figures)}\n"


def fused_kernels(figures):
    """Adam's update and the cross-entropy: zoo's fused kernels against Keras' ops."""
    adam, loss = figures["adam_update"], figures["loss_and_gradient"]
    batch, length, vocabulary = loss["logits_shape"]
    keras_loss, separate_ops, zoo_loss = loss["ms"].values()
    return f"""| part of a training step | Keras | separate ops | zoo |
|---|---:|---:|---:|
| Adam's update of `{figures["model"]}`'s {figures["weights"]:,} weights | \
{adam["ms"]["keras_adam"]} ms | - | **{adam["ms"]["zoo_adam"]} ms** |
| label-smoothed cross-entropy and its gradient, {batch} x {length} x {vocabulary:,} logits | \
{keras_loss} ms | {separate_ops} ms | **{zoo_loss} ms** |

Medians of rounds in which they take turns. {conditions(figures)}
"""


def scale(figures):
    """tf.distribute on this machine, and the all-reduce time of a step over N GPUs."""
    rows = "\n".join(
        f"| {name} | {run['replicas']} | {run['steps_per_second']:.2f} | "
        f"{run['real_target_tokens_per_second']:,.0f} | {run['efficiency']:.2f} |"
        for name, run in figures["runs"].items()
    )
    plan = figures["projection"]
    links = "\n".join(
        f"| {link} | " + " | ".join(f"{ms:g}" for ms in times.values()) + " |"
        for link, times in plan["ring_all_reduce_ms"].items()
    )
    counts = list(next(iter(plan["ring_all_reduce_ms"].values())))
    return f"""| run | replicas | steps/s | real target tokens/s | efficiency |
|---|---:|---:|---:|---:|
{rows}

`{figures["model"]}` (dtype {figures["dtype"]}) on the first {figures["pairs"]:,} pairs of
{figures["data"]}, global batches of at most {figures["batch_size"]} pairs; the second of two
epochs timed. A step all-reduces {plan["all_reduce_megabytes"]} MB of float32 gradients; a
ring all-reduce over N GPUs, each sending 2 (N - 1) / N of it, takes (ms per step, bandwidth
per direction as stated by the link's specification, no overlap with compute):

| link | {" | ".join(f"{count} GPUs" for count in counts)} |
|---|{"---:|" * len(counts)}
{links}

{conditions(figures)}
"""


RENDERERS = {
    "both_directions": both_directions,
    "caption": caption,
    "decode": decode,
    "fused_kernels": fused_kernels,
    "precision": precision,
    "scale": scale,
    "serve": serve,
    "train": train,
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
