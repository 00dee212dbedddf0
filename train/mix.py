"""Several tokenized corpora (token shards, one tokenizer) -> one training mixture with a
held-out slice per language and source. See train.mixture for the sampling and
train.mix_stream for the folder it writes and how the trainer reads it.

    python -m train.mix --sources out/tokens/ko,out/tokens/ja --alpha 0.3 --out out/mix/ko-ja
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shutil
import sys
import uuid
from pathlib import Path

import numpy as np

from curate.io.fs import sha256
from train.mix_stream import SourceDocs, read_source
from train.mixture import SourceCount, heldout_mask, id_key, language_shares, plan_mixture, take_documents
from train.tokenizer import swap_into_place

FORMAT_VERSION = 1


def source_names(paths: list[str]) -> list[str]:
    """Each source's folder name, made unique with its position where two are the same."""
    names = [Path(p).name for p in paths]
    return [n if names.count(n) == 1 else f"{n}-{i}" for i, n in enumerate(names)]


def source_lang(path: str, docs: SourceDocs, langs: list[str] | None) -> str:
    lang = docs.manifest.get("lang")
    if not lang:
        raise ValueError(f"{path}: the token manifest names no language (made before format 2): run make tokens")
    if langs and lang not in langs:
        raise ValueError(f"{path} is {lang}, not one of the languages asked for ({','.join(langs)})")
    return lang


def check_one_tokenizer(paths: list[str], docs: list[SourceDocs]) -> None:
    hashes = {d.manifest["tokenizer_hash"] for d in docs}
    if len(hashes) > 1:
        made = ", ".join(f"{p}: {d.manifest['tokenizer_hash'][:12]}" for p, d in zip(paths, docs))
        raise ValueError(f"the sources were tokenized with different tokenizers ({made}); make tokens with one")


def build_mixture(paths: list[str], out: str, **opts) -> dict:
    """The mixture of the token-shard folders `paths`, written to `out`; returns its manifest.
    opts: langs, weights ({lang: w}) or alpha, caps ({name: tokens}), max_epochs, budget,
    heldout (fraction), heldout_max_tokens, seed."""
    docs = [read_source(p) for p in paths]
    check_one_tokenizer(paths, docs)
    names, seed = source_names(paths), opts.get("seed", 0)
    caps = opts.get("caps") or {}
    unknown = sorted(set(caps) - set(names))
    if unknown:
        raise ValueError(f"caps name unknown sources {', '.join(unknown)}; the sources are {', '.join(names)}")
    rows, counts = [], []
    for path, name, d in zip(paths, names, docs):
        keys = np.array([id_key(i) for i in d.ids], dtype=np.float64)
        held = heldout_mask(keys, d.doc_tokens, opts.get("heldout", 0.01), opts.get("heldout_max_tokens"))
        train = np.flatnonzero(~held)
        rows.append({"path": path, "name": name, "lang": source_lang(path, d, opts.get("langs")), "docs": d})
        rows[-1].update(keys=keys, held=np.flatnonzero(held), train=train)
        counts.append(SourceCount(name, rows[-1]["lang"], int(d.doc_tokens[train].sum()), caps.get(name)))
    by_lang = {}
    for c in counts:
        by_lang[c.lang] = by_lang.get(c.lang, 0) + c.tokens
    missing = sorted(set(opts.get("langs") or ()) - set(by_lang))
    if missing:
        raise ValueError(f"no source is in {', '.join(missing)}")
    shares = language_shares(by_lang, opts.get("alpha"), opts.get("weights"))
    targets = plan_mixture(counts, shares, opts.get("max_epochs", 4.0), opts.get("budget"))
    refs = []
    for k, (row, c) in enumerate(zip(rows, counts)):
        lengths = row["docs"].doc_tokens[row["train"]]
        taken = row["train"][take_documents(lengths, row["keys"][row["train"]], c.cap, targets[c.name], seed + k)]
        refs.append(np.column_stack([np.full(len(taken), k, dtype=np.int64), taken]))
        row.update(target=targets[c.name], taken=taken, offered=c.offered, cap=c.cap)
    order = np.concatenate(refs)
    order = order[np.random.default_rng(seed).permutation(len(order))]
    manifest = mixture_manifest(rows, shares, order, docs[0].manifest, opts)
    write_mixture(out, paths[0], order, rows, manifest)
    return manifest


def mixture_manifest(rows: list[dict], shares: dict, order: np.ndarray, first: dict, opts: dict) -> dict:
    sources = []
    for row in rows:
        d = row["docs"]
        taken = int(d.doc_tokens[row["taken"]].sum())
        sources.append(
            {
                "name": row["name"],
                "lang": row["lang"],
                "path": os.path.abspath(row["path"]),
                "manifest_sha256": sha256(os.path.join(row["path"], "manifest.json")),
                "curated_manifest_sha256": d.manifest.get("curated_manifest_sha256"),
                "n_docs": len(d.doc_tokens),
                "n_tokens": int(d.doc_tokens.sum()),
                "heldout": f"heldout/{row['lang']}-{row['name']}.npy",
                "heldout_docs": len(row["held"]),
                "heldout_tokens": int(d.doc_tokens[row["held"]].sum()),
                "heldout_chars": int(d.chars[row["held"]].sum()),
                "train_tokens": int(d.doc_tokens[row["train"]].sum()),
                "cap": row["cap"],
                "offered_tokens": row["offered"],
                "target_tokens": round(row["target"]),
                "taken_tokens": taken,
                "taken_docs": len(row["taken"]),
                "epochs": taken / row["offered"] if row["offered"] else 0.0,
            }
        )
    total = sum(s["taken_tokens"] for s in sources)
    taken_by_lang = {lang: sum(s["taken_tokens"] for s in sources if s["lang"] == lang) for lang in shares}
    return {
        "kind": "mixture",
        "format_version": FORMAT_VERSION,
        "languages": {
            lang: {
                "share_asked": p,
                "share_taken": taken_by_lang[lang] / total if total else 0.0,
                "tokens": taken_by_lang[lang],
            }
            for lang, p in shares.items()
        },
        "weights": opts.get("weights"),
        "alpha": None if opts.get("weights") else opts.get("alpha"),
        "max_epochs": opts.get("max_epochs", 4.0),
        "budget": opts.get("budget"),
        "heldout_fraction": opts.get("heldout", 0.01),
        "heldout_max_tokens": opts.get("heldout_max_tokens"),
        "seed": opts.get("seed", 0),
        "n_tokens": total,
        "n_docs": len(order),
        "tokenizer_hash": first["tokenizer_hash"],
        "tokenizer_dir": "tokenizer",
        "vocab_size": first["vocab_size"],
        "eos_id": first["eos_id"],
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "sources": sources,
    }


def write_mixture(out: str, first_source: str, order: np.ndarray, rows: list[dict], manifest: dict) -> None:
    """The mixture folder, built aside and swapped in whole."""
    final = Path(out)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.parent / f".{final.name}.tmp-{uuid.uuid4().hex[:8]}"
    (staging / "heldout").mkdir(parents=True)
    try:
        src_manifest = json.loads((Path(first_source) / "manifest.json").read_text(encoding="utf-8"))
        shutil.copytree(Path(first_source) / src_manifest.get("tokenizer_dir", "tokenizer"), staging / "tokenizer")
        np.save(staging / "train.npy", order)
        for row, s in zip(rows, manifest["sources"]):
            np.save(staging / s["heldout"], row["held"].astype(np.int64))
        (staging / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        swap_into_place(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _pairs(text: str | None, what: str) -> dict[str, float]:
    out = {}
    for item in (text or "").split(","):
        if item.strip():
            key, sep, value = item.partition("=")
            if not sep:
                raise SystemExit(f"{what}: {item!r} is not NAME=VALUE")
            out[key.strip()] = float(value)
    return out


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python -m train.mix", description="token shards -> a training mixture")
    ap.add_argument("--sources", required=True, help="token-shard folders, comma-separated (one tokenizer)")
    ap.add_argument("--langs", default=None, help="the languages, in the order of --weights (default: the sources')")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--weights", default=None, help="each language's share, in --langs order (normalised)")
    group.add_argument("--alpha", type=float, default=None, help="shares by n^alpha (default 0.3, as mT5)")
    ap.add_argument("--caps", default=None, help="NAME=TOKENS,...: at most this many distinct tokens of a source")
    ap.add_argument("--max-epochs", type=float, default=4.0, help="no source repeated more often than this")
    ap.add_argument("--budget", type=int, default=None, help="at most this many training tokens in all")
    ap.add_argument("--heldout", type=float, default=0.01, help="fraction of each source's documents held out")
    ap.add_argument("--heldout-max-tokens", type=int, default=1_000_000, help="tokens per held-out slice, at most")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    langs = [lang.strip() for lang in args.langs.split(",")] if args.langs else None
    weights = None
    if args.weights:
        values = [float(w) for w in args.weights.split(",")]
        if not langs or len(values) != len(langs):
            raise SystemExit(f"--weights {args.weights}: one weight per language of --langs ({args.langs})")
        weights = dict(zip(langs, values))
    caps = {k: int(v) for k, v in _pairs(args.caps, "--caps").items()}
    try:
        m = build_mixture(
            args.sources.split(","),
            args.out,
            langs=langs,
            weights=weights,
            alpha=0.3 if args.alpha is None and not weights else args.alpha,
            caps=caps,
            max_epochs=args.max_epochs,
            budget=args.budget,
            heldout=args.heldout,
            heldout_max_tokens=args.heldout_max_tokens,
            seed=args.seed,
        )
    except (ValueError, FileNotFoundError) as e:
        print(f"train.mix: error: {e}", file=sys.stderr)
        return 2
    for s in m["sources"]:
        print(
            f"{s['lang']}/{s['name']}: {s['taken_tokens']:,} of {s['train_tokens']:,} training tokens "
            f"({s['epochs']:.2f} epochs); held out {s['heldout_docs']} docs, {s['heldout_tokens']:,} tokens",
            file=sys.stderr,
        )
    shares = ", ".join(f"{k} {v['share_taken']:.3f} (asked {v['share_asked']:.3f})" for k, v in m["languages"].items())
    print(f"{m['n_tokens']:,} tokens -> {args.out}: {shares}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
