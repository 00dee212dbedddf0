"""Short real sentences and the site chrome that web pages wrap them in, for the
boilerplate-line dedup tests."""

import gzip
import json
import random
from pathlib import Path

DATA = Path(__file__).parent / "data" / "dedup"

# Site chrome as Korean and Japanese pages carry it (dates and counters vary per page).
CHROME = {
    "ko": [
        "ⓒ 한국일보, 무단 전재 및 재배포 금지",
        "오늘의 주요뉴스 | 많이 본 뉴스 | 포토 뉴스",
        "좋아요 {n} · 댓글 {m} · 공유하기",
        "입력 2023.{n}.{m} 오전 10:{m}",
        "이 기사를 공유합니다",
        "Copyright ⓒ All rights reserved.",
        "관련기사 더보기",
        "기자 프로필 구독 응원하기",
    ],
    "ja": [
        "この記事をシェアする",
        "最終更新 2021年{n}月{m}日 (日) 05:33",
        "出典: フリー百科事典『ウィキペディア（Wikipedia）』",
        "Copyright © 2023 株式会社サンプル 無断転載を禁じます。",
        "いいね！ {n} コメント {m} リブログ",
        "このブログの人気記事をもっと見る",
        "トップページへ戻る",
        "ホーム > ニュース > 社会",
    ],
}


def short_sentences(lang: str, lo: int = 15, hi: int = 49) -> list[str]:
    """First sentences of the real paragraphs in the dedup eval set, lo-hi characters."""
    stop = "。" if lang == "ja" else "다."
    out = []
    with gzip.open(DATA / f"eval-{lang}.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            if d["kind"] not in ("original", "unrelated"):
                continue
            first = d["text"].replace("\n", " ").split(stop)[0].strip() + stop
            if lo <= len(first) <= hi and first not in out:
                out.append(first)
    return out


def chrome(lang: str, rng: random.Random, k: int) -> list[str]:
    return [c.format(n=rng.randint(1, 12), m=rng.randint(1, 28)) for c in rng.sample(CHROME[lang], k)]


def pages_in_chrome(lang: str, seed: int = 0) -> tuple[list[str], list[int]]:
    """Texts and their family: each short sentence once bare and once inside 1-3 chrome
    lines; every third only inside chrome (an unrelated page of the same site)."""
    rng = random.Random(seed)
    texts, family = [], []
    for i, s in enumerate(short_sentences(lang)):
        lines = chrome(lang, rng, rng.randint(1, 3))
        head = rng.randint(0, len(lines))
        page = "\n".join(lines[:head] + [s] + lines[head:])
        if i % 3 == 2:
            texts.append(page)
            family.append(i)
        else:
            texts += [s, page]
            family += [i, i]
    return texts, family


# Chrome seen on one page only: a byline, a tag list, a link (too rare to count as
# boilerplate, however many pages there are).
RARE = {
    "ko": [
        "{name} 기자 {site}{n}@{site}.co.kr",
        "태그 #{w1} #{w2} #{w3}",
        "https://www.{site}.com/news/article/{id}",
        "{site}일보 제공 | 2023.{n}.{m} 14:{m} 수정",
        "[{site}뉴스] {w1} {w2} 관련 기사 {n}건",
    ],
    "ja": [
        "文・写真：{name}（{site}編集部）",
        "タグ：#{w1} #{w2} #{w3}",
        "https://www.{site}.jp/articles/{id}",
        "{site}新聞 2021年{n}月{m}日 掲載",
        "【{site}】{w1}の記事一覧（{n}件）",
    ],
}
NAMES = {
    "ko": ["김민수", "이서연", "박지훈", "최유진", "정하늘", "강도윤"],
    "ja": ["佐藤健", "鈴木美咲", "高橋翔", "田中陽子", "伊藤大輝", "渡辺彩"],
}


def rare_chrome(lang: str, rng: random.Random, words: list[str], k: int) -> list[str]:
    site = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6))
    fill = {
        "name": rng.choice(NAMES[lang]),
        "site": site,
        "n": rng.randint(1, 12),
        "m": rng.randint(10, 28),
        "id": rng.randint(100000, 999999),
        "w1": rng.choice(words),
        "w2": rng.choice(words),
        "w3": rng.choice(words),
    }
    return [c.format(**fill) for c in rng.sample(RARE[lang], k)]


def pages_in_rare_chrome(lang: str, seed: int = 0) -> tuple[list[str], list[int]]:
    """Texts and their family: each short sentence once bare and once inside 1-3 lines
    of chrome of its own; pairs of other sentences share one frame (two pages of a small
    site)."""
    rng = random.Random(seed)
    sentences = short_sentences(lang, 40, 150)
    words = [w for s in sentences for w in s.split() if 2 <= len(w) <= 6][:500] or ["뉴스", "ニュース"]
    texts, family = [], []
    for i, s in enumerate(sentences):
        if i % 4 == 3 and i + 1 < len(sentences):
            continue  # framed below with the next one
        lines = rare_chrome(lang, rng, words, rng.randint(1, 3))
        head = rng.randint(0, len(lines))
        texts += [s, "\n".join(lines[:head] + [s] + lines[head:])]
        family += [i, i]
        if i % 4 == 2 and i + 2 < len(sentences):  # one frame around two different sentences
            site = rare_chrome(lang, rng, words, 3)
            for j in (i + 1, i + 2):
                texts.append("\n".join(site[:1] + [sentences[j]] + site[1:]))
                family.append(j)
    return texts, family
