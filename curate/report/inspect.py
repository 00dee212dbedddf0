"""`curate inspect DIR`: print documents of a curated folder that match a filter.

    curate inspect out/corpus/ko --where "drop_reason == 'quality:max_top_4gram_frac' and lang == 'ko'" --limit 5
    curate inspect out/corpus/ko --reason near_dup --columns id,dup_of,text
    curate inspect out/corpus/ko --where "len(text) > 2000 or quality_signals.hangul_ratio < 0.5"

--where is parsed by a small grammar (comparisons joined by and/or/not, parentheses,
`is [not] null`, `in (...)`, `contains`, `startswith`, len(col), struct.field) and
turned into a pyarrow.compute expression evaluated by pyarrow.dataset: nothing the
user types is evaluated as Python.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

DEFAULT_COLUMNS = ["id", "source", "lang", "lang_score", "quality_score", "drop_reason", "dup_cluster", "text"]


class WhereError(ValueError):
    pass


# ---------------------------------------------------------------------------- --where
_TOKEN = re.compile(
    r"""\s*(?:
    (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>==|!=|<=|>=|=|<|>|\(|\)|,)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
)""",
    re.X,
)
KEYWORDS = {"and", "or", "not", "is", "null", "in", "contains", "startswith", "endswith", "true", "false", "len"}


def _tokens(text: str) -> list[tuple[str, object]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise WhereError(f"cannot read --where at: {text[pos : pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup
        val = m.group(kind)
        if kind == "num":
            out.append(("lit", float(val) if any(c in val for c in ".eE") else int(val)))
        elif kind == "str":
            out.append(("lit", re.sub(r"\\(.)", r"\1", val[1:-1])))
        elif kind == "name" and val.lower() in KEYWORDS:
            out.append(("kw", val.lower()))
        else:
            out.append((kind, val))
    return out


class _Parser:
    """Recursive descent: or > and > not > comparison."""

    def __init__(self, text: str, schema: pa.Schema):
        self.toks, self.i, self.schema = _tokens(text), 0, schema

    def peek(self, kind=None, val=None) -> bool:
        if self.i >= len(self.toks):
            return False
        k, v = self.toks[self.i]
        return (kind is None or k == kind) and (val is None or v == val)

    def take(self, kind=None, val=None):
        if not self.peek(kind, val):
            got = self.toks[self.i][1] if self.i < len(self.toks) else "end of --where"
            raise WhereError(f"expected {val or kind}, got {got!r}")
        self.i += 1
        return self.toks[self.i - 1][1]

    def parse(self) -> pc.Expression:
        e = self.or_()
        if self.i != len(self.toks):
            raise WhereError(f"unexpected {self.toks[self.i][1]!r} in --where")
        return e

    def or_(self):
        e = self.and_()
        while self.peek("kw", "or"):
            self.take()
            e = e | self.and_()
        return e

    def and_(self):
        e = self.not_()
        while self.peek("kw", "and"):
            self.take()
            e = e & self.not_()
        return e

    def not_(self):
        if self.peek("kw", "not"):
            self.take()
            return ~self.not_()
        if self.peek("op", "("):
            self.take()
            e = self.or_()
            self.take("op", ")")
            return e
        return self.comparison()

    def field(self, name: str) -> pc.Expression:
        path = name.split(".")
        if path[0] not in self.schema.names:
            raise WhereError(f"unknown column {path[0]!r} (columns: {', '.join(self.schema.names)})")
        typ = self.schema.field(path[0]).type
        for sub in path[1:]:
            if not pa.types.is_struct(typ) or typ.get_field_index(sub) < 0:
                raise WhereError(f"{name!r}: no field {sub!r}")
            typ = typ.field(sub).type
        return pc.field(*path)

    def operand(self):
        if self.peek("lit"):
            return self.take(), True
        if self.peek("kw", "true") or self.peek("kw", "false"):
            return self.take() == "true", True
        if self.peek("kw", "len"):
            self.take()
            self.take("op", "(")
            e = pc.utf8_length(self.field(self.take("name")))
            self.take("op", ")")
            return e, False
        return self.field(self.take("name")), False

    def comparison(self):
        left, left_lit = self.operand()
        if left_lit:
            raise WhereError("a comparison starts with a column, e.g. quality_score < 0.3")
        if self.peek("kw", "is"):
            self.take()
            negate = self.peek("kw", "not") and self.take()
            self.take("kw", "null")
            return left.is_valid() if negate else left.is_null()
        if self.peek("kw", "in") or (self.peek("kw", "not") and self.toks[self.i + 1 : self.i + 2] == [("kw", "in")]):
            negate = self.take() == "not" and self.take("kw", "in")
            self.take("op", "(")
            values = [self.take("lit")]
            while self.peek("op", ","):
                self.take()
                values.append(self.take("lit"))
            self.take("op", ")")
            e = left.isin(values)
            return ~e if negate else e
        for kw, fn in (("contains", "match_substring"), ("startswith", "starts_with"), ("endswith", "ends_with")):
            if self.peek("kw", kw):
                self.take()
                pattern = self.take("lit")
                return getattr(pc, fn)(left, pattern=str(pattern))
        op = self.take("op")
        right, _ = self.operand()
        ops = {
            "==": "__eq__",
            "=": "__eq__",
            "!=": "__ne__",
            "<": "__lt__",
            "<=": "__le__",
            ">": "__gt__",
            ">=": "__ge__",
        }
        if op not in ops:
            raise WhereError(f"expected a comparison operator, got {op!r}")
        return getattr(left, ops[op])(right)


def parse_where(text: str, schema: pa.Schema) -> pc.Expression:
    """A --where string as a pyarrow.compute expression over `schema`."""
    return _Parser(text, schema).parse()


def reason_filter(reason: str) -> pc.Expression:
    """--reason near_dup / quality / quality:min_n_chars / min_n_chars."""
    r = pc.field("drop_reason")
    return (r == reason) | pc.starts_with(r, pattern=f"{reason}:") | pc.ends_with(r, pattern=f":{reason}")


# ---------------------------------------------------------------------------- output
def _files(out: Path, kinds: list[str]) -> list[str]:
    return [str(p) for kind in kinds for p in sorted((out / kind).glob("*.parquet"))]


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items() if x is not None) or "{}"
    if isinstance(v, list):  # map columns come back as [(k, v), ...]
        return ", ".join(f"{k}={x}" for k, x in v) if v and isinstance(v[0], tuple) else str(v)
    return str(v)


def print_docs(rows: list[dict], columns: list[str], max_chars: int, file=None) -> None:
    file = file or sys.stdout
    width = min(shutil.get_terminal_size((100, 20)).columns, 120)
    for n, row in enumerate(rows, 1):
        print(f"── {n} " + "─" * max(0, width - 5 - len(str(n))), file=file)
        for c in columns:
            if c == "text":
                continue
            print(f"  {c:>14}: {_fmt(row.get(c))}", file=file)
        if "text" in columns:
            text = row.get("text") or ""
            short = text[:max_chars] + (f" … [{len(text) - max_chars:,} more chars]" if len(text) > max_chars else "")
            for para in short.split("\n"):
                # wrap by display width: CJK characters take two columns
                print(
                    textwrap.indent(textwrap.fill(para, width=width // 2 if _wide(para) else width - 4) or "", "    "),
                    file=file,
                )


def _wide(s: str) -> bool:
    return sum(1 for ch in s[:200] if ord(ch) >= 0x1100) > len(s[:200]) // 3


def find_docs(
    out_dir: str,
    where: str | None = None,
    reason: str | None = None,
    kinds=("shards", "rejected"),
    columns: list[str] | None = None,
    limit: int = 5,
) -> list[dict]:
    files = _files(Path(out_dir), list(kinds))
    if not files:
        return []
    dataset = ds.dataset(files, format="parquet")
    expr = None
    if where:
        expr = parse_where(where, dataset.schema)
    if reason:
        expr = reason_filter(reason) if expr is None else expr & reason_filter(reason)
    cols = [c for c in (columns or DEFAULT_COLUMNS) if c in dataset.schema.names]
    return dataset.scanner(columns=cols, filter=expr).head(limit).to_pylist()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="curate inspect", description="print matching documents of a curated folder")
    ap.add_argument("dir")
    ap.add_argument("--where", help="filter, e.g. \"drop_reason == 'quality:max_top_4gram_frac' and lang == 'ko'\"")
    ap.add_argument("--reason", help="drop reason or its stage/rule (near_dup, quality, min_n_chars, ...)")
    ap.add_argument("--kind", choices=["shards", "rejected", "all"], default="all", help="which files to search")
    ap.add_argument("--limit", type=int, default=5)
    ap.add_argument("--columns", help=f"comma-separated columns to show (default: {','.join(DEFAULT_COLUMNS)})")
    ap.add_argument("--chars", type=int, default=600, help="show at most this many characters of text")
    args = ap.parse_args(argv)
    kinds = ["shards", "rejected"] if args.kind == "all" else [args.kind]
    columns = [c.strip() for c in args.columns.split(",")] if args.columns else DEFAULT_COLUMNS
    if not Path(args.dir).is_dir():
        print(f"curate inspect: {args.dir}: no such folder", file=sys.stderr)
        return 2
    try:
        rows = find_docs(args.dir, args.where, args.reason, kinds, columns, args.limit)
    except (WhereError, pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        print(f"curate inspect: {exc}", file=sys.stderr)
        return 2
    if not rows:
        print("no matching documents", file=sys.stderr)
        return 1
    print_docs(rows, [c for c in columns if c in rows[0]], args.chars)
    return 0


if __name__ == "__main__":
    sys.exit(main())
