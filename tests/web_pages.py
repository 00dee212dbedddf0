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

NAV = {
    "ko": ["홈", "뉴스", "정치", "경제", "사회", "스포츠", "연예", "로그인", "회원가입"],
    "ja": ["ホーム", "ニュース", "政治", "経済", "社会", "スポーツ", "ログイン", "会員登録"],
}
FOOTER = {
    "ko": "Copyright © 2024 한국일보사. 무단 전재 및 재배포 금지. 회사소개 | 이용약관 | 개인정보처리방침",
    "ja": "Copyright © 2024 ニュース株式会社 無断転載を禁じます。会社概要 | 利用規約 | プライバシーポリシー",
}
RELATED = {
    "ko": ["많이 본 뉴스", "오늘의 날씨", "실시간 인기 검색어"],
    "ja": ["アクセスランキング", "今日の天気", "関連記事"],
}


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
        "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments);}</script>"
        "<style>body{font-family:sans-serif}.nav li{display:inline}</style></head><body>"
        f'<header><ul class="nav">{nav}</ul></header>'
        f"<main><article><h1>{html.escape(title)}</h1>{body}</article></main>"
        f"<aside><ul>{related}</ul></aside>"
        f"<footer><p>{html.escape(FOOTER[lang])}</p></footer>"
        '<script>console.log("tracking");</script></body></html>'
    )


def write_warc(path: Path, pages: list[dict]) -> None:
    """pages: dicts with url, html (str), encoding, content_type (the HTTP header value)."""
    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=str(path).endswith(".gz"))
        for p in pages:
            payload = p["html"].encode(p["encoding"], "xmlcharrefreplace")  # as CMSes do
            headers = StatusAndHeaders(
                "200 OK",
                [("Content-Type", p["content_type"]), ("Content-Length", str(len(payload)))],
                protocol="HTTP/1.1",
            )
            rec = writer.create_warc_record(p["url"], "response", payload=io.BytesIO(payload), http_headers=headers)
            writer.write_record(rec)


# (encoding, HTTP Content-Type, <meta charset>): correct, missing and wrong declarations.
VARIANTS = {
    "ko": [
        ("utf-8", "text/html; charset=utf-8", "utf-8"),
        ("cp949", "text/html; charset=cp949", None),
        ("euc-kr", "text/html; charset=euc-kr", "euc-kr"),
        ("euc-kr", "text/html", "euc-kr"),
        ("cp949", "text/html", None),
        ("euc-kr", "text/html; charset=iso-8859-1", None),
        ("utf-8", "text/html", None),
        ("cp949", "text/html; charset=utf-8", None),
    ],
    "ja": [
        ("utf-8", "text/html; charset=utf-8", "utf-8"),
        ("shift_jis", "text/html; charset=shift_jis", None),
        ("euc-jp", "text/html; charset=euc-jp", "euc-jp"),
        ("shift_jis", "text/html", "shift_jis"),
        ("shift_jis", "text/html", None),
        ("euc-jp", "text/html", None),
        ("shift_jis", "text/html; charset=iso-8859-1", None),
        ("euc-jp", "text/html; charset=utf-8", None),
    ],
}


def build_pages(seed: int = 0, per_page: int = 2) -> list[dict]:
    rng = random.Random(seed)
    pages = []
    for lang in ("ko", "ja"):
        paras = [p["text"] for p in load_paragraphs() if p["lang"] == lang]
        for i in range(0, len(paras) - per_page + 1, per_page):
            chosen = paras[i : i + per_page]
            enc, ctype, meta = VARIANTS[lang][(i // per_page) % len(VARIANTS[lang])]
            title = chosen[0][:20]
            pages.append(
                {
                    "url": f"https://news.example/{lang}/{i}",
                    "lang": lang,
                    "paragraphs": chosen,
                    "html": page(lang, title, chosen, meta),
                    "encoding": enc,
                    "content_type": ctype,
                }
            )
    rng.shuffle(pages)
    return pages


# Other page shapes: a news article with byline, share buttons, reader comments and
# a cookie banner; a blog post whose paragraphs are split by <br><br> beside a tag
# cloud; a page laid out in <div>s and <span>s only.
CHROME = {
    "ko": dict(
        byline="김민수 기자 입력 2024.03.15 14:22 수정 2024.03.15 16:40",
        share=["페이스북", "트위터", "카카오톡", "링크복사", "스크랩"],
        cookie="이 웹사이트는 이용자 경험 향상을 위해 쿠키를 사용합니다. 계속 이용하시면 동의한 것으로 간주합니다.",
        address="(주)한빛미디어 | 서울특별시 중구 세종대로 124 | 대표전화 02-1234-5678",
        tags=["일상", "여행", "맛집", "독서", "영화", "리뷰"],
        like="공감",
    ),
    "ja": dict(
        byline="山田太郎 記者 2024年3月15日 14時22分 更新",
        share=["X（旧Twitter）", "Facebook", "LINE", "はてなブックマーク", "印刷"],
        cookie="当サイトではサービス向上のためにCookieを使用しています。引き続きご利用いただくことで同意したものとみなします。",
        address="株式会社日本ニュース｜〒100-0001 東京都千代田区千代田１－１｜電話 03-1234-5678",
        tags=["日常", "旅行", "グルメ", "読書", "映画", "レビュー"],
        like="いいね",
    ),
}


def chrome_page(lang: str, kind: str, title: str, paragraphs: list[str], comments: list[str], head: str = "") -> str:
    c, e = CHROME[lang], html.escape
    nav = "".join(f'<li><a href="/{i}">{e(x)}</a></li>' for i, x in enumerate(NAV[lang]))
    top = f'<!DOCTYPE html><html lang="{lang}"><head>{head}<title>{e(title)}</title></head><body>'
    if kind == "news":
        share = "".join(f'<a href="#" class="share">{e(x)}</a>' for x in c["share"])
        cmts = "".join(
            f'<li class="comment"><span class="nick">user{i}***</span><p>{e(x)}</p></li>'
            for i, x in enumerate(comments)
        )
        return (
            top + f'<div class="cookie-banner" id="cookie-consent"><p>{e(c["cookie"])}</p></div>'
            f'<header><ul class="gnb">{nav}</ul></header><article><h1>{e(title)}</h1>'
            f'<div class="byline">{e(c["byline"])}</div><div class="share">{share}</div>'
            + "".join(f"<p>{e(p)}</p>" for p in paragraphs)
            + f'</article><section id="comments" class="comments"><ul>{cmts}</ul></section>'
            f"<footer><p>{e(c['address'])}</p></footer></body></html>"
        )
    if kind == "blog":
        tags = " ".join(f'<a href="/tag/{i}">{e(x)}</a>' for i, x in enumerate(c["tags"]))
        return (
            top + f'<div id="blog-header"><ul class="menu">{nav}</ul></div><div id="content"><div class="post">'
            f'<h2 class="post-title">{e(title)}</h2><div class="post-content">'
            + "<br><br>\n".join(e(p) for p in paragraphs)
            + f'</div><div class="post-tags">{tags}</div><div class="like">{c["like"]} 12</div></div></div>'
            f'<div id="sidebar"><div class="widget tagcloud">{tags}</div></div></body></html>'
        )
    return (
        top + f'<div class="hd"><span class="m">{nav}</span></div><div class="cont">'
        f'<div class="tit"><span>{e(title)}</span></div><div class="view_con">'
        + "".join(f'<div class="txt"><span>{e(p)}</span></div>' for p in paragraphs)
        + f'</div></div><div class="ft"><span>{e(c["address"])}</span></div></body></html>'
    )


# (Python codec of the bytes, HTTP Content-Type, <head> markup before the title):
# labels as browsers read them, declarations in the wrong place, none at all.
LATE_META = '<script>var cfg = "{}";</script>'.format("x" * 6000)
TRAP_VARIANTS = {
    "ko": [
        ("cp949", "text/html; charset=euc-kr", ""),
        ("cp949", "text/html", '<meta http-equiv="Content-Type" content="text/html; charset=euc-kr">'),
        ("cp949", 'text/html; charset="ks_c_5601-1987"', ""),
        ("cp949", "text/html; charset=windows-949", ""),
        ("cp949", "text/html", LATE_META + "<meta charset='EUC-KR'>"),
        ("euc-kr", "text/html", ""),
        ("cp949", "text/html; charset=utf-8", ""),
        ("utf-8", "text/html", ""),
    ],
    "ja": [
        ("cp932", "text/html; charset=x-sjis", ""),
        ("shift_jis", "text/html; charset=Shift-JIS", ""),
        ("euc-jp", "text/html", '<meta http-equiv="Content-Type" content="text/html; charset=x-euc-jp">'),
        ("iso2022_jp", "text/html", ""),
        ("shift_jis", "text/html", LATE_META + '<meta charset="shift_jis">'),
        ("euc-jp", "text/html", ""),
        ("shift_jis", "text/html; charset=iso-8859-1", ""),
        ("cp932", "text/html; charset=windows-31j", ""),
    ],
}


def build_trap_pages(per_page: int = 2) -> list[dict]:
    pages = []
    for lang in ("ko", "ja"):
        paras = [p["text"] for p in load_paragraphs() if p["lang"] == lang]
        for n, i in enumerate(range(0, len(paras) - per_page + 1, per_page)):
            chosen = paras[i : i + per_page]
            comments = [s[:60] for s in paras[(i + per_page) % len(paras)].split(". ")[:3]]
            enc, ctype, head = TRAP_VARIANTS[lang][n % len(TRAP_VARIANTS[lang])]
            kind = ("news", "blog", "divspan")[n % 3]
            title = chosen[0].split("\n")[0][:30]
            pages.append(
                {
                    "url": f"https://trap.example/{lang}/{kind}/{i}",
                    "lang": lang,
                    "paragraphs": chosen,
                    "html": chrome_page(lang, kind, title, chosen, comments, head),
                    "encoding": enc,
                    "content_type": ctype,
                }
            )
    return pages


def write_crawl(path: Path, html_page: str, untyped_page: str | None = None) -> dict:
    """An archive as a crawler writes it, with records that are no document beside
    the pages: warcinfo, a request, a 404, a redirect, an image, a revisit, metadata,
    and responses without a Content-Type (one an HTML page, one an image). Returns
    what a reader should make of it, by WARC type and HTTP status."""
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    gz = str(path).endswith(".gz")
    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=gz)
        writer.write_record(writer.create_warcinfo_record(Path(path).name, {"software": "test-crawler"}))

        def http(status, headers, body=b""):
            return StatusAndHeaders(status, headers + [("Content-Length", str(len(body)))], protocol="HTTP/1.1")

        def response(url, status, headers, body):
            writer.write_record(
                writer.create_warc_record(
                    url, "response", payload=io.BytesIO(body), http_headers=http(status, headers, body)
                )
            )

        page = html_page.encode("utf-8")
        req = StatusAndHeaders("GET / HTTP/1.1", [("Host", "site.example")], is_http_request=True)
        writer.write_record(
            writer.create_warc_record("https://site.example/", "request", payload=io.BytesIO(b""), http_headers=req)
        )
        response("https://site.example/", "200 OK", [("Content-Type", "text/html; charset=utf-8")], page)
        response(
            "https://site.example/gone", "404 Not Found", [("Content-Type", "text/html")], b"<html>Not found</html>"
        )
        response("https://site.example/old", "301 Moved Permanently", [("Location", "https://site.example/")], b"")
        response("https://site.example/logo.png", "200 OK", [("Content-Type", "image/png")], png)
        response("https://site.example/untyped", "200 OK", [], b"  \n" + (untyped_page or html_page).encode("utf-8"))
        response("https://site.example/untyped.png", "200 OK", [], png)
        writer.write_record(
            writer.create_revisit_record(
                "https://site.example/again",
                digest="sha1:AAAA",
                refers_to_uri="https://site.example/",
                refers_to_date="2024-01-01T00:00:00Z",
                http_headers=http("200 OK", [("Content-Type", "text/html")]),
            )
        )
        writer.write_record(
            writer.create_warc_record(
                "https://site.example/",
                "metadata",
                payload=io.BytesIO(b"fetchTimeMs: 12\r\n"),
                warc_content_type="application/warc-fields",
            )
        )
    return {
        "records": {
            "warcinfo": 1,
            "request": 1,
            "response 200": 4,
            "response 404": 1,
            "response 301": 1,
            "revisit 200": 1,
            "metadata": 1,
        },
        "documents": 2,
        "skipped": {
            "warcinfo record": 1,
            "request record": 1,
            "HTTP 404": 1,
            "HTTP 301": 1,
            "not HTML: image/png": 1,
            "no Content-Type, not HTML": 1,
            "revisit record": 1,
            "metadata record": 1,
        },
        "pages": {"https://site.example/", "https://site.example/untyped"},
    }
