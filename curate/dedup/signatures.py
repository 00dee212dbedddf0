"""Per-batch dedup keys: MinHash signatures of texts, their bodies and their lines.

Pure functions of a batch of texts and the settings; pass 1 runs them on the workers
(curate/dedup/duplicates.py), evaluations and benches on plain texts.
"""

from __future__ import annotations

from itertools import compress
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from curate.dedup.boilerplate import core_lines, exact_and_line_hashes, kept_line_masks
from curate.dedup.exact import fold
from curate.dedup.line_keys import LineHashes, hashed_lines, text_slices, weights_of
from curate.dedup.minhash import signatures
from curate.dedup.settings import DedupSettings
from curate.dedup.shingles import shingle_config, shingle_hashes, span_shingles

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
    if sh.get("hash", "poly") != "poly":  # the compatibility hash of the scalar reference
        return _signed_chunks(texts, sh, s, lambda chunk, start: (shingle_hashes(chunk, sh["kind"], sh["n"], "sha1"),))
    folded = folded if folded is not None else [fold(t) for t in texts]
    return _signed_chunks(folded, sh, s, lambda chunk, start: (span_shingles(chunk, sh["kind"], sh["n"])[:2],))


def _signed_chunks(texts: list[str], sh: dict, s: DedupSettings, shingle, spans=None):
    """Signatures of the texts in passes of at most _MAX_CHARS_PER_PASS characters;
    ``shingle(chunk, start)`` gives ((hashes, offsets), and with ``spans`` the spans'
    shingle ranges). With spans (fold index, first, end character; ascending), also the
    spans' signatures and which spans have them (see span_shingles)."""
    sigs, span_sigs, span_ok, start = [], [], [], 0
    for chunk in text_slices(texts, _MAX_CHARS_PER_PASS):
        (hashes, offsets), *found = shingle(chunk, start)
        start += len(chunk)
        if spans is None:
            sigs.append(signatures(hashes, offsets, s.num_perm, s.seed, s.scheme))
        else:
            lo, hi = found[0]
            ok = lo >= 0
            doc_sigs, range_sigs = signatures(hashes, offsets, s.num_perm, s.seed, s.scheme, (lo[ok], hi[ok]))
            sigs.append(doc_sigs)
            full = np.full((len(lo), s.num_perm), 0xFFFFFFFF, np.uint32)
            full[ok] = range_sigs
            span_sigs.append(full)
            span_ok.append(ok)
    empty = np.empty((0, s.num_perm), np.uint32)
    out = np.concatenate(sigs) if sigs else empty
    if spans is None:
        return out
    return (
        out,
        np.concatenate(span_sigs) if span_sigs else empty,
        np.concatenate(span_ok) if span_ok else np.empty(0, bool),
    )


class Body(NamedTuple):
    """A text's body (core_text): the text's index, the body, its fold (None where the
    texts' folds were not given) and its character span in the text's fold (None where
    stripping its ends took something, or without folds)."""

    index: int
    text: str
    fold: str | None
    span: tuple[int, int] | None


def _bodies(texts: list[str], s: DedupSettings, folds: list[str] | None) -> list[Body]:
    """The body of each text that has one."""
    out = []
    multi = [k for k, text in enumerate(texts) if text and "\n" in text]
    for k, sizes in zip(multi, weights_of([texts[k] for k in multi])):
        text = texts[k]
        span = core_lines(text, s.core_ratio, s.core_max_edge, sizes)
        if span is None:
            continue
        lines, i, j = span
        joined = "\n".join(lines[i:j])
        body = joined.strip()
        if not body:
            continue
        if folds is None or len(body) != len(joined):
            out.append(Body(k, body, None if folds is None else fold(body), None))
            continue
        parts = folds[k].split("\n")
        first = sum(map(len, parts[:i])) + i
        body_fold = "\n".join(parts[i:j])
        out.append(Body(k, body, body_fold, (first, first + len(body_fold))))
    return out


def core_columns(texts: list[str], s: DedupSettings, lang: str, folds: list[str] | None = None) -> dict[str, pa.Array]:
    """``core_minhash`` and ``core_chars`` of each text's body (see core_text); a text
    with no short edge line gets an empty signature (all 0xFFFFFFFF) and 0 characters.
    ``folds``: the texts' folds, when the caller has them (a body is whole lines, so its
    fold is their folds joined, unless stripping its ends took something)."""
    bodies = _bodies(texts, s, folds)
    sigs = text_signatures([b.text for b in bodies], s, lang, None if folds is None else [b.fold for b in bodies])
    return _core_table(len(texts), s, bodies, sigs)


def _core_table(n: int, s: DedupSettings, bodies: list[Body], sigs: np.ndarray) -> dict[str, pa.Array]:
    out = np.full((n, s.num_perm), 0xFFFFFFFF, dtype=np.uint32)
    chars = np.zeros(n, dtype=np.int64)
    if bodies:
        have = [b.index for b in bodies]
        out[have] = sigs
        chars[have] = [len(b.text) for b in bodies]
    return {"core_minhash": to_fixed_list(out), "core_chars": pa.array(chars, pa.int64())}


def signed_columns(texts: list[str], s: DedupSettings, lang: str, folds: list[str]) -> dict[str, pa.Array]:
    """``minhash`` of the texts and, with core links on, ``core_minhash`` and
    ``core_chars`` (as text_signatures and core_columns give them), from their folds.
    A body that is whole lines of its fold takes its signature from the text's permuted
    shingles (its shingles are a range of them); the others are shingled on their own."""
    sh = shingle_config(s.shingles, lang)
    if not s.core_links or sh.get("hash", "poly") != "poly":
        core = core_columns(texts, s, lang, folds) if s.core_links else {}
        return {"minhash": to_fixed_list(text_signatures(texts, s, lang, folds)), **core}
    bodies = _bodies(texts, s, folds)
    spanned = [b for b in bodies if b.span is not None]
    spans = (
        np.array([b.index for b in spanned], np.int64),
        np.array([b.span[0] for b in spanned], np.int64),
        np.array([b.span[1] for b in spanned], np.int64),
    )

    def shingle(chunk, start):
        at = slice(*np.searchsorted(spans[0], [start, start + len(chunk)]))
        hashes, offsets, ranges = span_shingles(
            chunk, sh["kind"], sh["n"], (spans[0][at] - start, spans[1][at], spans[2][at])
        )
        return (hashes, offsets), ranges

    sigs, span_sigs, ok = _signed_chunks(folds, sh, s, shingle, spans)
    body_sigs = np.empty((len(bodies), s.num_perm), np.uint32)
    from_span = np.array([b.span is not None for b in bodies], bool)
    from_span[from_span] = ok
    body_sigs[from_span] = span_sigs[ok]
    rest = np.flatnonzero(~from_span)
    if len(rest):
        body_sigs[rest] = text_signatures([bodies[i].text for i in rest], s, lang, [bodies[i].fold for i in rest])
    return {"minhash": to_fixed_list(sigs), **_core_table(len(texts), s, bodies, body_sigs)}


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


def dedup_keys(table: pa.Table, s: DedupSettings, lang: str, all_lines: bool = False) -> pa.Table:
    """``id``, ``text_hash``, ``minhash`` (fixed_size_list<uint32>[num_perm]),
    ``line_hashes`` and, with core links on, ``core_minhash`` and ``core_chars`` for
    every row given; with ``all_lines`` every line's hash too (``ALL_LINE_COLUMNS``).
    Each text is folded once for all of them."""
    texts = [t or "" for t in table.column("text").to_pylist()]
    folded = [fold(t) for t in texts]
    text_hash, line_hashes, lines = exact_and_line_hashes(texts, folded)
    signed = signed_columns(texts, s, lang, folded)
    return pa.table(
        {
            "id": table.column("id").cast(pa.string()),
            "text_hash": pa.array(text_hash, pa.uint64()),
            "minhash": signed.pop("minhash"),
            "line_hashes": line_hashes,
            **signed,
            **(lines.columns() if all_lines else {}),
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
    if out_texts:
        signed = signed_columns(out_texts, s, lang, out_folds)
    else:
        signed = {
            "minhash": pa.array([], minhash_type(s.num_perm)),
            **(core_columns([], s, lang) if s.core_links else {}),
        }
    return pa.table(
        {
            "row": pa.array(out_rows, pa.int64()),
            "minhash": signed.pop("minhash"),
            "n_chars": pa.array(out_chars, pa.int64()),
            **signed,
        }
    )


def folds_and_lines(texts: list[str], lines: LineHashes | None = None) -> tuple[list[str], LineHashes]:
    """Each text's fold (curate.dedup.exact.fold) and its lines' hashes (``hashed_lines``
    of the folds, unless ``lines`` has them)."""
    folds = [fold(t or "") for t in texts]
    return folds, hashed_lines(folds)[0] if lines is None else lines


def scatter_signatures(sigs, idx: np.ndarray, n_rows: int, fill: int = 0) -> pa.FixedSizeListArray:
    """Signatures of the rows at idx placed in a column of n_rows (the others ``fill``)."""
    sigs = sigs.combine_chunks() if isinstance(sigs, pa.ChunkedArray) else sigs
    width = sigs.type.list_size
    flat = np.full((n_rows, width), fill, dtype=np.uint32)
    if len(idx):
        flat[idx] = sigs.flatten().to_numpy().reshape(len(idx), width)
    return pa.FixedSizeListArray.from_arrays(pa.array(flat.ravel(), pa.uint32()), width)


def scatter_lists(lists, idx: np.ndarray, n_rows: int) -> pa.ListArray:
    """The lists of the rows at idx placed in a column of n_rows (the others empty)."""
    lists = lists.combine_chunks() if isinstance(lists, pa.ChunkedArray) else lists
    lengths = np.zeros(n_rows, dtype=np.int64)
    lengths[idx] = lists.value_lengths().fill_null(0).to_numpy(zero_copy_only=False)
    offsets = pa.array(np.r_[0, np.cumsum(lengths)].astype(np.int32))
    return pa.ListArray.from_arrays(offsets, lists.flatten(), type=lists.type)
