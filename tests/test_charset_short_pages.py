"""Short unlabelled legacy-charset pages: a title and one sentence say little, and the
bytes of one East Asian charset often decode without error under another."""

import json
from pathlib import Path

import pytest

from curate.io.charset import decode_html

SHORT_TEXTS = Path(__file__).parent / "data" / "web" / "short_texts.jsonl"


def _texts(lang: str, *kinds: str) -> list[str]:
    rows = [json.loads(line) for line in SHORT_TEXTS.read_text(encoding="utf-8").splitlines()]
    return [r["text"] for r in rows if r["lang"] == lang and r["kind"] in kinds]


def _pages(bodies: list[str], titles: list[str]):
    """(body, html) twice per body: title and paragraph; title repeated as a heading."""
    for i, body in enumerate(bodies):
        title = titles[i % len(titles)]
        yield body, f"<html><head><title>{title}</title></head><body><p>{body}</p></body></html>"
        yield (
            body,
            f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1><div>{body}</div></body></html>",
        )


def _misreads(bodies: list[str], titles: list[str], codec: str) -> list[tuple[str, str, str]]:
    bad = []
    for body, page in _pages(bodies, titles):
        text, charset, how = decode_html(page.encode(codec), "text/html")
        if body not in text:
            bad.append((body, charset, text[-80:]))
    return bad


@pytest.mark.parametrize("codec", ["shift_jis", "euc_jp"])
def test_short_unlabelled_japanese_pages_read_as_their_source(codec):
    bodies = _texts("ja", "sentence", "clause")
    assert len(bodies) >= 400
    bad = _misreads(bodies, _texts("ja", "title"), codec)
    assert not bad, (len(bad), bad[:5])


def test_short_unlabelled_korean_pages_read_as_their_source():
    bodies = _texts("ko", "sentence")
    assert len(bodies) >= 300
    bad = _misreads(bodies, [b[:6] for b in reversed(bodies)], "cp949")
    assert not bad, (len(bad), bad[:5])


@pytest.mark.parametrize(
    "title,body",
    [
        ("日記", "洗面台の鏡に庭の緑が映っています。"),
        ("セクシャルハラスメント", "2006年、北米トヨタ自動車の元社長秘書（日本人女性）が、同社社長（日本人男性）"),
    ],
)
def test_short_shift_jis_page_is_neither_hangul_nor_quarantined(title, body):
    page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1><p>{body}</p></body></html>"
    text, charset, how = decode_html(page.encode("shift_jis"), "text/html")
    assert charset == "shift_jis" and title in text and body in text, (charset, how, text)
