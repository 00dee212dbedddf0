"""Dedup settings: the recipe's ``dedup`` section checked once and frozen.

Every dedup function takes a ``DedupSettings`` (built by ``settings``), never the raw
recipe mapping, so a setting is validated and its banding derived in one place.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from curate.dedup.minhash import optimal_bands

DEFAULTS = {
    "exact": True,
    "near": True,
    # Verified Jaccard to link two documents. Unrelated pairs stay < 0.12
    # (bench/dedup_shingles.py); a short text with boilerplate lines or 5% of its
    # characters changed sits near 0.65-0.7, where a 128-slot estimate (spread ~0.04)
    # falls under 0.6 a few percent of the time: 0.55 finds them all (tests/test_dedup_eval.py).
    "threshold": 0.55,
    "lsh_threshold": 0.4,  # given without bands/rows: datasketch's optimal banding for it
    "num_perm": 128,
    # Below ~50 characters a text is mostly template: captions and one-line reviews that
    # differ by one word score 0.6-0.7 (JGLUE: 男性がスケートボードをしています。 vs
    # ヘルメットをつけた男性が…), so a pair with a text that short needs 0.8. Spacing and
    # punctuation edits fold away and 10% truncation keeps ~0.85, so those still link.
    "short_chars": 50,
    "short_threshold": 0.8,
    "seed": 1,
    "scheme": "affine32",  # datasketch >= 2 default; "legacy" for datasketch < 2 sketches
    # 32 bands x 4 rows (datasketch's optimum for 0.4 at 128): P(candidate) 0.95 at
    # J = 0.55, 0.988 at 0.6, 0.9995 at 0.68.
    "bands": 32,
    "rows": 4,
    "max_bucket_all_pairs": 16,  # larger buckets are linked as a star + chain
    # Hash partitions per shuffle in curate/dedup/near_ray.py: one per partition_docs
    # documents (a reducer holds about that many documents' keys, whatever the corpus
    # size; ~4.8 KB of working memory each, so 10,000 add ~50 MB to a worker's ~105 MB,
    # bench/scale.py --by-task), or exactly ``partitions`` when that is set.
    "partitions": None,
    "partition_docs": 10_000,
    # The pair joins take more partitions where the candidate pairs exceed this many per
    # partition: a corpus dense in near duplicates. A joined pair carries up to four
    # 512-byte signatures (full and body, each side: ~2 KB), so 20,000 pairs keep a
    # join task under the document partitions' tasks (bench/scale.py --by-task).
    "partition_pairs": 20_000,
    # A corpus with at most this many live documents is decided without the shuffles
    # (curate/dedup/one_task.py: the same decision, one task holding every key); that
    # task's peak grew by 9.4 KB a document on review pages and 15 KB on short, much-copied
    # ones (keys, candidate graph, Parquet buffers): 2.1 GiB at 208,136 review pages, where
    # it decided in 55 s against 80 s for the shuffles (bench/cli.py --whole 10), up to
    # about 3.7 GB at this bound (bench/scale.py). 0: always the shuffles.
    "one_task_docs": 250_000,
    "shingles": None,  # per language, e.g. {ko: {kind: char, n: 4}}; null = curate.dedup.shingles defaults
    # dedup_texts (curate/dedup/near.py, for evaluations and benches) clusters on Ray above
    # this many texts when Ray is up; `curate corpus` always decides on Ray.
    "distributed_above_docs": 2_000_000,
    # A line found in this many distinct first-pass clusters is boilerplate: documents
    # carrying it are re-signed without it and clustered again (curate/dedup/boilerplate.py).
    # Site chrome recurs in hundreds; 3 already works on the audit sets, 5 leaves a
    # margin for a short page copied to a few sites. 0 turns the second pass off.
    "boilerplate_clusters": 5,
    # Each multi-line page is also signed on its body without short edge lines
    # (curate.dedup.boilerplate.core_text): chrome too rare to count as boilerplate (a byline,
    # one site's tag line) still lets a short page link to a bare copy of itself. A body
    # links only to another page's full signature, never to another body, so two pages
    # of one site cannot meet through what is left of their frames.
    "core_links": True,
    "core_ratio": 0.7,
    "core_max_edge": 80,
    # Two pages that match on their full texts but whose bodies share less than this
    # match on their frame: a small site whose chrome outweighs its short pages (too few
    # pages for the chrome to count as boilerplate). Such a pair is not linked; a copy
    # with edits or other chrome keeps its body. 0 turns the check off.
    "frame_threshold": 0.2,
}

_UNIT_INTERVAL = ("threshold", "lsh_threshold", "short_threshold", "frame_threshold", "core_ratio")
_POSITIVE_INTS = ("num_perm", "max_bucket_all_pairs", "partitions", "partition_docs", "partition_pairs")
_COUNTS = (
    "one_task_docs",
    "distributed_above_docs",
    "boilerplate_clusters",
    "short_chars",
    "core_max_edge",
)  # 0 allowed


@dataclass(frozen=True)
class DedupSettings:
    """The checked ``dedup`` settings (see DEFAULTS for what each one does)."""

    exact: bool
    near: bool
    threshold: float
    lsh_threshold: float
    num_perm: int
    short_chars: int
    short_threshold: float
    seed: int
    scheme: str
    bands: int
    rows: int
    max_bucket_all_pairs: int
    partitions: int | None
    partition_docs: int
    partition_pairs: int
    one_task_docs: int
    shingles: dict | None
    distributed_above_docs: int
    boilerplate_clusters: int
    core_links: bool
    core_ratio: float
    core_max_edge: int
    frame_threshold: float

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def settings(cfg: dict | None = None) -> DedupSettings:
    """The recipe's dedup section over DEFAULTS; ValueError names a wrong setting."""
    unknown = sorted(set(cfg or {}) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(unknown)} (known: {', '.join(sorted(DEFAULTS))})")
    out = {**DEFAULTS, **{k: v for k, v in (cfg or {}).items() if v is not None}}
    for key in _UNIT_INTERVAL:
        if not isinstance(out[key], (int, float)) or isinstance(out[key], bool) or not 0 <= out[key] <= 1:
            raise ValueError(f"{key} must be a number from 0 to 1, got {out[key]!r}")
    for key in _POSITIVE_INTS + ("bands", "rows"):
        if out[key] is not None and (not isinstance(out[key], int) or isinstance(out[key], bool) or out[key] < 1):
            raise ValueError(f"{key} must be a positive whole number, got {out[key]!r}")
    for key in _COUNTS:
        if not isinstance(out[key], int) or isinstance(out[key], bool) or out[key] < 0:
            raise ValueError(f"{key} must be a whole number >= 0, got {out[key]!r}")
    given = cfg or {}
    banding_given = given.get("bands") or given.get("rows")
    if not banding_given and ("lsh_threshold" in given or out["bands"] * out["rows"] > out["num_perm"]):
        out["bands"] = out["rows"] = None  # datasketch's optimum for the given threshold / signature
    if not out.get("bands") or not out.get("rows"):
        out["bands"], out["rows"] = optimal_bands(out["lsh_threshold"], out["num_perm"])
    if out["bands"] * out["rows"] > out["num_perm"]:
        raise ValueError("bands x rows must not exceed num_perm")
    return DedupSettings(**out)
