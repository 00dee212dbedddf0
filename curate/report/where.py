"""The `--where` language of `curate inspect`, turned into a pyarrow.compute expression.

    comparison   column OP value            == != < <= > >=   (= is ==)
                 column is [not] null
                 column [not] in ('a', 'b')  or  in ['a', 'b']
                 column contains|startswith|endswith 'text'
    column       name | struct.field | map['key'] | len(column)
    value        'text' | "text" | number | true | false | another column
    joined by    and, or, not, parentheses

A map column read with a key (pii_counts['tel']) is null where the key is absent.
Nothing the user types is evaluated as Python; a mistake is a WhereError whose message
says what is wrong in words (a bare word where text was meant, text compared with a
number, an unknown column or field).
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

GRAMMAR = __doc__.split("\n\n")[1]


class WhereError(ValueError):
    pass


_TOKEN = re.compile(
    r"""\s*(?:
    (?P<num>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
  | (?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<op>==|!=|<=|>=|=|<|>|\(|\)|\[|\]|,)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
)""",
    re.X,
)
KEYWORDS = {"and", "or", "not", "is", "null", "in", "contains", "startswith", "endswith", "true", "false", "len"}
COMPARE = {"==": "__eq__", "=": "__eq__", "!=": "__ne__", "<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__"}
MATCHERS = {"contains": "match_substring", "startswith": "starts_with", "endswith": "ends_with"}
CLOSING = {"(": ")", "[": "]"}


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


def kind_of(typ: pa.DataType) -> str:
    """A column type in words: text, number, true/false, fields, map, list."""
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return "text"
    if pa.types.is_integer(typ) or pa.types.is_floating(typ):
        return "numbers"
    if pa.types.is_boolean(typ):
        return "true/false"
    if pa.types.is_struct(typ):
        return "fields"
    if pa.types.is_map(typ):
        return "map"
    return "list" if pa.types.is_list(typ) else str(typ)


def _literal_kind(value) -> str:
    if isinstance(value, bool):
        return "true/false"
    return "text" if isinstance(value, str) else "numbers"


_EXAMPLE = {"text": "'ko'", "numbers": "0.5", "true/false": "true"}


class _Parser:
    """Recursive descent: or > and > not > comparison. Operands carry (expr, kind, label)."""

    def __init__(self, text: str, schema: pa.Schema):
        self.toks, self.i, self.schema = _tokens(text), 0, schema

    def peek(self, kind=None, val=None, ahead: int = 0) -> bool:
        if self.i + ahead >= len(self.toks):
            return False
        k, v = self.toks[self.i + ahead]
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

    # ------------------------------------------------------------------ operands
    def column(self, name: str):
        """(expression, kind, label) of a column, struct field or map entry."""
        path = name.split(".")
        if path[0] not in self.schema.names:
            raise WhereError(f"unknown column {path[0]!r} (columns: {', '.join(self.schema.names)})")
        typ = self.schema.field(path[0]).type
        for sub in path[1:]:
            if not pa.types.is_struct(typ) or typ.get_field_index(sub) < 0:
                raise WhereError(f"{name!r}: no field {sub!r}")
            typ = typ.field(sub).type
        expr = pc.field(*path)
        if self.peek("op", "["):
            if not pa.types.is_map(typ):
                raise WhereError(f"{name} holds {kind_of(typ)}, not a map: only a map column takes ['key']")
            self.take()
            key = self.value(f"{name}[{{}}]")
            self.take("op", "]")
            if _literal_kind(key) != kind_of(typ.key_type):
                raise WhereError(f"{name} has keys of {kind_of(typ.key_type)}, not {_literal_kind(key)}")
            expr = pc.map_lookup(expr, query_key=pa.scalar(key, typ.key_type), occurrence="first")
            return expr, kind_of(typ.item_type), f"{name}[{key!r}]"
        return expr, kind_of(typ), name

    def value(self, example: str):
        """A literal; a bare word here was most likely meant as text (example: where it goes, as {})."""
        if self.peek("name") and self.toks[self.i][1] not in self.schema.names:
            word = self.toks[self.i][1]
            raise WhereError(f"{word!r} is not a column: write text in quotes, e.g. {example.format(repr(word))}")
        return self.take("lit")

    def operand(self, example: str = ""):
        if self.peek("lit"):
            v = self.take()
            return v, _literal_kind(v), repr(v)
        if self.peek("kw", "true") or self.peek("kw", "false"):
            return self.take() == "true", "true/false", "true/false"
        if self.peek("kw", "len"):
            self.take()
            self.take("op", "(")
            expr, kind, label = self.column(self.take("name"))
            self.take("op", ")")
            if kind != "text":
                raise WhereError(f"len() counts characters of text; {label} holds {kind}")
            return pc.utf8_length(expr), "numbers", f"len({label})"
        if example and self.peek("name") and self.toks[self.i][1].split(".")[0] not in self.schema.names:
            self.value(example)  # raises: a bare word
        return self.column(self.take("name"))

    # ------------------------------------------------------------------ comparisons
    def comparison(self):
        if self.peek("lit"):
            raise WhereError("a comparison starts with a column, e.g. quality_score < 0.3")
        left, kind, label = self.operand()
        if self.peek("kw", "is"):
            self.take()
            negate = self.peek("kw", "not") and self.take()
            self.take("kw", "null")
            return left.is_valid() if negate else left.is_null()
        if self.peek("kw", "in") or (self.peek("kw", "not") and self.peek("kw", "in", ahead=1)):
            return self.membership(left, kind, label)
        for kw, fn in MATCHERS.items():
            if self.peek("kw", kw):
                self.take()
                pattern = self.value(f"{label} {kw} {{}}")
                _check(kind, "text", label, kw)
                return getattr(pc, fn)(left, pattern=str(pattern))
        op = self.take("op")
        if op not in COMPARE:
            raise WhereError(f"expected a comparison operator, got {op!r}")
        right, right_kind, _ = self.operand(f"{label} {op} {{}}")
        _check(kind, right_kind, label, op)
        return getattr(left, COMPARE[op])(right)

    def membership(self, left, kind: str, label: str):
        negate = self.take() == "not" and self.take("kw", "in")
        if not (self.peek("op", "(") or self.peek("op", "[")):
            raise WhereError(f"in takes a list of values, e.g. {label} in ({_EXAMPLE.get(kind, '1')}, ...)")
        close = CLOSING[self.take("op")]
        example = f"{label} in ({{}}, ...)"
        values = [self.value(example)]
        while self.peek("op", ","):
            self.take()
            values.append(self.value(example))
        self.take("op", close)
        for v in values:
            _check(kind, _literal_kind(v), label, "in")
        e = left.isin(values)
        return ~e if negate else e


def _check(kind: str, other: str, label: str, op: str) -> None:
    """Compared things must be of one kind: text with text, numbers with numbers."""
    if kind in ("fields", "map", "list"):
        hint = {
            "fields": f"name one of its fields, e.g. {label}.<field>",
            "map": f"read one key, e.g. {label}['<key>']",
            "list": "it cannot be compared",
        }[kind]
        raise WhereError(f"{label} holds {kind}, not one value: {hint}")
    if kind != other:
        example = _EXAMPLE.get(kind, "a value")
        raise WhereError(f"{label} holds {kind} and cannot be compared with {other} ({op}): e.g. {label} == {example}")


def parse_where(text: str, schema: pa.Schema) -> pc.Expression:
    """A --where string as a pyarrow.compute expression over `schema`."""
    return _Parser(text, schema).parse()
