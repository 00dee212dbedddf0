"""Korean news pages laid out in nested <table>s, as portals and local papers built
them before CSS: a header table, a left navigation table, the article as text runs
split by <br> inside <font>/<td>, a related-articles list, a footer table, and a
cookie banner on top. For the extraction tests and bench."""

from __future__ import annotations

import html
import json
import random
from collections import Counter
from pathlib import Path

SHORT_TEXTS = Path(__file__).parent / "data" / "web" / "short_texts.jsonl"

COOKIE = "이 웹사이트는 이용자 경험 향상과 서비스 개선을 위해 쿠키를 사용합니다. 계속 이용하시면 쿠키 사용에 동의한 것으로 간주합니다."
TOP_LINKS = ["로그인", "회원가입", "즐겨찾기", "시작페이지로", "기사제보", "전체기사"]
SECTIONS = ["정치", "경제", "사회", "국제", "문화", "스포츠", "연예", "IT·과학", "오피니언", "포토뉴스", "지역", "인물"]
RELATED = [
    "정부, 내년 예산안 국회 제출… 복지 지출 늘려",
    "수도권 아파트 전셋값 석 달째 올라",
    "주말 전국 대체로 맑고 일교차 커",
    "프로야구 올스타전 팬 투표 시작",
    "반도체 수출 두 달 연속 증가세",
    "국립중앙박물관 특별전 관람객 10만 명 넘어",
]
POPULAR = ["[단독] 지방 공항 국제선 신설 추진", "올여름 전기요금 인상 없다", "대학 수시 모집 경쟁률 상승"]
FOOTER = [
    "(주)한빛신문사 | 서울특별시 중구 세종대로 124 | 대표전화 02-1234-5678 | 팩스 02-1234-5679",
    "등록번호 서울 아 00123 | 발행인 김한빛 | 편집인 이서울 | 청소년보호책임자 박민수",
    "Copyright ⓒ 2005 한빛신문. All rights reserved. 무단 전재 및 재배포 금지",
]


def news_sentences() -> list[str]:
    rows = [json.loads(line) for line in SHORT_TEXTS.read_text(encoding="utf-8").splitlines()]
    return [r["text"] for r in rows if r["lang"] == "ko" and r["kind"] == "news"]


def _links(items: list[str], prefix: str, rng: random.Random) -> str:
    bullet = rng.choice(["", "· ", "▶ ", "<img src='/img/dot.gif' width='3' height='3'> "])
    return "".join(
        f"<tr><td height='22' class='{prefix}'>{bullet}<a href='/{prefix}/{i}'>{html.escape(x)}</a></td></tr>"
        for i, x in enumerate(items)
    )


def table_page(title: str, paragraphs: list[str], rng: random.Random) -> str:
    e = html.escape
    br = rng.choice(["<br><br>", "<br>\n<br>", "<br><br>\n"])
    body = br.join(e(p) for p in paragraphs) + rng.choice(["<br>", "", "<br><br>"])
    if rng.random() < 0.5:
        body = f"<font size='3' face='굴림'>{body}</font>"
    if rng.random() < 0.4:  # a photo with its caption, in a table of its own inside the cell
        body = (
            "<table align='center' border='0'><tr><td><img src='/photo/1.jpg' width='400'></td></tr>"
            "<tr><td><font size='2' color='#333399'>▲ 지난달 서울 광화문 광장에서 열린 행사 모습</font></td></tr></table><br>"
            + body
        )
    top = " | ".join(f"<a href='/t{i}'>{x}</a>" for i, x in enumerate(TOP_LINKS))
    header = (
        "<table width='980' border='0' cellspacing='0' cellpadding='0'><tr>"
        "<td width='200'><a href='/'><img src='/img/logo.gif' alt='한빛신문'></a></td>"
        f"<td align='right'><font size='2'>{top}</font></td></tr>"
        f"<tr><td colspan='2' class='date'>2005년 {rng.randint(1, 12)}월 {rng.randint(1, 28)}일</td></tr></table>"
    )
    nav = (
        "<table width='160' border='0' cellspacing='0' cellpadding='0'>"
        f"<tr><td class='menu_title'><b>뉴스</b></td></tr>{_links(rng.sample(SECTIONS, 9), 'menu', rng)}</table>"
    )
    related = (
        "<table width='100%' border='0' cellspacing='0' cellpadding='2'>"
        f"<tr><td class='rel_title'><b>관련기사</b></td></tr>{_links(rng.sample(RELATED, 4), 'rel', rng)}</table>"
    )
    popular = (
        "<table width='180' border='0' cellspacing='0' cellpadding='0'>"
        f"<tr><td><b>많이 본 뉴스</b></td></tr>{_links(POPULAR, 'pop', rng)}</table>"
    )
    byline = f"{rng.choice(['김민수', '이서연', '박지훈'])} 기자 입력 2005-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 10:2{rng.randint(0, 9)}"
    article = (
        "<table width='100%' border='0' cellspacing='0' cellpadding='0'>"
        f"<tr><td class='view_title'><font size='4'><b>{e(title)}</b></font></td></tr>"
        f"<tr><td class='view_date' align='right'><font size='2' color='#666666'>{byline}</font></td></tr>"
        "<tr><td height='10'></td></tr>"
        f"<tr><td class='view_text' style='line-height:160%'>{body}</td></tr>"
        "<tr><td align='right'><a href='#'>프린트</a> | <a href='#'>메일보내기</a> | <a href='#'>스크랩</a></td></tr></table>"
    )
    footer = (
        "<table width='980' border='0'><tr><td align='center'><font size='2'>"
        + "<br>".join(FOOTER)
        + "</font></td></tr></table>"
    )
    layout = (
        "<table width='980' border='0' cellspacing='0' cellpadding='0'><tr>"
        f"<td width='160' valign='top'>{nav}</td><td width='10'></td>"
        f"<td valign='top'><table width='100%'><tr><td>{article}</td></tr><tr><td>{related}</td></tr></table></td>"
        f"<td width='180' valign='top'>{popular}</td></tr></table>"
    )
    return (
        "<html><head><meta http-equiv='Content-Type' content='text/html; charset=euc-kr'>"
        f"<title>{e(title)} - 한빛신문</title></head><body leftmargin='0' topmargin='0'>"
        f"<div class='cookie'><p>{COOKIE}</p></div>{header}{layout}{footer}</body></html>"
    )


def build_table_pages(n: int = 25, seed: int = 0) -> list[dict]:
    """n pages of 2-4 consecutive real news sentences each: url, html, paragraphs."""
    rng = random.Random(seed)
    sentences = news_sentences()
    pages, i = [], 0
    for k in range(n):
        count = rng.randint(2, 4)
        chosen = [sentences[(i + j) % len(sentences)] for j in range(count)]
        i += count
        title = chosen[0][:24].rstrip() + "…"
        pages.append(
            {
                "url": f"https://www.hanbit.example/news/view.php?id={k}",
                "html": table_page(title, chosen, rng),
                "paragraphs": chosen,
            }
        )
    return pages


def recall_precision(pred: str | None, gold: str) -> tuple[float, float]:
    """Character-level recall and precision of extracted text against the article,
    spaces and line breaks aside."""
    p = Counter((pred or "").replace(" ", "").replace("\n", ""))
    g = Counter(gold.replace(" ", "").replace("\n", ""))
    overlap = sum((p & g).values())
    return overlap / max(1, sum(g.values())), overlap / max(1, sum(p.values()))
