"""Build WARC files of real-looking web pages around real paragraphs (tests and bench)."""
from __future__ import annotations

import html
import io
import json
import random
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

PARAGRAPHS = Path(__file__).parent / "data" / "web" / "paragraphs.jsonl"

NAV = {"ko": ["홈", "뉴스", "정치", "경제", "사회", "스포츠", "연예", "로그인", "회원가입"],
       "ja": ["ホーム", "ニュース", "政治", "経済", "社会", "スポーツ", "ログイン", "会員登録"]}
FOOTER = {"ko": "Copyright © 2024 한국일보사. 무단 전재 및 재배포 금지. 회사소개 | 이용약관 | 개인정보처리방침",
          "ja": "Copyright © 2024 ニュース株式会社 無断転載を禁じます。会社概要 | 利用規約 | プライバシーポリシー"}
RELATED = {"ko": ["많이 본 뉴스", "오늘의 날씨", "실시간 인기 검색어"], "ja": ["アクセスランキング", "今日の天気", "関連記事"]}


def load_paragraphs() -> list[dict]:
    return [json.loads(line) for line in PARAGRAPHS.read_text(encoding="utf-8").splitlines()]


def page(lang: str, title: str, paragraphs: list[str], meta_charset: str | None) -> str:
    """A page as a news site serves it: head, scripts, navigation, the article, sidebars, footer."""
    meta = f'<meta charset="{meta_charset}">' if meta_charset else ""
    nav = "".join(f'<li><a href="/{i}">{html.escape(x)}</a></li>' for i, x in enumerate(NAV[lang]))
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    related = "".join(f'<li><a href="/r{i}">{html.escape(x)}</a></li>' for i, x in enumerate(RELATED[lang]))
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head>{meta}<title>{html.escape(title)}</title>'
        '<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}</script>'
        '<style>body{font-family:sans-serif}.nav li{display:inline}</style></head><body>'
        f'<header><ul class="nav">{nav}</ul></header>'
        f'<main><article><h1>{html.escape(title)}</h1>{body}</article></main>'
        f'<aside><ul>{related}</ul></aside>'
        f'<footer><p>{html.escape(FOOTER[lang])}</p></footer>'
        '<script>console.log("tracking");</script></body></html>'
    )


def write_warc(path: Path, pages: list[dict]) -> None:
    """pages: dicts with url, html (str), encoding, content_type (the HTTP header value)."""
    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=str(path).endswith(".gz"))
        for p in pages:
            payload = p["html"].encode(p["encoding"], "xmlcharrefreplace")  # as CMSes do
            headers = StatusAndHeaders("200 OK", [("Content-Type", p["content_type"]),
                                                 ("Content-Length", str(len(payload)))], protocol="HTTP/1.1")
            rec = writer.create_warc_record(p["url"], "response", payload=io.BytesIO(payload),
                                            http_headers=headers)
            writer.write_record(rec)


# (encoding, HTTP Content-Type, <meta charset>): correct, missing and wrong declarations.
VARIANTS = {
    "ko": [("utf-8", "text/html; charset=utf-8", "utf-8"), ("cp949", "text/html; charset=cp949", None),
           ("euc-kr", "text/html; charset=euc-kr", "euc-kr"), ("euc-kr", "text/html", "euc-kr"),
           ("cp949", "text/html", None), ("euc-kr", "text/html; charset=iso-8859-1", None),
           ("utf-8", "text/html", None), ("cp949", "text/html; charset=utf-8", None)],
    "ja": [("utf-8", "text/html; charset=utf-8", "utf-8"), ("shift_jis", "text/html; charset=shift_jis", None),
           ("euc-jp", "text/html; charset=euc-jp", "euc-jp"), ("shift_jis", "text/html", "shift_jis"),
           ("shift_jis", "text/html", None), ("euc-jp", "text/html", None),
           ("shift_jis", "text/html; charset=iso-8859-1", None), ("euc-jp", "text/html; charset=utf-8", None)],
}


def build_pages(seed: int = 0, per_page: int = 2) -> list[dict]:
    rng = random.Random(seed)
    pages = []
    for lang in ("ko", "ja"):
        paras = [p["text"] for p in load_paragraphs() if p["lang"] == lang]
        for i in range(0, len(paras) - per_page + 1, per_page):
            chosen = paras[i:i + per_page]
            enc, ctype, meta = VARIANTS[lang][(i // per_page) % len(VARIANTS[lang])]
            title = chosen[0][:20]
            pages.append({"url": f"https://news.example/{lang}/{i}", "lang": lang, "paragraphs": chosen,
                          "html": page(lang, title, chosen, meta), "encoding": enc, "content_type": ctype})
    rng.shuffle(pages)
    return pages
