"""`curate score`: the perplexity of every document of curated shards under a trained model.

    curate score --model out/train/tiny --input out/corpus/ko --output out/score/ko

reads INPUT/shards/*.parquet (or INPUT/*.parquet), and writes for each shard a Parquet
file of the same name under OUTPUT with `id, perplexity, bits_per_char, tokens` per
document, in the shard's order (each written under a temporary name, then renamed);
then prints how many documents it scored, how fast, and the quantiles of both scores.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from train.inference import ModelLoadError, load_lm, pick_device
from train.score import score_texts

SCORE_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string()),
        pa.field("perplexity", pa.float64()),
        pa.field("bits_per_char", pa.float64()),
        pa.field("tokens", pa.int64()),
    ]
)
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def shard_files(folder: str) -> list[str]:
    """The Parquet shards of a curated folder (its shards/) or of a folder of shards."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder}: no such folder")
    inner = os.path.join(folder, "shards")
    found = sorted(glob.glob(os.path.join(inner if os.path.isdir(inner) else folder, "*.parquet")))
    if not found:
        raise FileNotFoundError(f"{folder}: no Parquet shards (neither shards/*.parquet nor *.parquet)")
    return found


def score_shard(lm, path: str, out_path: str, batch_docs: int) -> pa.Table:
    """Score one shard into out_path (temporary name, then rename); returns the scores."""
    parts = []
    pf = pq.ParquetFile(path)
    if not {"id", "text"} <= set(pf.schema_arrow.names):
        raise ValueError(f"a shard needs the columns id and text, has {', '.join(pf.schema_arrow.names)}")
    for batch in pf.iter_batches(batch_size=batch_docs, columns=["id", "text"]):
        scores = score_texts(lm, [t or "" for t in batch.column("text").to_pylist()])
        parts.append(
            pa.table(
                [
                    batch.column("id"),
                    pa.array([s.perplexity for s in scores], pa.float64()),
                    pa.array([s.bits_per_char for s in scores], pa.float64()),
                    pa.array([s.tokens for s in scores], pa.int64()),
                ],
                schema=SCORE_SCHEMA,
            )
        )
    table = pa.concat_tables(parts) if parts else SCORE_SCHEMA.empty_table()
    tmp = f"{out_path}.tmp-{os.getpid()}"
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, out_path)
    return table


def summary(tables: list[pa.Table], seconds: float) -> str:
    """Documents, documents per second, and the quantiles of both scores."""
    docs = sum(t.num_rows for t in tables)
    lines = [f"{docs:,} documents in {seconds:.1f} s ({docs / max(seconds, 1e-9):,.1f} documents/s)"]
    for column in ("perplexity", "bits_per_char"):
        values = np.concatenate([t.column(column).to_numpy(zero_copy_only=False) for t in tables] or [np.empty(0)])
        values = values[~np.isnan(values.astype(np.float64))]
        if len(values):
            qs = "  ".join(f"p{round(q * 100)} {v:.3f}" for q, v in zip(QUANTILES, np.quantile(values, QUANTILES)))
            lines.append(f"{column}: {qs}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="curate score", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="a checkpoint, training run (OUT/train/SIZE) or HF export folder")
    ap.add_argument("--input", required=True, metavar="DIR", help="a curated folder, or a folder of Parquet shards")
    ap.add_argument("--output", required=True, metavar="DIR", help="where the score files go (one per shard)")
    ap.add_argument("--device", default="auto", help="auto (CUDA where there is one), cpu, cuda or cuda:N")
    ap.add_argument("--batch-docs", type=int, default=1024, help="documents read and scored at a time")
    args = ap.parse_args(argv)
    try:
        shards = shard_files(args.input)
        lm = load_lm(args.model, pick_device(args.device))
    except (FileNotFoundError, ModelLoadError) as exc:
        print(f"curate score: error: {exc}", file=sys.stderr)
        return 2
    os.makedirs(args.output, exist_ok=True)
    start, tables = time.perf_counter(), []
    for path in shards:
        try:
            tables.append(score_shard(lm, path, os.path.join(args.output, os.path.basename(path)), args.batch_docs))
        except (ValueError, OSError, pa.ArrowException) as exc:
            print(f"curate score: error: {path}: {exc}", file=sys.stderr)
            return 2
    print(summary(tables, time.perf_counter() - start))
    print(f"scores of {len(shards)} shard(s) on {lm.device} -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
