"""Per-batch dedup keys: MinHash signatures of texts, their bodies and their lines.

Pure functions of a batch of texts and the settings; pass 1 runs them on the workers
(curate/dedup/duplicates.py), evaluations and benches on plain texts.
"""

from __future__ import annotations

from itertools import compress

import numpy as np
import pyarrow as pa

from curate.dedup.boilerplate import core_lines, exact_and_line_hashes, kept_line_masks
from curate.dedup.exact import fold
from curate.dedup.line_keys import LineHashes, hashed_lines
from curate.dedup.minhash import signatures
from curate.dedup.settings import DedupSettings
from curate.dedup.shingles import shingle_config, shingle_hashes

_MAX_CHARS_PER_PASS = 4_000_000  # bounds the scratch arrays of one shingling pass


def minhash_type(num_perm: int) -> pa.DataType:
    return pa.list_(pa.uint32(), num_perm)


def to_fixed_list(sigs: np.ndarray) -> pa.FixedSizeListArray:
    return pa.FixedSizeListArray.from_arrays(pa.array(sigs.reshape(-1), type=pa.uint32()), sigs.shape[1])


def from_fixed_list(col) -> np.ndarray:
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    width = col.type.list_size
    flat = col.flatten()
    return np.asarray(flat.to_numpy(zero_copy_only=False), dtype=np.uint32).reshape(-1, width)


def text_signatures(texts: list[str], s: DedupSettings, lang: str, folded: list[str] | None = None) -> np.ndarray:
    """MinHash signatures of the texts; ``folded``: their folds, when the caller has them."""
    sh = shingle_config(s.shingles, lang)
    out, start = [], 0
    while start < len(texts) or not out:
        end, size = start, 0
        while end < len(texts) and (end == start or size + len(texts[end]) <= _MAX_CHARS_PER_PASS):
            size += len(texts[end])
            end += 1
        hashes, offsets = shingle_hashes(
            texts[start:end], sh["kind"], sh["n"], sh.get("hash", "poly"), None if folded is None else folded[start:end]
        )
        out.append(signatures(hashes, offsets, s.num_perm, s.seed, s.scheme))
        start = end
        if end >= len(texts):
            break
    return np.concatenate(out) if out else np.empty((0, s.num_perm), np.uint32)


def core_columns(texts: list[str], s: DedupSettings, lang: str, folds: list[str] | None = None) -> dict[str, pa.Array]:
    """``core_minhash`` and ``core_chars`` of each text's body (see core_text); a text
    with no short edge line gets an empty signature (all 0xFFFFFFFF) and 0 characters.
    ``folds``: the texts' folds, when the caller has them (a body is whole lines, so its
    fold is their folds joined, unless stripping its ends took something)."""
    have, bodies, body_folds = [], [], []
    for k, text in enumerate(texts):
        span = core_lines(text, s.core_ratio, s.core_max_edge) if text and "\n" in text else None
        if span is None:
            continue
        lines, i, j = span
        joined = "\n".join(lines[i:j])
        body = joined.strip()
        if not body:
            continue
        have.append(k)
        bodies.append(body)
        same = folds is not None and len(body) == len(joined)
        body_folds.append("\n".join(folds[k].split("\n")[i:j]) if same else fold(body))
    sigs = np.full((len(texts), s.num_perm), 0xFFFFFFFF, dtype=np.uint32)
    chars = np.zeros(len(texts), dtype=np.int64)
    if have:
        sigs[have] = text_signatures(bodies, s, lang, body_folds)
        chars[have] = [len(b) for b in bodies]
    return {"core_minhash": to_fixed_list(sigs), "core_chars": pa.array(chars, pa.int64())}


def keys_for_texts(
    texts: list[str],
    ids: list[str],
    s: DedupSettings,
    lang: str,
    rows: np.ndarray | None = None,
    quality: list | None = None,
) -> pa.Table:
    """The global-dedup keys (see ``cluster``) of plain texts: for evaluations and benches."""
    n = len(texts)
    keys = dedup_keys(pa.table({"id": pa.array(ids, pa.string()), "text": pa.array(texts, pa.string())}), s, lang)
    return pa.table(
        {
            "row": pa.array(np.arange(n) if rows is None else rows, pa.int64()),
            "id": keys.column("id"),
            "text_hash": keys.column("text_hash"),
            "minhash": keys.column("minhash"),
            "quality_score": pa.array(quality if quality is not None else [None] * n, pa.float32()),
            "n_chars": pa.array([len(t) for t in texts], pa.int64()),
            "line_hashes": keys.column("line_hashes"),
            **{name: keys.column(name) for name in ("core_minhash", "core_chars") if s.core_links},
        }
    )


def dedup_keys(table: pa.Table, s: DedupSettings, lang: str) -> pa.Table:
    """``id``, ``text_hash``, ``minhash`` (fixed_size_list<uint32>[num_perm]),
    ``line_hashes`` and, with core links on, ``core_minhash`` and ``core_chars`` for
    every row given. Each text is folded once for all of them."""
    texts = [t or "" for t in table.column("text").to_pylist()]
    folded = [fold(t) for t in texts]
    text_hash, line_hashes = exact_and_line_hashes(texts, folded)
    return pa.table(
        {
            "id": table.column("id").cast(pa.string()),
            "text_hash": pa.array(text_hash, pa.uint64()),
            "minhash": to_fixed_list(text_signatures(texts, s, lang, folded)),
            "line_hashes": line_hashes,
            **(core_columns(texts, s, lang, folded) if s.core_links else {}),
        }
    )


def stripped_keys(
    texts: list[str],
    rows,
    boilerplate: tuple[np.ndarray, np.ndarray],
    s: DedupSettings,
    lang: str,
    folded: tuple[list[str], LineHashes] | None = None,
) -> pa.Table:
    """row, minhash and n_chars (and the core columns, with core links on) of the texts
    without their boilerplate lines (sorted hashes and cluster counts), for the rows
    where a line was stripped. ``folded``: the texts' folds and line hashes
    (``folds_and_lines``), when the caller has them. A text is folded once: its fold's
    lines are its lines' folds, so the stripped text's fold is the kept lines' folds joined."""
    texts = [text or "" for text in texts]
    folds, lines = folded or folds_and_lines(texts)
    out_rows, out_texts, out_folds, out_chars = [], [], [], []
    for row, text, text_fold, keep in zip(rows, texts, folds, kept_line_masks(lines, boilerplate)):
        if keep is None:
            continue
        keep = keep.tolist()
        stripped = "\n".join(compress(text.split("\n"), keep))
        out_rows.append(int(row))
        out_texts.append(stripped)
        out_folds.append("\n".join(compress(text_fold.split("\n"), keep)))
        # A page that was mostly chrome is judged by its content's length (a caption
        # in a site frame takes the short-text threshold); a title line less does
        # not move a paragraph across that boundary.
        out_chars.append(len(stripped) if 2 * len(stripped) <= len(text) else len(text))
    return pa.table(
        {
            "row": pa.array(out_rows, pa.int64()),
            "minhash": to_fixed_list(text_signatures(out_texts, s, lang, out_folds))
            if out_texts
            else pa.array([], minhash_type(s.num_perm)),
            "n_chars": pa.array(out_chars, pa.int64()),
            **(core_columns(out_texts, s, lang, out_folds) if s.core_links else {}),
        }
    )


def folds_and_lines(texts: list[str]) -> tuple[list[str], LineHashes]:
    """Each text's fold (curate.dedup.exact.fold) and its lines' hashes (``hashed_lines``)."""
    folds = [fold(t or "") for t in texts]
    return folds, hashed_lines(folds)[0]


def scatter_signatures(sigs, idx: np.ndarray, n_rows: int, fill: int = 0) -> pa.FixedSizeListArray:
    """Signatures of the rows at idx placed in a column of n_rows (the others ``fill``)."""
    sigs = sigs.combine_chunks() if isinstance(sigs, pa.ChunkedArray) else sigs
    width = sigs.type.list_size
    flat = np.full((n_rows, width), fill, dtype=np.uint32)
    if len(idx):
        flat[idx] = sigs.flatten().to_numpy().reshape(len(idx), width)
    return pa.FixedSizeListArray.from_arrays(pa.array(flat.ravel(), pa.uint32()), width)
