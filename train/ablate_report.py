"""An ablation's numbers (train.ablate) as ablate.json, a Markdown table and ablate.png.

Per arm and evaluation slice: the mean bits per character over the seeds, their sample
standard deviation and min-max. B-A is taken seed by seed (seed s of both arms starts
from the same weights, so the pair differs in its data only): the mean of those paired
differences, their standard deviation and min-max. The arms are called apart only when
every seed's difference has one sign and the arms' min-max ranges do not overlap.
"""

from __future__ import annotations

import json
import os
import statistics

ARMS = ("A", "B")


def spread(values: list[float]) -> dict:
    return {
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
        "values": values,
    }


def arm_name(arm: dict) -> str:
    return os.path.splitext(os.path.basename(arm["recipe"]))[0]


def check_same_footing(arms: dict) -> None:
    """Both arms: one tokenizer, one token budget, the same seeds (else no comparison)."""
    a, b = arms["A"], arms["B"]
    if a["tokenizer_hash"] != b["tokenizer_hash"] or {r["run"]["tokenizer_hash"] for r in a["runs"] + b["runs"]} != {
        a["tokenizer_hash"]
    }:
        raise ValueError("the arms were tokenized with different tokenizers")
    if {r["train_tokens"] for r in a["runs"] + b["runs"]} != {a["runs"][0]["train_tokens"]}:
        raise ValueError("the arms' runs trained on different token budgets")
    if [r["seed"] for r in a["runs"]] != [r["seed"] for r in b["runs"]]:
        raise ValueError("the arms ran different seeds")


def compare(arms: dict, slice_name: str) -> dict:
    bpc = {k: [r["eval"][slice_name]["bits_per_char"] for r in arms[k]["runs"]] for k in ARMS}
    diff = spread([b - a for a, b in zip(bpc["A"], bpc["B"])])
    same_sign = all(d < 0 for d in diff["values"]) or all(d > 0 for d in diff["values"])
    apart = max(bpc["B"]) < min(bpc["A"]) or max(bpc["A"]) < min(bpc["B"])
    if same_sign and apart:
        verdict = "B lower than A on every seed" if diff["mean"] < 0 else "B higher than A on every seed"
    else:
        verdict = "no significant difference: the seeds' spread covers the difference"
    return {"A": spread(bpc["A"]), "B": spread(bpc["B"]), "B_minus_A": diff, "verdict": verdict}


def build_report(arms: dict, split: dict, config: dict, quote: str) -> dict:
    check_same_footing(arms)
    slices = list(arms["A"]["runs"][0]["eval"])
    first = arms["A"]["runs"][0]
    budget = first["train_tokens"]
    for arm in arms.values():
        arm["name"] = arm_name(arm)
        arm["epochs"] = budget / arm["unique_tokens"] if arm["unique_tokens"] else None
    return {
        "arms": arms,
        "seeds": [r["seed"] for r in arms["A"]["runs"]],
        "config": config,
        "model_config": first["run"]["model_config"],
        "train_tokens_per_run": budget,
        "tokenizer_hash": arms["A"]["tokenizer_hash"],
        "split": split,
        "slices": {
            name: {"docs": first["eval"][name]["docs"], "chars": first["eval"][name]["chars"]} for name in slices
        },
        "bits_per_char": {name: compare(arms, name) for name in slices},
        "quoted_slice": quote,
    }


def _cell(s: dict) -> str:
    return f"{s['mean']:.4f} ± {s['std']:.4f} [{s['min']:.4f}, {s['max']:.4f}]"


def markdown_table(report: dict) -> str:
    a, b = (report["arms"][k]["name"] for k in ARMS)
    n = len(report["seeds"])
    lines = [
        f"| slice | A: {a} | B: {b} | B−A (paired by seed) | verdict |",
        "|---|---|---|---|---|",
    ]
    for name, c in report["bits_per_char"].items():
        mark = " (quoted)" if name == report["quoted_slice"] else ""
        cells = [f"{name}{mark}", _cell(c["A"]), _cell(c["B"]), _cell(c["B_minus_A"]), c["verdict"]]
        lines.append("| " + " | ".join(cells) + " |")
    arms = report["arms"]
    lines.append("")
    lines.append(
        f"Bits per character, mean ± sample std [min, max] over {n} seeds; "
        f"{report['train_tokens_per_run']:,} training tokens per run; "
        f"A kept {arms['A']['docs']:,} documents ({arms['A']['unique_tokens']:,} tokens), "
        f"B {arms['B']['docs']:,} ({arms['B']['unique_tokens']:,} tokens)."
    )
    return "\n".join(lines)


def plot(report: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [f"{k}: {report['arms'][k]['name']}" for k in ARMS]
    if any(not name.isascii() for name in names):
        from curate.report.fonts import use_cjk_font

        use_cjk_font()
    slices = list(report["bits_per_char"])
    fig, (arms, diffs, curves) = plt.subplots(1, 3, figsize=(16, 4.5))
    colors = ("#4c72b0", "#dd8452")
    # markers, not bars from zero: the arms differ in the second decimal
    for i, (k, label) in enumerate(zip(ARMS, names)):
        xs = [j + (i - 0.5) * 0.3 for j in range(len(slices))]
        stats = [report["bits_per_char"][s][k] for s in slices]
        arms.errorbar(
            xs,
            [s["mean"] for s in stats],
            yerr=[s["std"] for s in stats],
            fmt="o",
            capsize=4,
            color=colors[i],
            label=label,
        )
        for x, s in zip(xs, stats):
            arms.scatter([x + 0.06] * len(s["values"]), s["values"], color=colors[i], s=10, alpha=0.6)
        for run in report["arms"][k]["runs"]:
            curves.plot(range(1, len(run["losses"]) + 1), run["losses"], color=colors[i], alpha=0.6, lw=1)
    diff = [report["bits_per_char"][s]["B_minus_A"] for s in slices]
    diffs.errorbar(
        range(len(slices)), [d["mean"] for d in diff], yerr=[d["std"] for d in diff], fmt="o", capsize=4, color="black"
    )
    for j, d in enumerate(diff):
        diffs.scatter([j + 0.08] * len(d["values"]), d["values"], color="grey", s=10)
    diffs.axhline(0, color="grey", lw=0.8, ls="--")
    diffs.set_xticks(range(len(slices)), slices)
    diffs.set_xlim(-0.5, len(slices) - 0.5)
    diffs.set_ylabel("B − A bits per character (paired by seed)")
    arms.set_xticks(range(len(slices)), slices)
    arms.set_ylabel("bits per character (mean ± std, dots: seeds)")
    arms.legend()
    curves.set_xlabel("step")
    curves.set_ylabel("training loss (nats per token)")
    curves.set_title("training loss, one line per seed")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_text(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def write_report(report: dict, out: str) -> str:
    """OUT/ablate.json, OUT/ablate.md, OUT/ablate.png (each written whole, then renamed);
    returns the Markdown table."""
    os.makedirs(out, exist_ok=True)
    table = markdown_table(report)
    for name, write in (
        ("ablate.json", lambda p: write_text(p, json.dumps(report, indent=2, ensure_ascii=False))),
        ("ablate.md", lambda p: write_text(p, table + "\n")),
        ("ablate.png", lambda p: plot(report, p)),
    ):
        tmp = os.path.join(out, f".{name}.tmp{os.path.splitext(name)[1]}")
        write(tmp)
        os.replace(tmp, os.path.join(out, name))
    return table
