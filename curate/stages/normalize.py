"""normalize: NFC, HTML entities, invisible characters, line ends; squeezes only noise.

Runs first on every record so that every later stage, and the dedup hash, see one
canonical form of the text. It cleans and never rewrites: digits, URLs, e-mail
addresses, leading indentation, runs of spaces inside a line and lines of code come
out as they went in. The only characters it drops from visible text are runs that
are noise by construction: one Hangul jamo repeated (ㅋㅋㅋㅋㅋㅋ, ㅠㅠㅠㅠㅠ), one
expressive punctuation mark repeated (!!!!!!, ?????, ~~~~~~) and w / ｗ laughter
after Japanese text (草wwwwww), each cut to max_repeat.
"""

from __future__ import annotations

import bisect
import html
import itertools
import re
import unicodedata
from dataclasses import dataclass
from html.entities import html5

import pyarrow as pa

from curate.io.readers import DEFAULT_MAX_DOC_CHARS
from curate.stages.base import BatchStage, Section, live_mask, merge_drop_reasons, set_column

# Bump when normalize_text's output changes for some input: staged work of a run made
# with another version is then not reused. 2: noise-only squeezing, indentation and
# inner spaces kept, entities decoded only with their semicolon.
NORMALIZE_VERSION = 2

# Characters that end a line in Unicode text become "\n".
_LINE_ENDS = re.compile(r"\r\n?|[\x85\u2028\u2029]")
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
# C0/C1 controls except tab and newline (\x0b, \x0c count as spaces below).
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_SPACE_CHARS = "\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\x0b\x0c"
# Unicode spaces inside a line become plain spaces one for one (columns stay aligned);
# the indentation before a line's first character is left as it is.
_UNICODE_SPACE = re.compile(f"[{_SPACE_CHARS}]")
_INDENT_AND_REST = re.compile(r"^([^\S\n]*)(.*)$", re.M)
_TRAILING_SPACE = re.compile(r"[^\S\n]+$", re.M)
_MANY_BLANK_LINES = re.compile(r"\n{4,}")  # more than two blank lines in a row
# Whatever the four substitutions above act on, but for plain spaces, tabs and line
# breaks (every other character of \s is here): most texts have none, and one search
# over them replaces four passes.
_SPECIAL = re.compile(rf"[\r\x85\u2028\u2029\u200b\u200c\u200d\u2060\ufeff\x00-\x08\x0e-\x1f\x7f-\x9f{_SPACE_CHARS}]")
# Named entities need their semicolon: html.unescape would also read "&copy" and
# "&not" without one, which turns the query string "?a=1&copy=2&notify=1" into "?a=1©=2¬ify=1".
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")

# Noise: the same character repeated. Hangul compatibility jamo (ㅋ ㅎ ㅠ ㅜ ㄷ ...),
# expressive punctuation, full-width ｗ anywhere; ASCII w only right after a kana, kanji
# or Japanese punctuation (草wwwwww), never inside a Latin word.
_JAMO = "\u3131-\u318e\uffa0-\uffdc"
_PUNCT = "!?.~^;\u2026\u2661\u2665\uff01\uff1f\u3002\uff5e"  # … ♡ ♥ ！ ？ 。 ～
_JAPANESE = "\u3000-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff0f\uff1a-\uff20"
_URL = r"(?:[A-Za-z][A-Za-z0-9+.-]{1,15}://|www\.)\S+"
_EMAIL = r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+"
_PROTECTED = re.compile(f"{_URL}|{_EMAIL}")
# Lines that look like code (or markup) and lines inside a Markdown code fence are never
# squeezed: a string literal "!!!!!!", an indented block, a `~~~~~~` fence or a `^^^^^^`
# heading underline is what its author wrote.
_CODE_LINE = re.compile(
    r"^(?:\t| {2,})"  # indented
    r"|[{}]|`[^`]+`|[A-Za-z0-9_)\]'\"];\s*$"  # braces, inline code, a statement's semicolon
    r"|[A-Za-z_][A-Za-z0-9_.]*\("  # a call
    r"|::|==|!=|&&|\|\||[-+*/%|&]="  # operators (not -> or 1+1=2: prose has them)
    r"|(?<![A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_.\[\]]*\s?=\s?[A-Za-z0-9_\"'\[(-]"  # an assignment
    r"|^\s*(?:#include|#!|import\s|from\s+\S+\s+import|def\s|class\s|return\b|//|/\*|<\?|</?[A-Za-z])"
    r"|^\s*\^{3,}\s*$"  # a ^^^ heading underline
)
# Every line _CODE_LINE matches holds one of these characters, or starts with indentation
# or (after spaces) one of these words: a class search rules most lines out at once, where
# the alternation is tried at every position.
_CODE_CHARS = re.compile(r"[{}`;(:=&|#/<^]")
_CODE_WORDS = ("import", "from", "def", "class", "return")


def _looks_like_code(line: str) -> bool:
    if not (_CODE_CHARS.search(line) or line.startswith(("\t", "  ")) or line.lstrip().startswith(_CODE_WORDS)):
        return False
    return _CODE_LINE.search(line) is not None


# A Markdown code fence (``` or ~~~, then at most a language name) opens or closes a block
# of code; "~~~~~ 재밌어요" is not one.
_FENCE = re.compile(r"^[ \t]*(?:`{3,}|~{3,})[ \t]*[A-Za-z0-9_+.#-]*[ \t]*$")


def _noise(max_repeat: int) -> re.Pattern:
    # One class of every noise character, "w" with them: re scans for a member of a
    # leading class with a table lookup per character, where an alternation was tried
    # at every position (most of normalize's time). A run of "w" is noise only after
    # Japanese text and before no letter or digit (_is_noise).
    return re.compile(rf"([{_JAMO}{_PUNCT}\uff57w])\1{{{max_repeat},}}")


_NOISE = {}
_JAPANESE_CHAR = re.compile(f"[{_JAPANESE}]")
_ALNUM_ASCII = re.compile("[A-Za-z0-9]")


def _is_noise(m: re.Match) -> bool:
    """A run the noise pattern found is noise: any but "w", and "w" laughter (草wwwwww)
    right after a Japanese character, in the same string, and before no letter or digit."""
    if m.group(1) != "w":
        return True
    start, end, text = m.start(), m.end(), m.string
    return start > 0 and _JAPANESE_CHAR.match(text, start - 1) is not None and not _ALNUM_ASCII.match(text, end)


def squeeze_runs(text: str, max_repeat: int) -> str:
    """ㅋㅋㅋㅋㅋㅋㅋ -> ㅋㅋㅋㅋ, !!!!!!! -> !!!!: runs of one noise character cut to max_repeat,
    outside URLs, e-mail addresses and lines that look like code."""
    if max_repeat <= 0:
        return text
    noise = _NOISE.get(max_repeat) or _NOISE.setdefault(max_repeat, _noise(max_repeat))
    # No run crosses a line break, and "\n" is neither Japanese nor a letter: a run is
    # noise in the text exactly when it is in its line.
    runs = [m.start() for m in noise.finditer(text) if _is_noise(m)]
    if not runs:
        return text

    def cut(m: re.Match) -> str:
        return m.group(1) * max_repeat if _is_noise(m) else m.group()

    lines = text.split("\n")
    fenced = "```" in text or "~~~" in text  # then every line, to follow the fences
    in_fence = False
    for i in range(len(lines)) if fenced else _lines_of(lines, runs):
        line = lines[i]
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence or (fenced and not any(map(_is_noise, noise.finditer(line)))) or _looks_like_code(line):
            continue
        parts, start = [], 0
        for m in _PROTECTED.finditer(line):
            parts += [noise.sub(cut, line[start : m.start()]), m.group()]
            start = m.end()
        parts.append(noise.sub(cut, line[start:]))
        lines[i] = "".join(parts)
    return "\n".join(lines)


def _lines_of(lines: list[str], offsets: list[int]) -> list[int]:
    """The distinct lines (indices, ascending) that hold the text offsets given in order."""
    starts = list(itertools.accumulate((len(line) + 1 for line in lines[:-1]), initial=0))
    return sorted({bisect.bisect_right(starts, at) - 1 for at in offsets})


def _decode_entity(m: re.Match) -> str:
    entity = m.group()
    if entity[1] == "#":
        return html.unescape(entity)
    return html5.get(entity[1:], entity)


def decode_entities(text: str) -> str:
    """&amp; &lt; &#44032; &#xAC00; -> & < 가 가; names without their semicolon stay as written."""
    return _ENTITY.sub(_decode_entity, text) if "&" in text else text


def normalize_text(text: str, max_repeat: int = 4) -> str:
    text = decode_entities(text)
    text = unicodedata.normalize("NFC", text)
    if _SPECIAL.search(text):
        text = _LINE_ENDS.sub("\n", text)
        text = _ZERO_WIDTH.sub("", text)
        text = _CONTROLS.sub("", text)
        if _UNICODE_SPACE.search(text):
            text = _INDENT_AND_REST.sub(lambda m: m.group(1) + _UNICODE_SPACE.sub(" ", m.group(2)), text)
        text = _TRAILING_SPACE.sub("", text)
    elif " \n" in text or "\t\n" in text or text.endswith((" ", "\t")):
        text = _TRAILING_SPACE.sub("", text)  # its only whitespace: spaces, tabs, line breaks
    if "\n\n\n\n" in text:
        text = _MANY_BLANK_LINES.sub("\n\n\n", text)
    text = squeeze_runs(text, max_repeat)
    return text.lstrip("\n").rstrip()


@dataclass(frozen=True)
class NormalizeSettings:
    max_repeat: int = 4
    max_doc_chars: int = DEFAULT_MAX_DOC_CHARS  # applied by the reader: longer records are quarantined

    @classmethod
    def from_section(cls, section: dict, lang: str) -> NormalizeSettings:
        s = Section(section, {"max_repeat", "max_doc_chars"})
        return cls(s.integer("max_repeat", 4, minimum=1), s.integer("max_doc_chars", DEFAULT_MAX_DOC_CHARS, minimum=1))


class NormalizeStage(BatchStage):
    name = "normalize"
    Settings = NormalizeSettings

    def __call__(self, table: pa.Table) -> pa.Table:
        live = live_mask(table)
        texts = table.column("text").to_pylist()
        out, reasons = [], []
        for keep, text in zip(live, texts):
            if not keep:
                out.append(text)
                reasons.append(None)
                continue
            norm = normalize_text(text, self.settings.max_repeat)
            out.append(norm)
            reasons.append(None if norm else "normalize:empty")
        table = set_column(table, "text", out)
        return merge_drop_reasons(table, reasons)
