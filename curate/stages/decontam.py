"""Benchmark decontamination: find evaluation text inside corpus documents.

Benchmark files (JSONL or Parquet) are cut into n-grams of *units*: normalized
characters for Korean/Japanese/Chinese (no reliable word boundaries, and Korean
spacing varies freely), words elsewhere. Each n-gram is a 64-bit hash kept in a
sorted numpy array per benchmark (or a Bloom filter for very large sets). A corpus
document is flagged for a benchmark when its matching n-grams cover a run of at
least ``min_match`` units (gaps of up to ``max_gap`` units bridged); it is then
dropped, or the run is cut out with a margin. Defaults and their reasons live in
pipelines/recipes/decontam/defaults.yaml.

Normalization makes spacing, punctuation and width variants match: invisible
format characters (zero-width space, soft hyphen, ...) removed and HTML character
references (&quot; &#39; &amp;quot;) decoded, NFC, then per code point NFKC +
casefold, keeping only letters, marks and digits (spaces, punctuation, symbols and
controls vanish), with half-width kana voicing marks re-composed. Every normalized
unit remembers its span in the original text, so a cut removes the right characters.

Hashing is vectorized over a whole batch: the batch's texts are joined into one
code point array, and all n-gram windows are hashed at once with a polynomial
hash built by doubling (h[2k] = h[k] * B^k + h[k] shifted by k), mod 2^64.
"""

from __future__ import annotations

import argparse
import gzip
import html
import io
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from curate.dedup.minhash import mix64
from curate.io import fs
from curate.io.schema import SHARD_SCHEMA
from curate.recipe import RECIPE_DIR
from curate.stages.base import live_mask, merge_drop_reasons, set_column

NAME = "decontam"
NORMALIZATION_VERSION = 3  # bump when _unit_table or hashing changes: old indexes then refuse to load
CHAR_LANGS = {"ko", "ja", "zh", "yue", "th", "lo", "km", "my"}  # scripts written without reliable word spaces

RECIPE_DEFAULTS = RECIPE_DIR / "decontam" / "defaults.yaml"
_defaults_cache: dict | None = None


def _defaults() -> dict:
    """The recipe snippet pipelines/recipes/decontam/defaults.yaml: every default with its reason."""
    global _defaults_cache
    if _defaults_cache is None:
        import yaml

        _defaults_cache = yaml.safe_load(RECIPE_DEFAULTS.read_text(encoding="utf-8"))
    return _defaults_cache


_B = np.uint64(0x100000001B3)  # odd multiplier (FNV-64 prime) for the polynomial hash
_MASK32 = np.uint64(0xFFFFFFFF)


# ---------------------------------------------------------------- normalization

_TABLE_SIZE = 0x20000  # BMP + SMP; planes 2-3 (CJK ideographs) map to themselves
_KANA_MARKS = (0x3099, 0x309A)  # combining voiced / semi-voiced marks (from half-width ﾞ ﾟ)
_table_cache: tuple | None = None
_ignorable_cache: dict | None = None


# Invisible format characters (zero-width space/joiners, soft hyphen, word joiner, BOM,
# bidi marks) and the invisible marks among default-ignorables (variation selectors,
# grapheme joiner): removed before composing, so one inserted between decomposed Hangul
# jamo (or a kana and its voicing mark, or inside &quot;) does not split the syllable.
# The Hangul fillers (U+115F, U+1160, U+3164 ㅤ, U+FFA0) are letters to Unicode but
# blank on screen: put where the spaces were, they would split every window.
_IGNORABLE_MARKS = {
    0x034F,
    0x115F,
    0x1160,
    0x17B4,
    0x17B5,
    *range(0x180B, 0x1810),
    0x3164,
    *range(0xFE00, 0xFE10),
    0xFFA0,
    *range(0xE0100, 0xE01F0),
}


def _ignorable(c: str) -> bool:
    return unicodedata.category(c) == "Cf" or ord(c) in _IGNORABLE_MARKS


# HTML character references left in extracted text (&quot; &amp; &#39; &#x27; &nbsp;),
# also double-escaped (&amp;quot;): read as the character they stand for, else a
# &quot; inside a copied passage adds 4 letters and splits the matched run. Named
# references need their ';' (a bare "&copy" is more often a URL parameter).
_ENTITY = re.compile(r"&(?:amp;)*(#[0-9]{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};)")


def _entity_char(m: re.Match) -> str:
    ref = "&" + m.group(1)
    s = html.unescape(ref)
    return m.group(0) if s == ref else s  # unknown name: left as written


def _clean_text(text: str) -> str:
    """Ignorables removed, references decoded, NFC: what _fix_with_offsets does, without offsets."""
    text = text.translate(_ignorable_map())
    if "&" in text:
        text = _ENTITY.sub(_entity_char, text)
    return unicodedata.normalize("NFC", text)


def _ignorable_map() -> dict:
    """{code point: None} for every ignorable: a str.translate table that deletes them."""
    global _ignorable_cache
    if _ignorable_cache is None:
        _ignorable_cache = {cp: None for cp in range(0x110000) if _ignorable(chr(cp))}
    return _ignorable_cache


def _normalize_char(c: str) -> str:
    if _ignorable(c):
        return ""
    if c in "\u30fc\uff70":  # kana length mark: ー ｰ are written as -, ～, － just as often
        return ""
    s = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", c).casefold())
    return "".join(ch for ch in s if unicodedata.category(ch)[0] in "LMN")


def _unit_table():
    """Per code point: (start into flat, length) of its normalized expansion."""
    global _table_cache
    if _table_cache is None:
        lens = np.zeros(_TABLE_SIZE, np.int64)
        starts = np.zeros(_TABLE_SIZE, np.int64)
        flat: list[int] = []
        for cp in range(_TABLE_SIZE):
            if 0xD800 <= cp <= 0xDFFF:
                continue
            out = _normalize_char(chr(cp))
            starts[cp] = len(flat)
            lens[cp] = len(out)
            flat.extend(map(ord, out))
        compose = np.zeros((0x100, 2), np.int64)  # kana + voicing mark -> composed kana
        for cp in range(0x3040, 0x3100):
            for j, mark in enumerate(_KANA_MARKS):
                s = unicodedata.normalize("NFC", chr(cp) + chr(mark))
                if len(s) == 1:
                    compose[cp - 0x3040, j] = ord(s)
        # Code points NFC may change: not NFC alone, combining, or the second half of a
        # canonical pair (Hangul vowel/final jamo, ...). Text without them is already NFC.
        nfc_maybe = np.zeros(_TABLE_SIZE, bool)
        for cp in range(_TABLE_SIZE):
            c = chr(cp)
            if 0xD800 <= cp <= 0xDFFF:
                continue
            if unicodedata.combining(c) or unicodedata.normalize("NFC", c) != c:
                nfc_maybe[cp] = True
            parts = unicodedata.decomposition(c).split()
            if len(parts) == 2 and not parts[0].startswith("<"):
                nfc_maybe[int(parts[1], 16)] = True
        nfc_maybe[0x1161:0x1176] = nfc_maybe[0x11A8:0x11C3] = True  # Hangul V, T jamo compose algorithmically
        nfc_maybe[0xAC00:0xD7A4] = False  # precomposed syllables (LV + T is covered by T)
        ignorable = np.zeros(_TABLE_SIZE, bool)
        ignorable[[cp for cp in _ignorable_map() if cp < _TABLE_SIZE]] = True
        _table_cache = (lens, starts, np.array(flat, np.int64), compose, nfc_maybe, ignorable)
    return _table_cache


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    """np.unique for an already sorted array (np.unique hashes or sorts again)."""
    return a[np.concatenate([[True], a[1:] != a[:-1]])] if len(a) else a


def _nfc_with_offsets(text: str) -> tuple[str, list[int], list[int]]:
    """NFC of a text, with each output char's (start, end) in the input.

    Composition happens within a cluster (a starter plus the combining marks or
    Hangul jamo after it), so each cluster is normalized on its own.
    """
    out, starts, ends = [], [], []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and (
            unicodedata.combining(text[j])
            or 0x1160 <= ord(text[j]) <= 0x11FF
            or (
                ord(text[j]) < _TABLE_SIZE
                and _unit_table()[4][ord(text[j])]
                and unicodedata.normalize("NFC", text[j]) == text[j]
            )
        ):
            j += 1
        piece = unicodedata.normalize("NFC", text[i:j])
        out.append(piece)
        starts.extend([i] * len(piece))
        ends.extend([j] * len(piece))
        i = j
    return "".join(out), starts, ends


def _decode_entities(text: str) -> tuple[str, np.ndarray, np.ndarray] | None:
    """``text`` with HTML character references decoded, with offsets; None when it has none."""
    pieces, starts, ends, pos = [], [], [], 0
    for m in _ENTITY.finditer(text):
        c = _entity_char(m)
        if c == m.group(0):
            continue
        a, b = m.span()
        pieces += [text[pos:a], c]
        starts += [np.arange(pos, a), np.full(len(c), a)]
        ends += [np.arange(pos + 1, a + 1), np.full(len(c), b)]
        pos = b
    if not pieces:
        return None
    pieces.append(text[pos:])
    starts.append(np.arange(pos, len(text)))
    ends.append(np.arange(pos + 1, len(text) + 1))
    return "".join(pieces), np.concatenate(starts), np.concatenate(ends)


def _fix_with_offsets(text: str, has_ignorable: bool = True) -> tuple[str, np.ndarray, np.ndarray] | None:
    """_clean_text(text) with each char's (start, end) in ``text``; None when it changes nothing.

    Three steps, each mapping offsets back through the one before: ignorables removed
    (so one inside a reference or between jamo is no obstacle), references decoded, NFC.
    ``has_ignorable``: False when the caller knows ``text`` has no ignorable.
    """
    s, st, en = text, None, None

    def compose(step):  # step: (new s, starts, ends) relative to s
        nonlocal s, st, en
        s, st2, en2 = step[0], np.asarray(step[1], np.int64), np.asarray(step[2], np.int64)
        st = st2 if st is None else st[st2]
        en = en2 if en is None else en[en2 - 1]

    if has_ignorable:
        cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
        small = cps < _TABLE_SIZE
        ign = np.zeros(len(cps), bool)
        ign[small] = _unit_table()[5][cps[small]]
        if not small.all():
            ign[~small] = [int(c) in _ignorable_map() for c in cps[~small]]
        if ign.any():
            keep = np.flatnonzero(~ign)
            compose((text.translate(_ignorable_map()), keep, keep + 1))
    if "&" in s and (dec := _decode_entities(s)) is not None:
        compose(dec)
    if not unicodedata.is_normalized("NFC", s):
        compose(_nfc_with_offsets(s))
    return None if st is None else (s, st, en)


@dataclass
class Units:
    """Normalized units of a batch of texts, all texts concatenated.

    values: one uint64 per unit (code point, or word hash); doc: which text;
    start/end: the unit's span in its own original text (code point offsets).
    """

    values: np.ndarray
    doc: np.ndarray
    start: np.ndarray
    end: np.ndarray


def _codepoints(texts: list[str]):
    """Code points of the joined NFC texts, with each one's span in the joined originals."""
    lengths = np.fromiter((len(t) for t in texts), np.int64, len(texts))
    doc_base = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
    joined = "\x00".join(texts)  # NUL is a control char: dropped, so it separates texts
    cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32).astype(np.int64)
    fixed = {}
    clipped = np.minimum(cps, _TABLE_SIZE - 1)
    maybe = _unit_table()[4][clipped] | (cps == 0x26)
    if maybe.any():
        # Rare: some text may not be NFC, or hold HTML character references. Fix it,
        # remembering where each char came from.
        def docs_of(mask):
            return _sorted_unique(np.searchsorted(doc_base, np.flatnonzero(mask), side="right") - 1)

        suspects = docs_of(maybe).tolist()
        ign_docs = set(docs_of(_unit_table()[5][clipped] | (cps >= 0xE0000)).tolist())
        fixed = {i: f for i in suspects if (f := _fix_with_offsets(texts[i], i in ign_docs)) is not None}
        if fixed:
            joined = "\x00".join(fixed[i][0] if i in fixed else t for i, t in enumerate(texts))
            cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32).astype(np.int64)
    start = np.arange(len(cps), dtype=np.int64)
    if not fixed:
        return cps, start, start + 1, lengths, doc_base
    new_len = np.array([len(fixed[i][0]) if i in fixed else len(t) for i, t in enumerate(texts)], np.int64)
    new_base = np.concatenate([[0], np.cumsum(new_len + 1)[:-1]])
    start += np.repeat(doc_base - new_base, new_len + 1)[: len(cps)]
    end = start + 1
    for i, (_, st, en) in fixed.items():
        b = new_base[i]
        start[b : b + new_len[i]] = np.asarray(st, np.int64) + doc_base[i]
        end[b : b + new_len[i]] = np.asarray(en, np.int64) + doc_base[i]
    return cps, start, end, lengths, doc_base


def normalize_units(texts: list[str], unit: str) -> Units:
    """Units ('char' or 'word') of every text, in order, with original spans."""
    lens_t, starts_t, flat, compose = _unit_table()[:4]
    cps, src_start, src_end, lengths, doc_base = _codepoints(texts)
    big = cps >= _TABLE_SIZE
    safe = np.where(big, 0, cps)
    n_out = lens_t[safe]
    n_out[big] = (cps[big] < 0xE0000).astype(np.int64)  # CJK ext. kept, tags / variation selectors dropped
    if n_out.max(initial=0) <= 1:
        keep = np.flatnonzero(n_out)
        vals = np.where(big[keep], cps[keep], flat[np.minimum(starts_t[safe[keep]], len(flat) - 1)])
        origin = keep
    else:  # some code point expands to several (e.g. ㎏ -> kg)
        origin = np.repeat(np.arange(len(cps)), n_out)
        first = np.cumsum(n_out) - n_out
        within = np.arange(len(origin)) - np.repeat(first, n_out)
        vals = np.where(big[origin], cps[origin], flat[np.minimum(starts_t[safe[origin]] + within, len(flat) - 1)])
    vals = vals.astype(np.int64)
    last = origin.copy()  # last source code point of each unit (differs after composing)
    # Half-width kana voicing marks became combining marks: compose them with the kana before.
    marks = np.flatnonzero((vals[1:] == _KANA_MARKS[0]) | (vals[1:] == _KANA_MARKS[1]))
    if len(marks):
        base = vals[marks]
        inrange = (base >= 0x3040) & (base < 0x3140)
        composed = np.zeros(len(marks), np.int64)
        composed[inrange] = compose[base[inrange] - 0x3040, (vals[marks[inrange] + 1] == _KANA_MARKS[1]).astype(int)]
        ok = composed > 0
        vals[marks[ok]] = composed[ok]
        last[marks[ok]] = origin[marks[ok] + 1]
        drop = np.ones(len(vals), bool)
        drop[marks[ok] + 1] = False
        vals, origin, last = vals[drop], origin[drop], last[drop]
    # Doc of each unit: the joined string has one NUL between texts.
    doc_of_cp = np.repeat(np.arange(len(lengths)), lengths + 1)
    doc_of_pos = doc_of_cp[src_start[origin]]
    ustart = src_start[origin] - doc_base[doc_of_pos]
    uend = src_end[last] - doc_base[doc_of_pos]
    if unit == "char":
        return Units(vals.astype(np.uint64), doc_of_pos, ustart, uend)
    if unit != "word":
        raise ValueError(f"unit must be 'char' or 'word', not {unit!r}")
    # Words: runs of kept units whose original code points are adjacent (a dropped
    # space or punctuation mark, or a text boundary, separates words).
    gap = np.ones(len(vals), bool)
    if len(vals) > 1:
        # (an expansion such as ㎏ -> kg has units with the same origin: no gap)
        gap[1:] = (origin[1:] - last[:-1] > 1) | (doc_of_pos[1:] != doc_of_pos[:-1])
    wstart = np.flatnonzero(gap)
    wid = np.cumsum(gap) - 1
    pos_in_word = np.arange(len(vals)) - wstart[wid]
    powers = _powers(int(pos_in_word.max(initial=0)) + 1)
    mixed = mix64(vals.astype(np.uint64)) * powers[pos_in_word]
    word_vals = np.add.reduceat(mixed, wstart) if len(wstart) else np.zeros(0, np.uint64)
    wend = np.append(wstart[1:], len(vals)) - 1
    return Units(word_vals.astype(np.uint64), doc_of_pos[wstart], ustart[wstart], uend[wend])


# ---------------------------------------------------------------- hashing


def _powers(k: int) -> np.ndarray:
    """B^0 .. B^(k-1) mod 2^64."""
    p = np.full(max(k, 1), _B, np.uint64)
    p[0] = 1
    return np.cumprod(p, dtype=np.uint64)  # wraps mod 2^64, as the hash wants


def window_hashes(values: np.ndarray, n: int) -> np.ndarray:
    """Hash of every window values[i:i+n], all windows at once (len(values)-n+1 of them)."""
    m = len(values) - n + 1
    if m <= 0:
        return np.zeros(0, np.uint64)
    with np.errstate(over="ignore"):
        blocks = {1: values.astype(np.uint64)}
        size = 1
        while size * 2 <= n:  # blocks[2s][i] = hash of values[i:i+2s]
            h = blocks[size]
            blocks[size * 2] = h[:-size] * (_B ** np.uint64(size)) + h[size:]
            size *= 2
        out, used = None, 0
        for s in sorted(blocks, reverse=True):
            if n - used >= s:
                part = blocks[s][used : used + m]
                out = part.copy() if out is None else out * (_B ** np.uint64(s)) + part
                used += s
    return mix64(out)


def unit_ngrams(units: Units, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(hashes, first-unit index) of the n-grams that lie inside one text."""
    h = window_hashes(units.values, n)
    first = np.arange(len(h))
    valid = units.doc[first] == units.doc[first + n - 1] if len(h) else np.zeros(0, bool)
    return h[valid], first[valid]


# ---------------------------------------------------------------- the index


@dataclass
class Index:
    """Benchmark n-gram hashes: a sorted uint64 array (or Bloom bits) per benchmark."""

    unit: str
    n: int
    min_match: int
    max_gap: int
    sets: dict[str, np.ndarray]  # name -> sorted unique hashes, or uint8 Bloom bits
    kinds: dict[str, str] = field(default_factory=dict)  # name -> "sorted" | "bloom"
    meta: dict = field(default_factory=dict)  # per benchmark: items, ngrams, files
    _prefilter: tuple | None = field(default=None, repr=False)

    @property
    def names(self) -> list[str]:
        return list(self.sets)

    def save(self, path: str | Path) -> None:
        header = {
            "format": "decontam-index",
            "normalization_version": NORMALIZATION_VERSION,
            "unit": self.unit,
            "n": self.n,
            "min_match": self.min_match,
            "max_gap": self.max_gap,
            "benchmarks": [{"name": k, "kind": self.kinds.get(k, "sorted"), **self.meta.get(k, {})} for k in self.sets],
        }
        arrays = {f"set_{i}": v for i, v in enumerate(self.sets.values())}
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:  # np.savez would append .npz to a path without it
            np.savez(f, header=np.array(json.dumps(header, ensure_ascii=False)), **arrays)

    @classmethod
    def load(cls, path: str | Path) -> Index:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            if header.get("format") != "decontam-index":
                raise ValueError(f"{path}: not a decontamination index")
            if header["normalization_version"] != NORMALIZATION_VERSION:
                raise ValueError(
                    f"{path}: built with normalization v{header['normalization_version']}, "
                    f"this code is v{NORMALIZATION_VERSION}: rebuild it"
                )
            sets, kinds, meta = {}, {}, {}
            for i, b in enumerate(header["benchmarks"]):
                name = b.pop("name")
                sets[name] = z[f"set_{i}"]
                kinds[name] = b.pop("kind")
                meta[name] = b
        return cls(header["unit"], header["n"], header["min_match"], header["max_gap"], sets, kinds, meta)

    def nbytes(self) -> int:
        return sum(v.nbytes for v in self.sets.values())

    def ngram_count(self) -> int:
        return sum(int(m.get("ngrams", 0)) for m in self.meta.values())

    def _bits(self):
        """One-probe bitmap over every benchmark: most corpus n-grams stop here."""
        if self._prefilter is None:
            total = sum(
                len(v) if self.kinds.get(k) != "bloom" else self.meta[k]["ngrams"] for k, v in self.sets.items()
            )
            # ~16 bits per n-gram, capped at 32 MB per process (then it just filters less)
            log2 = int(min(28, max(16, np.ceil(np.log2(max(total, 1) * 16)))))
            bits = np.zeros(1 << (log2 - 3), np.uint8)
            for k, v in self.sets.items():
                if self.kinds.get(k) == "bloom":
                    bits[:] = 0xFF  # cannot enumerate a Bloom filter's members: no prefilter
                    break
                idx = v >> np.uint64(64 - log2)
                np.bitwise_or.at(
                    bits, (idx >> np.uint64(3)).astype(np.int64), (np.uint8(1) << (idx & np.uint64(7)).astype(np.uint8))
                )
            self._prefilter = (log2, bits)
        return self._prefilter

    def lookup(self, hashes: np.ndarray) -> dict[str, np.ndarray]:
        """For each benchmark, the positions in ``hashes`` that it contains."""
        log2, bits = self._bits()
        idx = hashes >> np.uint64(64 - log2)
        hit = (bits[(idx >> np.uint64(3)).astype(np.int64)] >> (idx & np.uint64(7)).astype(np.uint8)) & 1
        cand = np.flatnonzero(hit)
        ch = hashes[cand]
        out = {}
        for name, s in self.sets.items():
            if self.kinds.get(name) == "bloom":
                found = _bloom_contains(s, self.meta[name]["bloom_k"], ch)
            elif len(s):
                pos = np.minimum(np.searchsorted(s, ch), len(s) - 1)
                found = s[pos] == ch
            else:
                found = np.zeros(len(ch), bool)
            out[name] = cand[found]
        return out


def _bloom_probes(hashes: np.ndarray, k: int, nbits: int):
    h1 = hashes & _MASK32
    h2 = (hashes >> np.uint64(32)) | np.uint64(1)
    mask = np.uint64(nbits - 1)
    with np.errstate(over="ignore"):
        return [(h1 + np.uint64(i) * h2) & mask for i in range(k)]


def _bloom_build(hashes: np.ndarray, bits_per: int) -> tuple[np.ndarray, int]:
    nbits = 1 << int(np.ceil(np.log2(max(len(hashes), 1) * bits_per)))
    k = max(1, round(bits_per * 0.693))  # optimal probe count for m/n bits per entry
    bits = np.zeros(nbits // 8, np.uint8)
    for p in _bloom_probes(hashes, k, nbits):
        np.bitwise_or.at(bits, (p >> np.uint64(3)).astype(np.int64), np.uint8(1) << (p & np.uint64(7)).astype(np.uint8))
    return bits, k


def _bloom_contains(bits: np.ndarray, k: int, hashes: np.ndarray) -> np.ndarray:
    found = np.ones(len(hashes), bool)
    for p in _bloom_probes(hashes, k, len(bits) * 8):
        found &= ((bits[(p >> np.uint64(3)).astype(np.int64)] >> (p & np.uint64(7)).astype(np.uint8)) & 1).astype(bool)
    return found


# ---------------------------------------------------------------- benchmark files


def benchmark_name(path: str | Path) -> str:
    name = Path(path).name
    for suffix in (".gz", ".zst", ".jsonl", ".json", ".parquet"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def _strings(value, key: str | None, fields, exclude) -> list[str]:
    if isinstance(value, str):
        ok = (key in fields) if fields else (key not in exclude)
        return [value] if ok else []
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, k, fields, exclude)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _strings(v, key, fields, exclude)]
    return []


def _open_text(path: Path):
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    if path.suffix == ".zst":
        import zstandard

        return io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(open(path, "rb")), encoding="utf-8")
    return open(path, encoding="utf-8")


def read_benchmark_texts(path: str | Path, fields=None, exclude=()) -> list[str]:
    """Every string field of every record (or only ``fields``), one text per field value."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        records = pq.read_table(path).to_pylist()
    else:
        with _open_text(path) as f:
            records = [json.loads(line) for line in f if line.strip()]
    return [s for r in records for s in _strings(r, None, set(fields or ()), set(exclude))]


def unit_for(lang: str, cfg: dict | None = None) -> str:
    unit = (cfg or {}).get("unit", "auto")
    if unit == "auto":
        return "char" if lang.split("-")[0].split("_")[0] in CHAR_LANGS else "word"
    return unit


def _merged(cfg: dict | None, base: dict | None = None) -> dict:
    base = base or _defaults()
    out = {**base, **(cfg or {})}
    for unit in ("char", "word"):
        out[unit] = {**base[unit], **((cfg or {}).get(unit) or {})}
    return out


def build_index(paths, cfg: dict | None = None, unit: str | None = None) -> Index:
    """Index benchmark files. ``paths``: list of paths (named by file stem) or {name: path | [paths]}.

    ``unit``: 'char' or 'word'; by default from cfg (``unit``, or ``lang``), else chars.
    """
    cfg = _merged(cfg)
    unit = unit or unit_for(cfg.get("lang") or "ko", cfg)
    n, min_match = int(cfg[unit]["n"]), int(cfg[unit]["min_match"])
    if min_match < n:
        raise ValueError(f"min_match ({min_match}) must be >= n ({n})")
    groups: dict[str, list[Path]] = {}
    items = paths.items() if isinstance(paths, dict) else ((benchmark_name(p), p) for p in paths)
    for name, p in items:
        groups.setdefault(name, []).extend(Path(x) for x in ([p] if isinstance(p, (str, Path)) else p))
    sets, kinds, meta = {}, {}, {}
    for name, files in groups.items():
        texts = [t for f in files for t in read_benchmark_texts(f, cfg.get("fields"), cfg.get("exclude_fields") or ())]
        # The benchmark is read as one stream, fields in record order and records in
        # file order: n-grams across a field boundary catch a copied item (question +
        # answer, sentence pair) or a copied run of items even when each part is short.
        hashes, step = [], 4096
        for i in range(0, len(texts), step):  # chunks share a text, so no window is lost
            chunk = _clean_text("\n".join(texts[max(0, i - 1) : i + step]))  # no offsets needed here
            h, _ = unit_ngrams(normalize_units([chunk], unit), n)
            hashes.append(h)
        h = np.sort(np.concatenate(hashes)) if hashes else np.zeros(0, np.uint64)
        h = _sorted_unique(h)
        meta[name] = {
            "items": len(texts),
            "ngrams": int(len(h)),
            "files": [{"path": str(f), "sha256": fs.sha256(str(f))} for f in files],
        }
        if len(h) > int(cfg["bloom_above_ngrams"]):
            sets[name], meta[name]["bloom_k"] = _bloom_build(h, int(cfg["bloom_bits_per_ngram"]))
            kinds[name] = "bloom"
        else:
            sets[name], kinds[name] = h, "sorted"
    return Index(unit, n, min_match, int(cfg[unit].get("max_gap", 0)), sets, kinds, meta)


# ---------------------------------------------------------------- matching


@dataclass
class Match:
    doc: int
    benchmark: str
    start: int  # original-text span of a run of matched units
    end: int
    ngrams: int


def find_matches(texts: list[str], index: Index) -> list[Match]:
    """Runs of >= index.min_match units covered by a benchmark's n-grams.

    Covered stretches of one text separated by at most index.max_gap uncovered
    units (a typo, a changed particle) count as one run.
    """
    if not texts:
        return []
    units = normalize_units(texts, index.unit)
    hashes, first = unit_ngrams(units, index.n)
    matches = []
    nu = len(units.values)
    doc = units.doc
    for name, pos in index.lookup(hashes).items():
        if not len(pos):
            continue
        starts = first[pos]
        cover = np.zeros(nu + 1, np.int64)
        cover[starts] += 1
        cover[starts + index.n] -= 1  # starts are unique, so plain fancy assignment is exact
        covered = np.cumsum(cover[:-1]) > 0
        new_doc = np.ones(nu + 1, bool)
        new_doc[1:-1] = doc[1:] != doc[:-1]
        cov = np.concatenate([[False], covered, [False]])
        run_start = np.flatnonzero(cov[1:-1] & (~cov[:-2] | new_doc[:-1]))
        run_end = np.flatnonzero(cov[1:-1] & (~cov[2:] | new_doc[1:]))
        join = (run_start[1:] - run_end[:-1] - 1 <= index.max_gap) & (doc[run_start[1:]] == doc[run_end[:-1]])
        group = np.concatenate([[0], np.cumsum(~join)])
        last_of_group = np.append(np.flatnonzero(~join), len(run_start) - 1)
        m_start = run_start[np.concatenate([[0], np.flatnonzero(~join) + 1])]
        m_end = run_end[last_of_group]
        ngrams = np.bincount(group[np.searchsorted(run_start, starts, "right") - 1], minlength=len(m_start))
        for r in np.flatnonzero(m_end - m_start + 1 >= index.min_match):
            s_, e_ = m_start[r], m_end[r]
            matches.append(Match(int(doc[s_]), name, int(units.start[s_]), int(units.end[e_]), int(ngrams[r])))
    return matches


def reference_matches(
    texts: list[str], benchmarks: dict[str, list[str]], n: int, min_match: int, max_gap: int = 0
) -> dict:
    """Plain-Python reference for char units: {(doc, benchmark): matched units}.

    A set of n-gram strings per benchmark and per-char loops; the vectorized path
    (normalize_units + window_hashes + Index) must find the same runs.
    """

    def norm(t: str) -> str:
        return unicodedata.normalize("NFC", "".join(_normalize_char(c) for c in _clean_text(t)))

    sets = {}
    for name, items in benchmarks.items():
        stream = norm("\n".join(items))
        sets[name] = {stream[i : i + n] for i in range(len(stream) - n + 1)}
    found = {}
    for d, t in enumerate(texts):
        u = norm(t)
        for name, grams in sets.items():
            covered = [False] * len(u)
            for i in range(len(u) - n + 1):
                if u[i : i + n] in grams:
                    covered[i : i + n] = [True] * n
            for i in range(len(u)):  # fill gaps of <= max_gap units between covered stretches
                if not covered[i] and i > 0 and covered[i - 1]:
                    j = i
                    while j < len(u) and not covered[j]:
                        j += 1
                    if j < len(u) and j - i <= max_gap:
                        covered[i:j] = [True] * (j - i)
            run = total = 0
            for c in covered + [False]:
                if c:
                    run += 1
                else:
                    total += run if run >= min_match else 0
                    run = 0
            if total:
                found[(d, name)] = total
    return found


def cut_spans(text: str, spans: list[tuple[int, int]], margin: int) -> str:
    """Remove each span widened by ``margin`` chars; the pieces left are joined by newlines."""
    widened = sorted((max(0, s - margin), min(len(text), e + margin)) for s, e in spans)
    pieces, pos = [], 0
    for s, e in widened:
        if s > pos:
            pieces.append(text[pos:s].strip())
        pos = max(pos, e)
    pieces.append(text[pos:].strip())
    return "\n".join(p for p in pieces if p)


CONTAMINATION_TYPE = SHARD_SCHEMA.field("contamination").type


class DecontamStage:
    name = NAME

    def __init__(self, cfg: dict, lang: str, index: Index | None = None):
        self.cfg = _merged(cfg)
        if self.cfg["action"] not in ("drop", "cut"):
            raise ValueError(f"decontam: action must be drop or cut, not {self.cfg['action']!r}")
        self.lang = lang
        self._index = index

    @property
    def index(self) -> Index:
        if self._index is None:  # loaded once per process, on first use
            if self.cfg.get("index"):
                self._index = Index.load(self.cfg["index"])
            elif self.cfg.get("benchmarks"):
                self._index = build_index(self.cfg["benchmarks"], self.cfg, unit_for(self.lang, self.cfg))
            else:
                raise ValueError("decontam: the recipe names no `index` and no `benchmarks`")
        return self._index

    def __call__(self, table: pa.Table) -> pa.Table:
        if "contamination" not in table.column_names:
            table = table.append_column(
                pa.field("contamination", CONTAMINATION_TYPE), pa.nulls(table.num_rows, CONTAMINATION_TYPE)
            )
        live = np.flatnonzero(live_mask(table))
        all_texts = table.column("text").to_pylist()
        texts = [all_texts[i] or "" for i in live]
        per_doc: dict[int, dict[str, list]] = {}
        for m in find_matches(texts, self.index):
            per_doc.setdefault(m.doc, {}).setdefault(m.benchmark, []).append(m)
        if not per_doc:
            return table
        contamination = table.column("contamination").to_pylist()
        reasons: list[str | None] = [None] * table.num_rows
        new_texts = list(all_texts)
        for d, by_bench in per_doc.items():
            row = int(live[d])
            record = sorted(
                (
                    {
                        "benchmark": b,
                        "matched_chars": sum(m.end - m.start for m in ms),
                        "ngrams": sum(m.ngrams for m in ms),
                    }
                    for b, ms in by_bench.items()
                ),
                key=lambda r: -r["matched_chars"],
            )
            contamination[row] = record
            reason = f"{NAME}:{record[0]['benchmark']}"
            if self.cfg["action"] == "drop":
                reasons[row] = reason
                continue
            spans = [(m.start, m.end) for ms in by_bench.values() for m in ms]
            rest = cut_spans(texts[d], spans, int(self.cfg["margin_chars"]))
            if len(rest) < int(self.cfg["min_keep_chars"]):
                reasons[row] = reason  # too little left to be worth keeping
            else:
                new_texts[row] = rest
        table = set_column(table, "contamination", pa.array(contamination, CONTAMINATION_TYPE))
        if self.cfg["action"] == "cut":
            table = set_column(table, "text", new_texts)
        return merge_drop_reasons(table, reasons)


def make_stage(cfg: dict, lang: str) -> DecontamStage:
    return DecontamStage(cfg, lang)


def decontam_totals(table: pa.Table) -> dict[str, dict[str, int]]:
    """Documents and matched characters per benchmark, for report.json."""
    totals: dict[str, dict[str, int]] = {}
    if "contamination" not in table.column_names:
        return totals
    for record in table.column("contamination").to_pylist():
        for r in record or ():
            t = totals.setdefault(r["benchmark"], {"docs": 0, "chars": 0})
            t["docs"] += 1
            t["chars"] += int(r["matched_chars"])
    return totals


# ---------------------------------------------------------------- CLI


def main_index(argv: list[str] | None = None) -> int:
    """`curate decontam-index BENCH... --out INDEX`."""
    p = argparse.ArgumentParser(prog="curate decontam-index", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "benchmarks",
        nargs="+",
        metavar="BENCH",
        help="benchmark files (.jsonl[.gz|.zst], .parquet); NAME=PATH names one explicitly",
    )
    p.add_argument("--out", required=True, metavar="INDEX", help="index file to write (.npz)")
    p.add_argument("--lang", default="ko", help="corpus language: picks char (ko, ja, zh, ...) or word units")
    p.add_argument("--unit", choices=["auto", "char", "word"], default="auto")
    p.add_argument("--n", type=int, help="units per n-gram (default from the recipe)")
    p.add_argument("--min-match", type=int, help="units a matched run must cover to flag a document")
    p.add_argument("--fields", nargs="+", metavar="FIELD", help="index only these fields (default: all strings)")
    p.add_argument(
        "--recipe", metavar="FILE", help="decontam recipe (default pipelines/recipes/decontam/defaults.yaml)"
    )
    args = p.parse_args(argv)
    cfg = load_defaults(args.recipe)
    unit = unit_for(args.lang, {"unit": args.unit})
    if args.n:
        cfg[unit]["n"] = args.n
    if args.min_match:
        cfg[unit]["min_match"] = args.min_match
    if args.fields:
        cfg["fields"] = args.fields
    paths: dict[str, list[str]] = {}
    for b in args.benchmarks:
        name, _, path = b.rpartition("=") if "=" in b else (benchmark_name(b), "", b)
        paths.setdefault(name, []).append(path)
    try:
        index = build_index(paths, cfg, unit)
    except (OSError, ValueError) as exc:
        print(f"curate decontam-index: error: {exc}", file=sys.stderr)
        return 2
    index.save(args.out)
    for name in index.names:
        print(f"{name}: {index.meta[name]['items']} texts, {index.meta[name]['ngrams']} {index.n}-{index.unit} n-grams")
    print(f"-> {args.out} ({Path(args.out).stat().st_size} bytes)")
    return 0


def load_defaults(path: str | None = None) -> dict:
    """Defaults, overridden by the `decontam` section of a recipe file when one is given."""
    if not path:
        return _merged({})
    import yaml

    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    if "decontam" in doc:  # a language recipe: resolve its `include:`
        from curate.recipe import load_recipe

        doc = load_recipe(doc.get("lang", "ko"), path).get("decontam") or {}
    return _merged(doc)


main = main_index

if __name__ == "__main__":
    sys.exit(main_index())
