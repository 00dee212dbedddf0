"""How many tokens a training mixture takes from each source, and which documents.

Languages are sampled by temperature, as in XLM-R and mT5: language i gets the share
p_i = n_i^alpha / sum_j n_j^alpha of the mixture (n_i: its training tokens; alpha 1 is
proportional, 0 uniform), or the shares given. Within a language each source gives in
proportion to its size. A source's cap limits the tokens it offers; the mixture's size is
the largest for which no source is repeated more than max_epochs times (and at most the
budget), so a small language is upsampled but never memorised.

Documents are held out by their id alone (a hash), so the same documents are held out
whatever the weights, the seed, the tokenizer or the other sources.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


@dataclass
class SourceCount:
    name: str
    lang: str
    tokens: int  # training tokens (the held-out slice already set aside)
    cap: int | None = None  # at most this many distinct tokens offered

    @property
    def offered(self) -> int:
        return self.tokens if self.cap is None else min(self.tokens, self.cap)


def id_key(doc_id: str) -> float:
    """A document's place in [0, 1), from its id alone."""
    return int.from_bytes(hashlib.sha256(doc_id.encode("utf-8")).digest()[:8], "big") / 2**64


def language_shares(tokens: dict[str, int], alpha: float | None = None, weights: dict[str, float] | None = None):
    """{lang: share of the mixture}: the weights given (normalised), else n^alpha."""
    if weights is not None:
        missing = sorted(set(tokens) - set(weights))
        if missing or any(w < 0 for w in weights.values()) or not sum(weights.values()):
            raise ValueError(f"weights {weights} must be non-negative, not all zero, and name every language {missing}")
        raw = {lang: float(weights[lang]) for lang in tokens}
    else:
        raw = {lang: float(n) ** (1.0 if alpha is None else alpha) if n else 0.0 for lang, n in tokens.items()}
    total = sum(raw.values())
    return {lang: r / total for lang, r in raw.items()}


def plan_mixture(
    sources: list[SourceCount], shares: dict[str, float], max_epochs: float, budget: int | None = None
) -> dict[str, float]:
    """{source name: tokens to take} (fractional; the documents realise it)."""
    offered = {}
    for s in sources:
        offered[s.lang] = offered.get(s.lang, 0) + s.offered
    empty = sorted(lang for lang, p in shares.items() if p > 0 and not offered.get(lang))
    if empty:
        raise ValueError(f"languages {', '.join(empty)} have a share but no training tokens")
    size = min(max_epochs * offered[lang] / p for lang, p in shares.items() if p > 0)
    if budget:
        size = min(size, float(budget))
    return {s.name: shares.get(s.lang, 0.0) * size * s.offered / offered[s.lang] if s.offered else 0.0 for s in sources}


def take_documents(lengths: np.ndarray, keys: np.ndarray, cap: int | None, target: float, seed: int) -> np.ndarray:
    """Indices of the documents (lengths in tokens) that give about `target` tokens: the
    capped pool (the documents in key order while the cap holds) whole as often as it fits,
    then a seeded random part of it; within a document of the target."""
    order = np.argsort(keys, kind="stable")
    if cap is not None:
        order = order[np.cumsum(lengths[order]) <= cap]
    pool = int(lengths[order].sum())
    if not pool or target <= 0:
        return np.zeros(0, dtype=np.int64)
    whole = int(target // pool)
    rest = np.random.default_rng(seed).permutation(order)
    need = target - whole * pool
    cum = np.cumsum(lengths[rest])
    n = int(np.searchsorted(cum, need))  # documents before the one that crosses `need`
    if n < len(rest) and cum[n] - need < need - (cum[n - 1] if n else 0):
        n += 1  # the crossing document brings the total nearer the target
    return np.concatenate([np.tile(order, whole), rest[:n]]).astype(np.int64)


def heldout_mask(keys: np.ndarray, lengths: np.ndarray, fraction: float, max_tokens: int | None) -> np.ndarray:
    """Documents held out: key < fraction, in key order while max_tokens holds."""
    mask = keys < fraction
    if max_tokens is not None:
        order = np.argsort(keys, kind="stable")
        order = order[mask[order]]
        keep = order[np.cumsum(lengths[order]) <= max_tokens]
        mask = np.zeros(len(keys), dtype=bool)
        mask[keep] = True
    return mask
