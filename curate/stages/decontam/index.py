"""N-gram hashing and the index: per benchmark a sorted array of 64-bit n-gram hashes (or a
Bloom filter for very large sets), saved to and loaded from one .npz file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from curate.stages.decontam.hashing import _MASK32

NORMALIZATION_VERSION = 3  # bump when _unit_table or hashing changes: old indexes then refuse to load

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
