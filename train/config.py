"""GPT-NeoX sizes matching the released Polyglot-Ko checkpoints, plus `tiny` for CPUs."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass
class ModelConfig:
    n_layer: int
    d_model: int
    d_ff: int
    n_head: int
    vocab_size: int = 30080
    max_seq_len: int = 2048
    rotary_pct: float = 0.5
    rotary_base: float = 10000.0
    layer_norm_eps: float = 1e-5
    init_std: float = 0.02

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_head

    @property
    def rotary_dim(self) -> int:
        return int(self.head_dim * self.rotary_pct)  # HF: int(head_size * rotary_pct)

    def replace(self, **kw) -> ModelConfig:
        return dataclasses.replace(self, **kw)


SIZES = {
    # tiny: the vocabulary follows the tokenizer it trains with (see train.train)
    "tiny": ModelConfig(n_layer=4, d_model=256, d_ff=1024, n_head=4, vocab_size=4096),
    "1.3b": ModelConfig(n_layer=24, d_model=2048, d_ff=8192, n_head=16),
    "3.8b": ModelConfig(n_layer=32, d_model=3072, d_ff=12288, n_head=24),
    "5.8b": ModelConfig(n_layer=28, d_model=4096, d_ff=16384, n_head=16, rotary_pct=0.25),
    "12.8b": ModelConfig(n_layer=40, d_model=5120, d_ff=20480, n_head=40),
}


def get_config(size: str, **overrides) -> ModelConfig:
    if size not in SIZES:
        raise SystemExit(f"unknown size {size!r}; choose from {', '.join(SIZES)}")
    return SIZES[size].replace(**overrides)
