"""datatrove's 4-stage MinHash dedup (signatures, buckets, cluster, filter), as the
benches run it: Korean word tokenizer (kiwipiepy; model "cong" since "sbg" is no longer
shipped), sha1 hash (xxhash 4 rejects its str shingles), LocalPipelineExecutor with
`tasks` tasks and workers for the per-file stages.

As a whole process (what bench/cli.py times):

    .venv/bin/python bench/_datatrove.py INPUT_DIR WORK_DIR [--tasks 2]
"""

from __future__ import annotations

import argparse
from pathlib import Path


def minhash_dedup(in_dir: Path, work: Path, tasks: int = 2) -> None:
    """Dedup the JSONL files of `in_dir`: kept documents go to work/kept, removed ones
    (with their cluster ids) to work/removed."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter
    from datatrove.utils.hashing import HashConfig
    from datatrove.utils.word_tokenizers import KiwiTokenizer

    cfg = MinhashConfig(hash_config=HashConfig(hash_fc="sha1", precision=64))
    tok = KiwiTokenizer(model_type="cong")
    # logging_dir=None would make datatrove write ./logs/<timestamp> into the working tree
    common = dict(logging_dir=str(work / "logs"), skip_completed=False)
    LocalPipelineExecutor(
        pipeline=[
            JsonlReader(str(in_dir)),
            MinhashDedupSignature(output_folder=str(work / "sigs"), config=cfg, language=tok),
        ],
        tasks=tasks,
        workers=tasks,
        **common,
    ).run()
    LocalPipelineExecutor(
        pipeline=[
            MinhashDedupBuckets(input_folder=str(work / "sigs"), output_folder=str(work / "buckets"), config=cfg)
        ],
        tasks=cfg.num_buckets,
        workers=tasks,
        **common,
    ).run()
    LocalPipelineExecutor(
        pipeline=[
            MinhashDedupCluster(
                input_folder=str(work / "buckets"), output_folder=str(work / "remove"), config=cfg, save_cluster_id=True
            )
        ],
        tasks=1,
        workers=1,
        **common,
    ).run()
    LocalPipelineExecutor(
        pipeline=[
            JsonlReader(str(in_dir)),
            MinhashDedupFilter(
                input_folder=str(work / "remove"),
                load_cluster_ids=True,
                exclusion_writer=JsonlWriter(str(work / "removed"), compression=None),
            ),
            JsonlWriter(str(work / "kept"), compression=None),
        ],
        tasks=tasks,
        workers=tasks,
        **common,
    ).run()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("input_dir", type=Path)
    ap.add_argument("work_dir", type=Path)
    ap.add_argument("--tasks", type=int, default=2)
    args = ap.parse_args()
    minhash_dedup(args.input_dir, args.work_dir, args.tasks)
