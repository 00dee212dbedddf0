"""perplexity: each live document's perplexity and bits per character under a language
model of this project (train.score), as CCNet ranked web text with KenLM.

The scores land in quality_signals (perplexity, bits_per_char, perplexity_tokens); with
`max_bits_per_char` set, a document above it is dropped as `perplexity:max_bits_per_char`.
Bits per character is the threshold, not perplexity: it is per character, so it neither
depends on the tokenizer nor rewards text that cuts into many easy tokens. The model loads
once per process, on the first batch (stage workers build their stages once).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pyarrow as pa

from curate.io.schema import QUALITY_SIGNALS_TYPE
from curate.stages.base import BatchStage, Section, SettingError, live_mask, merge_drop_reasons, set_column

DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class PerplexitySettings:
    model: str  # a checkpoint, training run or Hugging Face export folder (train.inference)
    max_bits_per_char: float | None = None  # None: score only
    device: str = "auto"  # auto: CUDA where the worker sees one, else the CPU

    @classmethod
    def from_section(cls, section: dict, lang: str) -> PerplexitySettings:
        from train.inference import ModelLoadError, resolve_model

        s = Section(section, {"model", "max_bits_per_char", "device"})
        model = s.get("model")
        if not isinstance(model, str):
            raise SettingError("model", f"required: a trained model's folder (make train), got {model!r}")
        try:
            resolve_model(model)
        except ModelLoadError as exc:
            raise SettingError("model", str(exc)) from None
        limit = s.get("max_bits_per_char")
        return cls(
            model=model,
            max_bits_per_char=None if limit is None else s.number("max_bits_per_char", 0.0, low=0.0),
            device=s.choice("device", "auto", DEVICES),
        )


@lru_cache(maxsize=2)
def load_model(path: str, device: str):
    """The model at `path`, loaded once per process and device."""
    from train.inference import load_lm, pick_device

    return load_lm(path, pick_device(device))


class PerplexityStage(BatchStage):
    name = "perplexity"
    Settings = PerplexitySettings

    def __call__(self, table: pa.Table) -> pa.Table:
        from train.score import score_texts

        live = live_mask(table)
        rows = [i for i, keep in enumerate(live) if keep]
        if not rows:
            return table
        texts = table.column("text").to_pylist()
        scores = score_texts(load_model(self.settings.model, self.settings.device), [texts[i] or "" for i in rows])
        structs = table.column("quality_signals").to_pylist()
        reasons: list[str | None] = [None] * table.num_rows
        limit = self.settings.max_bits_per_char
        for i, score in zip(rows, scores):
            structs[i] = {
                **(structs[i] or {}),
                "perplexity": score.perplexity,
                "bits_per_char": score.bits_per_char,
                "perplexity_tokens": score.tokens,
            }
            if limit is not None and score.bits_per_char is not None and score.bits_per_char > limit:
                reasons[i] = "perplexity:max_bits_per_char"
        table = set_column(table, "quality_signals", pa.array(structs, type=QUALITY_SIGNALS_TYPE))
        return merge_drop_reasons(table, reasons)
