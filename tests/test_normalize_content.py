"""normalize cleans and never rewrites: digits, URLs, e-mail addresses, indentation and
lines of code survive; only runs of noise characters (ㅋㅋㅋㅋㅋ, !!!!!!, 草wwwww) shrink."""

import gzip
import html
import json
import re
import unicodedata
from html.entities import html5
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.stages.normalize import normalize_text

ROOT = Path(__file__).resolve().parents[1]
CORPORA = sorted((ROOT / "data" / "sample").glob("*.jsonl.gz")) + sorted(
    p for p in (ROOT / "tests" / "data").rglob("*.jsonl*") if p.suffix in (".jsonl", ".gz")
)

DIGITS = re.compile(r"\d+")
URL = re.compile(r"https?://\S+")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
NOISE_RUN = re.compile(r"([\u3131-\u318e!?.~^;…♡♥！？。～wｗ])\1+")


def cleaned(text: str) -> str:
    """What normalize may change without rewriting: entities with their semicolon, NFC,
    line ends, invisible and control characters (written here independently of the module)."""

    def entity(m):
        body = m.group(1)
        if body.startswith("#"):
            return html.unescape(m.group())
        return html5.get(body + ";", m.group())

    text = re.sub(r"&(#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);", entity, text)
    text = unicodedata.normalize("NFC", text)
    text = re.sub(r"\r\n|\r|\x85|\u2028|\u2029", "\n", text)
    return re.sub(r"[\u200b\u200c\u200d\u2060\ufeff\x00-\x08\x0e-\x1f\x7f-\x9f]", "", text)


def indents(text: str) -> list[str]:
    return [re.match(r"[^\S\n]*", line).group() for line in text.split("\n") if line.strip()]


def content(text: str) -> str:
    """The text without whitespace, each run of one noise character counted once."""
    return NOISE_RUN.sub(r"\1", re.sub(r"\s+", "", text))


def check_survives(text: str):
    ref, out = cleaned(text), normalize_text(text)
    assert DIGITS.findall(out) == DIGITS.findall(ref)
    assert URL.findall(out) == URL.findall(ref)
    assert EMAIL.findall(out) == EMAIL.findall(ref)
    assert indents(out) == indents(ref)
    assert content(out) == content(ref)


def _texts(path: Path):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            try:
                row = json.loads(line, strict=False)
            except json.JSONDecodeError:
                continue  # the report sample holds broken lines on purpose
            if isinstance(row, dict) and isinstance(row.get("text"), str):
                yield row["text"]


@pytest.mark.parametrize("path", CORPORA, ids=lambda p: str(p.relative_to(ROOT)))
def test_bundled_corpora_keep_digits_urls_emails_and_indentation(path):
    texts = list(_texts(path))
    assert texts
    for text in texts:
        check_survives(text)


_INDENT = st.sampled_from(["", " ", "  ", "    ", "\t", "\t\t", "\u3000", " \u00a0", "\x0c"])
_SEP = st.sampled_from(["", " ", "  ", "   ", "\u3000", "\t", "\u00a0", "\u200b"])
_WORD = st.one_of(
    st.from_regex(r"[0-9]{1,20}", fullmatch=True),
    st.from_regex(r"[０-９]{1,8}", fullmatch=True),
    st.sampled_from(
        [
            "가격은",
            "원입니다",
            "재밌어요",
            "東京",
            "です",
            "草",
            "笑",
            "the",
            "def",
            "x =",
            "return",
            "print(",
            ")",
            "{",
            "}",
            ";",
            "&amp;",
            "&copy",
            "&lt;",
            "a----b",
            "...",
        ]
    ),
    st.builds(lambda n, c: c * n, st.integers(1, 12), st.sampled_from(list("ㅋㅎㅠㅜ!?~.^;wｗ。！？～-=0"))),
    st.builds(
        lambda host, path, q: f"https://{host}.com/{path}?id={q}",
        st.from_regex(r"[a-z]{1,8}", fullmatch=True),
        st.from_regex(r"[a-z0-9!~.\-_ㅋ]{0,12}", fullmatch=True),
        st.from_regex(r"[0-9]{1,12}", fullmatch=True),
    ),
    st.from_regex(r"[a-z0-9._+-]{1,10}@[a-z0-9-]{1,8}\.(com|co\.kr|jp)", fullmatch=True),
    st.text(max_size=4),
)
_LINE = st.builds(
    lambda ind, parts: ind + "".join(s + w for s, w in parts), _INDENT, st.lists(st.tuples(_SEP, _WORD), max_size=8)
)
_DOC = st.builds(
    lambda lines, end: end.join(lines), st.lists(_LINE, max_size=6), st.sampled_from(["\n", "\r\n", "\n\n\n\n"])
)


@settings(max_examples=500, deadline=None)
@given(_DOC)
def test_generated_text_keeps_digits_urls_emails_and_indentation(text):
    check_survives(text)


@pytest.mark.parametrize(
    "text",
    [
        "가격은 10000000원입니다",
        "Year 2000000 BC",
        "https://x.com/?id=1000000",
        "4012888888881881",
        "def f(x):\n    if x:\n        return 1",
        "https://example.com/!!!!!",
        "mail me: wow!!!!!!@example.com",
        "a----b",
        "print('ㅋㅋㅋㅋㅋㅋㅋ')",
        "x = '!!!!!!'",
        "~~~~~~ python\nfor i in range(3):\n\tprint(i)\n~~~~~~",
        "```sh\necho 안녕ㅋㅋㅋㅋㅋㅋ wow!!!!!!\n```",
        "제목\n^^^^^^^^",
        "| 이름    | 점수 |\n| 가나다  | 100  |",
        "\u3000今日は晴れ。\n\u3000明日は雨。",
        "?a=1&copy=2&notify=1",
        "0000000000 ㅋ 1111111",
    ],
)
def test_content_comes_out_as_it_went_in(text):
    assert normalize_text(text) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("재밌어요ㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋ", "재밌어요ㅋㅋㅋㅋ"),
        ("ㅎㅎㅎㅎㅎㅎ 좋다", "ㅎㅎㅎㅎ 좋다"),
        ("슬퍼요ㅠㅠㅠㅠㅠㅠㅠ", "슬퍼요ㅠㅠㅠㅠ"),
        ("진짜요!!!!!!!!! 왜?????", "진짜요!!!! 왜????"),
        ("最高！！！！！！？？？？？？", "最高！！！！？？？？"),
        ("草wwwwwwww", "草wwww"),
        ("ですねｗｗｗｗｗｗｗ", "ですねｗｗｗｗ"),
        ("그래서........", "그래서...."),
        ("좋아요~~~~~~ 10000원 https://x.com/a!!!!!!", "좋아요~~~~ 10000원 https://x.com/a!!!!!!"),
        ("Wowwwwwww", "Wowwwwwww"),  # w squeezed only after Japanese text
        ("```\ncode\n```\n좋아요ㅋㅋㅋㅋㅋㅋ", "```\ncode\n```\n좋아요ㅋㅋㅋㅋ"),  # after the fence closes
        ("~~~~~~ 재밌어요ㅋㅋㅋㅋㅋㅋ\n굿ㅋㅋㅋㅋㅋ", "~~~~ 재밌어요ㅋㅋㅋㅋ\n굿ㅋㅋㅋㅋ"),  # tildes, not a fence
    ],
)
def test_noise_runs_are_squeezed(text, expected):
    assert normalize_text(text) == expected


def test_whitespace_is_cleaned_not_collapsed():
    # inner runs of spaces stay (alignment); Unicode spaces become plain ones; trailing
    # spaces and more than two blank lines in a row go
    assert normalize_text("  a\u3000\u3000b \r\n\n\n\n\nc\u200b ") == "  a  b\n\n\nc"
    assert normalize_text("\n\n   \n    indented first line\n") == "    indented first line"
    assert normalize_text("a\tb\t\tc") == "a\tb\t\tc"


def test_entities_decode_only_with_their_semicolon():
    assert normalize_text("AT&amp;T &lt;b&gt; &#44032;&#xAC00; &frac12;") == "AT&T <b> 가가 ½"
    assert normalize_text("https://x.com/?a=1&amp;b=2&copy=3&not=4") == "https://x.com/?a=1&b=2&copy=3&not=4"


def test_a_card_number_survives_to_be_masked():
    from curate.stages.pii.spans import scrub

    text, counts = scrub(normalize_text("카드번호 4012888888881881 로 결제했어요"), "ko")
    assert counts == {"card": 1} and "4012" not in text


def _every_step(text: str, max_repeat: int = 4) -> str:
    """normalize_text with every substitution applied, none skipped by its guard."""
    from curate.stages import normalize as n

    text = unicodedata.normalize("NFC", n.decode_entities(text))
    text = n._CONTROLS.sub("", n._ZERO_WIDTH.sub("", n._LINE_ENDS.sub("\n", text)))
    text = n._INDENT_AND_REST.sub(lambda m: m.group(1) + n._UNICODE_SPACE.sub(" ", m.group(2)), text)
    text = n._MANY_BLANK_LINES.sub("\n\n\n", n._TRAILING_SPACE.sub("", text))
    return n.squeeze_runs(text, max_repeat).lstrip("\n").rstrip()


@pytest.mark.parametrize("path", CORPORA, ids=lambda p: str(p.relative_to(ROOT)))
def test_guards_skip_only_substitutions_with_nothing_to_do(path):
    """One search for the characters the substitutions act on stands for four passes."""
    texts = list(_texts(path))
    assert [normalize_text(t) for t in texts] == [_every_step(t) for t in texts]


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        st.sampled_from(list(" \t\n\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000\u200b\ufeff\x00\x7fa가ㅋ!.&;#3")), max_size=40
    )
)
def test_guards_hold_for_any_whitespace_and_controls(text):
    assert normalize_text(text) == _every_step(text)


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list(" \t\n\na가ㅋ!.~")), max_size=30))
def test_guards_hold_for_plain_spacing(text):
    assert normalize_text(text) == _every_step(text)


def _alternation(max_repeat: int) -> re.Pattern:
    """The noise runs written as one alternation, w laughter behind its look-behind."""
    from curate.stages import normalize as n

    return re.compile(
        rf"([{n._JAMO}{n._PUNCT}\uff57])\1{{{max_repeat},}}|(?<=[{n._JAPANESE}])(w)\2{{{max_repeat},}}(?![A-Za-z0-9])"
    )


@settings(max_examples=600, deadline=None)
@given(st.text(st.sampled_from(list("wwwwWｗｗ草あ。a1 ㅋㅋ!!\n")), max_size=30), st.sampled_from([1, 2, 4]))
def test_noise_runs_equal_the_alternation_of_noise_and_w_laughter(text, max_repeat):
    """The one-class pattern's runs that _is_noise keeps are the alternation's matches."""
    from curate.stages import normalize as n

    kept = [m.span() for m in n._noise(max_repeat).finditer(text) if n._is_noise(m)]
    assert kept == [m.span() for m in _alternation(max_repeat).finditer(text)]


def _squeeze_every_line(text: str, max_repeat: int = 4) -> str:
    """squeeze_runs looking at every line, with the alternation: fences tracked, each
    line searched for a run."""
    from curate.stages import normalize as n

    noise = _alternation(max_repeat)
    lines, in_fence = text.split("\n"), False
    for i, line in enumerate(lines):
        if n._FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence or not noise.search(line) or n._CODE_LINE.search(line):
            continue
        parts, start = [], 0
        for m in n._PROTECTED.finditer(line):
            parts += [noise.sub(lambda r: (r.group(1) or r.group(2)) * max_repeat, line[start : m.start()]), m.group()]
            start = m.end()
        parts.append(noise.sub(lambda r: (r.group(1) or r.group(2)) * max_repeat, line[start:]))
        lines[i] = "".join(parts)
    return "\n".join(lines)


@pytest.mark.parametrize("path", CORPORA, ids=lambda p: str(p.relative_to(ROOT)))
def test_squeezing_only_the_lines_with_a_run_equals_looking_at_every_line(path):
    from curate.stages.normalize import squeeze_runs

    texts = list(_texts(path))
    assert [squeeze_runs(t, 4) for t in texts] == [_squeeze_every_line(t) for t in texts]


@settings(max_examples=600, deadline=None)
@given(st.text(st.sampled_from(list("ㅋㅋㅋ!!!www草あ\n\n``~~ x=1;{}http://a.b/c!!!!! ")), max_size=60))
def test_squeezing_equals_looking_at_every_line_on_any_text(text):
    from curate.stages.normalize import squeeze_runs

    assert squeeze_runs(text, 2) == _squeeze_every_line(text, 2)


@settings(max_examples=800, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [*" \t\u3000a_1가ㅋ!.;{}`(:=&|#/<>?^*-+%'\"[]", "import ", "from x import", "def ", "class ", "return"]
        ),
        max_size=12,
    ).map("".join)
)
def test_the_code_line_prefilter_rules_out_only_lines_the_pattern_misses(line):
    from curate.stages import normalize as n

    assert n._looks_like_code(line) == bool(n._CODE_LINE.search(line))


@pytest.mark.parametrize("path", CORPORA, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_code_line_prefilter_on_real_lines(path):
    from curate.stages import normalize as n

    lines = [line for text in _texts(path) for line in text.split("\n")]
    assert [n._looks_like_code(x) for x in lines] == [bool(n._CODE_LINE.search(x)) for x in lines]
