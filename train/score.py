"""Perplexity and bits per character of each document under a trained model.

A document is read as the trainer reads it: EOS, its tokens, EOS; every token after the
first is predicted once, the closing EOS included. A document longer than the model's
context is cut into windows of `seq_len` predictions (each window's first input is the
previous window's last target); a window never holds two documents. Windows are sorted
by length and batched under a token budget, so a batch pads little.

    perplexity    = exp(document's total NLL in nats / predicted tokens)
    bits_per_char = total NLL / ln 2 / characters   (comparable across tokenizers)

An empty text has no characters: its bits per character and perplexity are None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from train.inference import LanguageModel, bits_per_char

# Logits of one batch, in floats: batch rows x window length x vocabulary stay under this.
LOGIT_BUDGET = 256 * 1024 * 1024 // 4


@dataclass
class DocScore:
    perplexity: float | None
    bits_per_char: float | None
    tokens: int  # predicted tokens (the text's tokens and its closing EOS)


def windows(n: int, seq_len: int) -> list[tuple[int, int]]:
    """(start, stop) of each window over a sequence of n tokens: inputs [start, stop - 1),
    targets [start + 1, stop); together they predict every token after the first once."""
    return [(s, min(s + seq_len + 1, n)) for s in range(0, n - 1, seq_len)]


def score_texts(lm: LanguageModel, texts: list[str], batch_windows: int | None = None) -> list[DocScore]:
    """The score of each text, in order (see the module docstring)."""
    from train.data import EOS

    encoded = lm.tokenizer.encode_batch([t.replace(EOS, "") for t in texts], add_special_tokens=False)
    seqs = [np.asarray([lm.eos_id, *e.ids, lm.eos_id], dtype=np.int64) for e in encoded]
    jobs = [(d, a, b) for d, s in enumerate(seqs) for a, b in windows(len(s), lm.seq_len)]
    jobs.sort(key=lambda j: j[2] - j[1])  # length-sorted: rows of a batch pad little
    nats = np.zeros(len(texts), dtype=np.float64)
    vocab = lm.model.embed_out.weight.shape[0]
    per_batch = batch_windows or max(1, LOGIT_BUDGET // (lm.seq_len * vocab))
    with torch.inference_mode():
        for first in range(0, len(jobs), per_batch):
            batch = jobs[first : first + per_batch]
            sums = _window_nats(lm, [seqs[d][a:b] for d, a, b in batch])
            np.add.at(nats, [d for d, _, _ in batch], sums)
    return [_doc_score(total, len(s) - 1, len(t)) for total, s, t in zip(nats, seqs, texts)]


def _window_nats(lm: LanguageModel, rows: list[np.ndarray]) -> np.ndarray:
    """Summed next-token NLL of each row (inputs row[:-1], targets row[1:]); rows are
    right-padded to the longest, which a causal model never attends back to."""
    width = max(len(r) for r in rows) - 1
    x = np.full((len(rows), width), lm.eos_id, dtype=np.int64)
    y = np.full((len(rows), width), -100, dtype=np.int64)
    for i, r in enumerate(rows):
        x[i, : len(r) - 1], y[i, : len(r) - 1] = r[:-1], r[1:]
    x_t, y_t = torch.from_numpy(x).to(lm.device), torch.from_numpy(y).to(lm.device)
    logits = lm.model(x_t).float()
    nll = F.cross_entropy(logits.transpose(1, 2), y_t, ignore_index=-100, reduction="none")
    return nll.sum(dim=1).double().cpu().numpy()


def _doc_score(nats: float, tokens: int, chars: int) -> DocScore:
    if not chars:
        return DocScore(None, None, tokens)
    return DocScore(math.exp(nats / tokens), bits_per_char(nats, chars), tokens)
