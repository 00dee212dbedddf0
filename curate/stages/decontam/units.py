"""Normalized units of a text: characters or words with spacing, punctuation, width and
entity variants folded, each remembering its span in the original text."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from curate.dedup.minhash import mix64
from curate.stages.decontam.hashing import _powers, window_hashes

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


def unit_ngrams(units: Units, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(hashes, first-unit index) of the n-grams that lie inside one text."""
    h = window_hashes(units.values, n)
    first = np.arange(len(h))
    valid = units.doc[first] == units.doc[first + n - 1] if len(h) else np.zeros(0, bool)
    return h[valid], first[valid]
