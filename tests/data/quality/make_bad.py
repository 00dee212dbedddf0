"""Seeded generator of bad documents derived from real text, for the quality tests.

Every kind takes words, sentences or paragraphs of the real samples beside this file
and damages them the way crawled web text is damaged: navigation menus, keyboard
mash, repeated lines, number lists, laughter/crying chatter, mojibake and SEO
keyword stuffing. ``make_bad(paragraphs, lang, n_per_kind, seed)`` returns
[(kind, text)], the same list for the same arguments.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
FLAGGED_DIR = HERE.parents[2] / "pipelines" / "recipes" / "flagged"

KINDS = ["menu", "keyboard_mash", "repeated_lines", "number_list", "chatter", "mojibake", "seo_spam"]

MENU_WORDS = {
    "ko": [
        "홈",
        "로그인",
        "회원가입",
        "고객센터",
        "공지사항",
        "이용약관",
        "개인정보처리방침",
        "사이트맵",
        "이전",
        "다음",
        "목록",
        "검색",
        "전체메뉴",
        "마이페이지",
        "장바구니",
        "바로가기",
        "더보기",
        "TOP",
    ],
    "ja": [
        "ホーム",
        "ログイン",
        "新規登録",
        "お問い合わせ",
        "お知らせ",
        "利用規約",
        "プライバシーポリシー",
        "サイトマップ",
        "前へ",
        "次へ",
        "一覧",
        "検索",
        "メニュー",
        "マイページ",
        "カート",
        "もっと見る",
        "TOP",
    ],
}
FOOTERS = {
    "ko": [
        "Copyright © {y} {w} All rights reserved.",
        "대표전화 02-{a}-{b} | 팩스 02-{a}-{b}",
        "무단전재 및 재배포 금지",
    ],
    "ja": ["Copyright © {y} {w} All Rights Reserved.", "TEL 03-{a}-{b} / FAX 03-{a}-{b}", "無断転載を禁じます"],
}
CHATTER = {
    "ko": [
        "ㅋㅋㅋㅋ",
        "ㅋㅋ",
        "ㅎㅎㅎ",
        "ㅠㅠ",
        "ㅠㅠㅠㅠ",
        "ㅜㅜ",
        "ㄷㄷ",
        "ㅇㅇ",
        "ㄴㄴ",
        "ㅇㅋ",
        "ㅋㅋㅋㅋㅋ",
        "ㄱㄱ",
        "ㅎㅇ",
    ],
    "ja": ["ｗｗｗ", "ｗｗｗｗ", "www", "草", "(笑)", "(^^)", "(^_^;)", "ｗ", "orz", "(´;ω;`)", "ﾜﾛﾀ", "ｗｗ"],
}

# 2-beolsik layout: compatibility jamo -> QWERTY key (what Korean typed with the IME
# off looks like: 안녕하세요 -> dkssudgktpdy).
_KEYS = dict(
    zip("ㅂㅈㄷㄱㅅㅛㅕㅑㅐㅔㅁㄴㅇㄹㅎㅗㅓㅏㅣㅋㅌㅊㅍㅠㅜㅡㅃㅉㄸㄲㅆㅒㅖ", "qwertyuiopasdfghjklzxcvbnmQWERTOP")
)
_L = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_V = [
    "ㅏ",
    "ㅐ",
    "ㅑ",
    "ㅒ",
    "ㅓ",
    "ㅔ",
    "ㅕ",
    "ㅖ",
    "ㅗ",
    "ㅗㅏ",
    "ㅗㅐ",
    "ㅗㅣ",
    "ㅛ",
    "ㅜ",
    "ㅜㅓ",
    "ㅜㅔ",
    "ㅜㅣ",
    "ㅠ",
    "ㅡ",
    "ㅡㅣ",
    "ㅣ",
]
_T = [
    "",
    "ㄱ",
    "ㄲ",
    "ㄱㅅ",
    "ㄴ",
    "ㄴㅈ",
    "ㄴㅎ",
    "ㄷ",
    "ㄹ",
    "ㄹㄱ",
    "ㄹㅁ",
    "ㄹㅂ",
    "ㄹㅅ",
    "ㄹㅌ",
    "ㄹㅍ",
    "ㄹㅎ",
    "ㅁ",
    "ㅂ",
    "ㅂㅅ",
    "ㅅ",
    "ㅆ",
    "ㅇ",
    "ㅈ",
    "ㅊ",
    "ㅋ",
    "ㅌ",
    "ㅍ",
    "ㅎ",
]


def hangul_to_qwerty(text: str) -> str:
    out = []
    for ch in text:
        c = ord(ch) - 0xAC00
        if 0 <= c < 11172:
            jamo = _L[c // 588] + _V[(c // 28) % 21] + _T[c % 28]
            out.append("".join(_KEYS.get(j, j) for j in jamo))
        else:
            out.append(_KEYS.get(ch, ch))
    return "".join(out)


def _flagged(lang: str) -> list[str]:
    lines = (FLAGGED_DIR / f"{lang}.txt").read_text(encoding="utf-8").splitlines()
    return [w.strip() for w in lines if w.strip() and not w.startswith("#")]


def _sentences(paragraphs: list[str], lang: str) -> list[str]:
    pat = r"(?<=[。！？])" if lang == "ja" else r"(?<=[.!?])\s+"
    return [s.strip() for p in paragraphs for s in re.split(pat, p.replace("\n", " ")) if len(s.strip()) > 8]


def _words(paragraphs: list[str]) -> list[str]:
    return [w.strip(".,()\"'“”「」。、") for p in paragraphs for w in p.split() if 1 < len(w) < 12]


def _chunks(paragraphs: list[str], lang: str) -> list[str]:
    """Short pieces of real text: eojeol for Korean, clause pieces for Japanese."""
    if lang == "ja":
        return [c for p in paragraphs for c in re.split(r"[、。\n]", p) if 2 <= len(c) <= 14]
    return _words(paragraphs)


def _menu(rng, paragraphs, lang):
    chunks = _chunks(paragraphs, lang)
    menu = MENU_WORDS[lang]
    lines = []
    for _ in range(rng.randint(6, 20)):
        items = rng.sample(menu, rng.randint(1, 4)) + rng.sample(chunks, rng.randint(0, 3))
        rng.shuffle(items)
        lines.append(rng.choice([" | ", " > ", " · ", "  ", "\n"]).join(items))
    footer = rng.choice(FOOTERS[lang]).format(
        y=rng.randint(2005, 2024), w=rng.choice(chunks), a=rng.randint(100, 9999), b=rng.randint(1000, 9999)
    )
    lines.append(footer)
    return "\n".join(lines)


def _mash(rng, paragraphs, lang):
    style = rng.randrange(4)
    if style == 3:  # the language's own characters, at their real frequencies, in random order
        chars = [c for p in rng.sample(paragraphs, min(20, len(paragraphs))) for c in p if not c.isspace()]
        sep = " " if lang == "ko" else ""
        return sep.join(
            "".join(rng.choice(chars) for _ in range(rng.randint(2, 5))) for _ in range(rng.randint(15, 60))
        )
    if lang == "ko" and style == 0:  # a real sentence typed with the Korean IME off
        return " ".join(hangul_to_qwerty(s) for s in rng.sample(_sentences(paragraphs, lang), rng.randint(1, 4)))
    if style == 1:  # random key runs on the home rows (latin, jamo or kana)
        rows = {
            "ko": ["ㅁㄴㅇㄹㅎㅗㅓㅏㅣ", "ㅂㅈㄷㄱㅅㅛㅕㅑㅐㅔ", "asdfghjkl", "qwertyuiop"],
            "ja": ["asdfghjkl", "ｑｗｅｒｔｙ", "あさだふぁ", "ｊｋｌ；", "zxcvbnm"],
        }[lang]
        words = [
            "".join(rng.choice(rng.choice(rows)) for _ in range(rng.randint(3, 12))) for _ in range(rng.randint(8, 40))
        ]
        return " ".join(words)
    # random characters of the language's own script in word-sized runs
    if lang == "ko":
        pick = lambda: chr(0xAC00 + rng.randrange(11172))
    else:
        pick = lambda: chr(
            rng.choice([rng.randint(0x3041, 0x3093), rng.randint(0x30A1, 0x30F3), rng.randint(0x4E00, 0x9FA5)])
        )
    sep = " " if lang == "ko" else rng.choice(["", " ", "、"])
    return sep.join("".join(pick() for _ in range(rng.randint(2, 7))) for _ in range(rng.randint(10, 50)))


def _repeated(rng, paragraphs, lang):
    sents = rng.sample(_sentences(paragraphs, lang), rng.randint(1, 3))
    lines = [rng.choice(sents) for _ in range(rng.randint(6, 25))]
    lines[0:0] = sents  # every sentence at least once, then the repeats
    return "\n".join(lines)


def _number_list(rng, paragraphs, lang):
    chunks = _chunks(paragraphs, lang)
    unit = {"ko": ["원", "명", "건", "%", "개"], "ja": ["円", "人", "件", "%", "個"]}[lang]
    lines = []
    for i in range(rng.randint(8, 40)):
        cells = [
            f"{i + 1}.",
            f"{rng.randint(2000, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            f"{rng.randint(1, 999999):,}{rng.choice(unit)}",
            f"{rng.uniform(-30, 30):+.2f}",
        ]
        if rng.random() < 0.5:
            cells.insert(1, rng.choice(chunks))
        lines.append(" ".join(cells))
    return "\n".join(lines)


def _chatter(rng, paragraphs, lang):
    chunks = _chunks(paragraphs, lang)
    lines = []
    for _ in range(rng.randint(5, 25)):
        parts = [rng.choice(CHATTER[lang]) for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.4:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(chunks))
        lines.append(" ".join(parts))
    return "\n".join(lines) if rng.random() < 0.7 else " ".join(lines)


_CONFUSIONS = {
    "ko": [("utf-8", "latin-1"), ("utf-8", "cp1252"), ("utf-8", "cp949"), ("cp949", "utf-8"), ("utf-8", "cp932")],
    "ja": [
        ("utf-8", "latin-1"),
        ("utf-8", "cp1252"),
        ("utf-8", "cp932"),
        ("cp932", "utf-8"),
        ("euc-jp", "utf-8"),
        ("utf-8", "cp949"),
    ],
}


def _mojibake(rng, paragraphs, lang):
    text = rng.choice(paragraphs)
    enc, dec = rng.choice(_CONFUSIONS[lang])
    out = text.encode(enc, errors="replace").decode(dec, errors="replace")
    return out


def _seo_spam(rng, paragraphs, lang):
    flagged = _flagged(lang)
    chunks = _chunks(paragraphs, lang)
    sents = _sentences(paragraphs, lang)
    sep = " " if lang == "ko" else rng.choice(["", " ", "・"])
    lines = []
    for _ in range(rng.randint(3, 12)):
        kw = [
            rng.choice(flagged)
            + rng.choice(["", "", "사이트" if lang == "ko" else "サイト", "추천" if lang == "ko" else "おすすめ"])
            for _ in range(rng.randint(3, 10))
        ]
        kw += rng.sample(chunks, rng.randint(0, 2))
        rng.shuffle(kw)
        lines.append(sep.join(kw))
    if rng.random() < 0.5:  # a real sentence pasted in to look like content
        lines.insert(rng.randrange(len(lines) + 1), rng.choice(sents))
    return "\n".join(lines)


_MAKERS = {
    "menu": _menu,
    "keyboard_mash": _mash,
    "repeated_lines": _repeated,
    "number_list": _number_list,
    "chatter": _chatter,
    "mojibake": _mojibake,
    "seo_spam": _seo_spam,
}


def _punctuate(rng, text: str, lang: str) -> str:
    """End lines (or runs of words) with full stops, as some spam and mash does, so
    that no kind is caught by the line-ending rule alone."""
    stop = "。" if lang == "ja" else "."
    if "\n" in text:
        return "\n".join(l + stop for l in text.split("\n"))
    words = text.split(" ")
    return " ".join(w + stop if rng.random() < 0.3 else w for w in words) + stop


def make_bad(paragraphs: list[str], lang: str, n_per_kind: int = 30, seed: int = 0) -> list[tuple[str, str]]:
    rng = random.Random(f"{seed}-{lang}")
    out = []
    for kind in KINDS:
        for _ in range(n_per_kind):
            text = _MAKERS[kind](rng, paragraphs, lang)
            if kind in ("keyboard_mash", "chatter", "seo_spam", "number_list") and rng.random() < 0.5:
                text = _punctuate(rng, text, lang)
            out.append((kind, text))
    return out


if __name__ == "__main__":  # print a few, to look at them
    import json
    import sys

    lang = sys.argv[1] if len(sys.argv) > 1 else "ko"
    name = {"ko": "ko-news-sentences.jsonl", "ja": "ja-wiki-jsquad.jsonl"}[lang]
    paras = [json.loads(l)["text"] for l in open(HERE / name, encoding="utf-8")]
    for kind, text in make_bad(paras, lang, 2, 0):
        print(f"== {kind}\n{text[:300]}\n")
