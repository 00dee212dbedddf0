"""normalize: NFC, HTML entities, whitespace, control characters, long character runs.

Runs first on every record so that every later stage, and the dedup hash, see one
canonical form of the text.
"""
from __future__ import annotations

import html
import re
import unicodedata

import pyarrow as pa

from .stage import live_mask, merge_drop_reasons, set_column

# Unicode spaces other than \n and \t become a plain space; zero-width marks vanish.
_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\t\x0b\x0c]")
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
# C0/C1 controls except newline; carriage returns are folded into newlines first.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_MULTI_SPACE = re.compile(r" {2,}")
_SPACE_AROUND_NL = re.compile(r" *\n *")
_MANY_NEWLINES = re.compile(r"\n{3,}")
_ENTITY = re.compile(r"&(#\d+|#[xX][0-9a-fA-F]+|[A-Za-z]{2,8});")


def squeeze_runs(text: str, max_repeat: int) -> str:
    """ㅋㅋㅋㅋㅋㅋㅋ -> ㅋㅋㅋㅋ: any character repeated more than max_repeat times."""
    if max_repeat <= 0:
        return text
    return re.sub(r"(.)\1{%d,}" % max_repeat, lambda m: m.group(1) * max_repeat, text, flags=re.S)


def normalize_text(text: str, max_repeat: int = 4) -> str:
    if "&" in text and _ENTITY.search(text):
        text = html.unescape(text)
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ZERO_WIDTH.sub("", text)
    text = _CONTROLS.sub("", text)
    text = _SPACES.sub(" ", text)
    text = _MULTI_SPACE.sub(" ", text)
    text = _SPACE_AROUND_NL.sub("\n", text)
    text = _MANY_NEWLINES.sub("\n\n", text)
    text = squeeze_runs(text, max_repeat)
    return text.strip()


class NormalizeStage:
    name = "normalize"

    def __init__(self, cfg: dict, lang: str):
        self.max_repeat = int(cfg.get("max_repeat", 4))

    def __call__(self, table: pa.Table) -> pa.Table:
        live = live_mask(table)
        texts = table.column("text").to_pylist()
        out, reasons = [], []
        for keep, text in zip(live, texts):
            if not keep:
                out.append(text)
                reasons.append(None)
                continue
            norm = normalize_text(text, self.max_repeat)
            out.append(norm)
            reasons.append(None if norm else "normalize:empty")
        table = set_column(table, "text", out)
        return merge_drop_reasons(table, reasons)


def make_stage(cfg: dict, lang: str) -> NormalizeStage:
    return NormalizeStage(cfg or {}, lang)
