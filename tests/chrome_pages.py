"""Short real sentences and the site chrome that web pages wrap them in, for the
boilerplate-line dedup tests."""
import gzip
import json
import random
from pathlib import Path

DATA = Path(__file__).parent / "data" / "dedup"

# Site chrome as Korean and Japanese pages carry it (dates and counters vary per page).
CHROME = {
    "ko": ["ⓒ 한국일보, 무단 전재 및 재배포 금지", "오늘의 주요뉴스 | 많이 본 뉴스 | 포토 뉴스",
           "좋아요 {n} · 댓글 {m} · 공유하기", "입력 2023.{n}.{m} 오전 10:{m}", "이 기사를 공유합니다",
           "Copyright ⓒ All rights reserved.", "관련기사 더보기", "기자 프로필 구독 응원하기"],
    "ja": ["この記事をシェアする", "最終更新 2021年{n}月{m}日 (日) 05:33", "出典: フリー百科事典『ウィキペディア（Wikipedia）』",
           "Copyright © 2023 株式会社サンプル 無断転載を禁じます。", "いいね！ {n} コメント {m} リブログ",
           "このブログの人気記事をもっと見る", "トップページへ戻る", "ホーム > ニュース > 社会"],
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
