"""How `curate inspect` prints a document: its columns, the failing quality signal first, its text."""

from __future__ import annotations

import shutil
import sys
import textwrap

SIGNALS = "quality_signals"


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items() if x is not None) or "{}"
    if isinstance(v, list):  # map columns come back as [(k, v), ...]
        return ", ".join(f"{k}={x}" for k, x in v) if v and isinstance(v[0], tuple) else str(v)
    return str(v)


def failing_signal(row: dict, rules: dict[str, tuple]) -> str | None:
    """'top_4gram_frac = 0.31 (must be ≤ 0.25)' for a document a quality rule dropped."""
    reason = row.get("drop_reason") or ""
    if not reason.startswith("quality:"):
        return None
    rule = rules.get(reason.split(":", 1)[1])
    if rule is None:
        return None
    signal, bound, threshold = rule
    value = (row.get(SIGNALS) or {}).get(signal)
    shown = "not computed" if value is None else _fmt(value)
    return f"{signal} = {shown} (must be {'≥' if bound == 'min' else '≤'} {threshold:g})"


def _signals(row: dict, failing: str | None) -> str:
    """The signals a document has, the failing one first (it is why the document went)."""
    values = {k: v for k, v in (row.get(SIGNALS) or {}).items() if v is not None}
    if failing:
        values.pop(failing.split(" = ", 1)[0], None)
        return "; ".join([failing] + [f"{k}={_fmt(v)}" for k, v in values.items()])
    return _fmt(values)


def _wide(s: str) -> bool:
    return sum(1 for ch in s[:200] if ord(ch) >= 0x1100) > len(s[:200]) // 3


def _print_text(text: str, max_chars: int, width: int, file) -> None:
    short = text[:max_chars] + (f" … [{len(text) - max_chars:,} more chars]" if len(text) > max_chars else "")
    for para in short.split("\n"):
        # wrap by display width: CJK characters take two columns
        wrapped = textwrap.fill(para, width=width // 2 if _wide(para) else width - 4) or ""
        print(textwrap.indent(wrapped, "    "), file=file)


def print_docs(rows: list[dict], columns: list[str], max_chars: int, rules: dict | None = None, file=None) -> None:
    """Each row as a block: a rule line, the failing signal, the columns, then `text_column` wrapped."""
    file = file or sys.stdout
    rules = rules or {}
    width = min(shutil.get_terminal_size((100, 20)).columns, 120)
    text_column = next((c for c in ("text", "raw") if c in columns), None)
    for n, row in enumerate(rows, 1):
        print(f"── {n} " + "─" * max(0, width - 5 - len(str(n))), file=file)
        failing = failing_signal(row, rules)
        if failing:
            print(f"  {'failing':>14}: {failing}", file=file)
        for c in columns:
            if c == text_column:
                continue
            shown = _signals(row, failing) if c == SIGNALS else _fmt(row.get(c))
            print(f"  {c:>14}: {shown}", file=file)
        if text_column:
            _print_text(row.get(text_column) or "", max_chars, width, file)
