"""Build the PII evaluation set eval.jsonl: real sentences with identifiers and decoys inserted.

Base text: real sentences of ../shared/corpora (ko-news, ko-klue, ko-nsmc, ja-jglue,
ja-wiki-jsquad, en-fr; never KorQuAD). Into each we insert, at a sentence boundary or
at either end, a phrase such as "연락처는 {}입니다" around a generated identifier (many
format variants per kind), and/or a look-alike decoy (dates, times, prices, ISBNs,
case numbers, model numbers, versions, coordinates, postal codes, numbers that fail a
checksum or a date check). Gold spans cover the identifier only; decoy spans are
recorded so the evaluation can count how many decoys a detector masks.

An identifier is gold exactly when the rules of curate/stages/pii/__init__.py's docstring say it is
personal: e.g. a 13-digit resident number is gold when hyphenated, next to a context
word, or carrying a valid check digit; otherwise it is a decoy.

    PYTHONPATH=. .venv/bin/python tests/data/pii/make_eval.py   # seeded, reproducible
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
import re
from pathlib import Path

HERE = Path(__file__).parent
CORPORA = HERE.parents[2] / ".." / "shared" / "corpora"
SEED = 20261126
N_PER_KIND = 260
N_DECOY = 1400
MAX_BASE_CHARS = 260

FULLWIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


# ---------------------------------------------------------------- base sentences
def read(name: str, limit: int | None = None) -> list[dict]:
    rows = []
    with gzip.open(CORPORA / name, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if limit and i >= limit:
                break
            rows.append(json.loads(line))
    return rows


def cut(text: str, lang: str) -> str:
    """First sentences of a paragraph, at most MAX_BASE_CHARS characters."""
    text = text.split("\n", 1)[-1] if lang == "ja" and "\n" in text else text
    if len(text) <= MAX_BASE_CHARS:
        return text
    ends = [m.end() for m in re.finditer(r"[.。!?！？](?:\s|$)|。", text[:MAX_BASE_CHARS])]
    return text[: ends[-1]].strip() if ends else text[:MAX_BASE_CHARS]


def load_bases(rng: random.Random) -> dict[str, list[tuple[str, str, str]]]:
    """lang -> [(source file, id, text)]."""
    out: dict[str, list] = {"ko": [], "ja": [], "en": []}
    for name, lang, limit in [
        ("ko-news-sentences.jsonl.gz", "ko", None),
        ("ko-klue-sentences.jsonl.gz", "ko", None),
        ("ko-nsmc-reviews.jsonl.gz", "ko", 60000),
        ("ja-jglue-sentences.jsonl.gz", "ja", None),
        ("ja-wiki-jsquad.jsonl.gz", "ja", None),
        ("en-fr-sentences.jsonl.gz", "en", None),
    ]:
        # Base text with "@" may hold a real address the gold spans would not list.
        rows = [r for r in read(name, limit) if len(r["text"]) >= 10 and "@" not in r["text"]]
        rng.shuffle(rows)
        for r in rows[:700]:
            out[lang].append((name, r["id"], cut(r["text"], lang)))
    return out


# ---------------------------------------------------------------- value generators
def d(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def rrn_check(body: str, foreign: bool = False) -> str:
    w = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    s = sum(int(a) * b for a, b in zip(body, w))
    return str(((13 if foreign else 11) - s % 11) % 10)


def rrn_body(rng: random.Random) -> str:
    day = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(0, 34000))
    foreign = rng.random() < 0.15
    if day.year < 2000:
        g = rng.choice("56" if foreign else "12")
    else:
        g = rng.choice("78" if foreign else "34")
    return day.strftime("%y%m%d") + g + d(rng, 5), foreign


def luhn_complete(prefix: str, n: int, rng: random.Random) -> str:
    body = prefix + d(rng, n - len(prefix) - 1)
    for c in "0123456789":
        if luhn(body + c):
            return body + c
    raise AssertionError


def luhn(s: str) -> bool:
    t = 0
    for i, c in enumerate(reversed(s)):
        k = int(c)
        if i % 2:
            k = k * 2 - 9 if k > 4 else k * 2
        t += k
    return t % 10 == 0


def mynumber_check(body: str) -> str:
    s = sum(int(body[11 - n]) * (n + 1 if n <= 6 else n - 5) for n in range(1, 12))
    r = s % 11
    return str(0 if r <= 1 else 11 - r)


def group(s: str, sizes: list[int], sep: str) -> str:
    out, i = [], 0
    for k in sizes:
        out.append(s[i : i + k])
        i += k
    return sep.join(out)


def gen_rrn(rng, lang):
    body, foreign = rrn_body(rng)
    check_ok = rng.random() < 0.6
    bad = [c for c in "0123456789" if c not in (rrn_check(body, False), rrn_check(body, True))]
    last = rrn_check(body, foreign) if check_ok else rng.choice(bad)
    full = body + last
    form = rng.choice(["hyphen", "hyphen", "space_hyphen", "plain", "masked", "fullwidth"])
    if form == "hyphen":
        return full[:6] + "-" + full[6:], "ctx"
    if form == "space_hyphen":
        return full[:6] + " - " + full[6:], "ctx"
    if form == "masked":
        return full[:6] + "-" + full[6] + "******", "ctx"
    if form == "fullwidth":
        return (full[:6] + "-" + full[6:]).translate(FULLWIDTH), "ctx"
    return full, ("valid" if check_ok else "ctx_only")


KR_AREAS = [
    "02",
    "031",
    "032",
    "033",
    "041",
    "042",
    "043",
    "044",
    "051",
    "052",
    "053",
    "054",
    "055",
    "061",
    "062",
    "063",
    "064",
]
JP_AREAS = ["03", "06", "011", "022", "045", "052", "075", "078", "092", "0123", "0467", "01267"]


def gen_tel(rng, lang):
    style = rng.choice(
        ["kr_mobile", "kr_mobile", "kr_land", "kr_land", "kr_voip", "jp_mobile", "jp_land", "jp_land", "intl"]
    )
    sep = rng.choice(["-", "-", "-", ".", " "])
    if style == "kr_mobile":
        pre = rng.choice(["010"] * 6 + ["011", "016", "017", "019"])
        mid = d(rng, 4) if pre == "010" or rng.random() < 0.5 else str(rng.randint(200, 999))
        last = d(rng, 4)
        form = rng.choice(
            ["dom", "dom", "dom", "plain", "plus", "plus0", "plusplain", "paren", "keep0", "full", "spaced", "pluspar"]
        )
        if form == "spaced":
            return f"{pre} - {mid} - {last}"
        if form == "pluspar":
            return f"(+82) {pre[1:]}-{mid}-{last}"
        if form == "dom":
            return sep.join([pre, mid, last])
        if form == "paren":
            return f"({pre}){mid}-{last}"
        if form == "keep0":
            return f"+82 {pre}-{mid}-{last}"
        if form == "full":
            return "-".join([pre, mid, last]).translate(FULLWIDTH)
        if form == "plain":
            return pre + mid + last
        if form == "plus":
            return "+82" + rng.choice([" ", "-"]) + sep.join([pre[1:], mid, last])
        if form == "plus0":
            return "+82 (0)" + " ".join([pre[1:], mid, last])
        return "+82" + pre[1:] + mid + last
    if style == "kr_land":
        area = rng.choice(KR_AREAS)
        mid = str(rng.randint(200, 9999))
        last = d(rng, 4)
        form = rng.choice(["dom", "dom", "dom", "paren", "halfparen", "plus"])
        if form == "dom":
            return sep.join([area, mid, last])
        if form == "paren":
            return f"({area})" + rng.choice([" ", ""]) + f"{mid}-{last}"
        if form == "halfparen":
            return f"{area}){mid}-{last}"
        return "+82" + rng.choice([" ", "-"]) + sep.join([area[1:], mid, last])
    if style == "kr_voip":
        pre = rng.choice(["070", "0505", "0502", "0507"])
        return sep.join([pre, d(rng, 4 if pre == "070" else 3), d(rng, 4)])
    if style == "jp_mobile":
        pre = rng.choice(["090", "080", "070"])
        num = sep.join([pre, d(rng, 4), d(rng, 4)])
        form = rng.choice(["dom", "dom", "plus", "full"])
        if form == "plus":
            return "+81" + rng.choice([" ", "-"]) + num[1:]
        if form == "full":
            return num.translate(FULLWIDTH)
        return num
    if style == "jp_land":
        area = rng.choice(JP_AREAS)
        mid = str(rng.randint(10 ** (5 - len(area)), 10 ** (6 - len(area)) - 1))
        last = d(rng, 4)
        form = rng.choice(["dom", "dom", "paren", "midparen", "plus", "plus0"])
        if form == "dom":
            return "-".join([area, mid, last])
        if form == "paren":
            return f"({area}){mid}-{last}"
        if form == "midparen":
            return f"{area}({mid}){last}"
        if form == "plus":
            return "+81-" + "-".join([area[1:], mid, last])
        return "+81 (0)" + " ".join([area[1:], mid, last])
    cc, fmt = rng.choice(
        [
            ("1", "+1 ({a}) {b}-{c}"),
            ("1", "+1 {a}-{b}-{c}"),
            ("44", "+44 20 {b4} {c}"),
            ("86", "+86 138 {c} {c2}"),
            ("33", "+33 1 {p} {p2} {p3} {p4}"),
            ("49", "+49 30 {b4}{c3}"),
            ("61", "+61 2 {c} {c2}"),
            ("65", "+65 {c} {c2}"),
            ("852", "+852 {c} {c2}"),
            ("1", "+1{a}{b}{c}"),
            ("44", "+4420{b4}{c}"),
            ("7", "+7 495 {c3}-{p}-{p2}"),
        ]
    )
    return fmt.format(
        a=str(rng.randint(201, 989)),
        b=str(rng.randint(200, 999)),
        c=d(rng, 4),
        c2=d(rng, 4),
        b4=d(rng, 4),
        c3=d(rng, 3),
        p=d(rng, 2),
        p2=d(rng, 2),
        p3=d(rng, 2),
        p4=d(rng, 2),
    )


BANK_FORMATS = [
    ("국민은행", [6, 2, 6]),
    ("KB국민은행", [3, 2, 4, 3]),
    ("신한은행", [3, 3, 6]),
    ("신한은행", [3, 2, 6]),
    ("우리은행", [4, 3, 6]),
    ("하나은행", [3, 6, 5]),
    ("농협", [3, 4, 4, 2]),
    ("NH농협은행", [3, 4, 4, 2]),
    ("기업은행", [3, 6, 2, 3]),
    ("IBK기업은행", [3, 6, 2, 3]),
    ("SC제일은행", [3, 2, 6]),
    ("카카오뱅크", [4, 2, 7]),
    ("토스뱅크", [4, 4, 4]),
    ("케이뱅크", [3, 3, 6]),
    ("우체국", [6, 2, 6]),
    ("새마을금고", [4, 4, 4, 1]),
    ("부산은행", [3, 4, 4, 2]),
    ("대구은행", [3, 2, 6, 1]),
    ("씨티은행", [3, 6, 3]),
    ("수협", [3, 2, 6]),
    ("신협", [3, 3, 6]),
]


def gen_acc(rng, lang):
    bank, sizes = rng.choice(BANK_FORMATS)
    first = str(rng.randint(1, 9))
    digits = first + d(rng, sum(sizes) - 1)
    acct = digits if rng.random() < 0.2 else group(digits, sizes, "-")
    return acct, bank


CARD_IIN = [
    ("4", 16),
    ("4", 16),
    ("51", 16),
    ("53", 16),
    ("55", 16),
    ("2221", 16),
    ("2720", 16),
    ("34", 15),
    ("37", 15),
    ("35", 16),
    ("36", 14),
    ("62", 16),
    ("6011", 16),
    ("9410", 16),
    ("4", 19),
]


def gen_card(rng, lang):
    prefix, n = rng.choice(CARD_IIN)
    num = luhn_complete(prefix, n, rng)
    sep = rng.choice(["-", " ", "-", ""])
    if n == 16:
        return group(num, [4, 4, 4, 4], sep)
    if n == 19:
        return group(num, [4, 4, 4, 4, 3], sep)
    if n == 15:
        return group(num, [4, 6, 5], sep)
    return group(num, [4, 6, 4], sep)


def gen_mynumber(rng, lang):
    body = str(rng.randint(1, 9)) + d(rng, 10)
    num = body + mynumber_check(body)
    form = rng.choice(["dash", "space", "plain", "full"])
    if form == "dash":
        return group(num, [4, 4, 4], "-"), False
    if form == "space":
        return group(num, [4, 4, 4], " "), False
    if form == "full":
        return group(num, [4, 4, 4], "-").translate(FULLWIDTH), False
    return num, True  # the bare form needs a context word


NAMES = [
    "hong",
    "gildong",
    "kim.minji",
    "lee_jh",
    "park2019",
    "sato.taro",
    "yamada-hanako",
    "j.smith",
    "choi+news",
    "jung.ho.seok",
    "tanaka1985",
    "minsu_k",
    "info",
    "press",
    "hr.team",
    "yuna0412",
]
DOMAINS = [
    "naver.com",
    "daum.net",
    "hanmail.net",
    "gmail.com",
    "kakao.com",
    "nate.com",
    "yahoo.co.jp",
    "docomo.ne.jp",
    "example.co.kr",
    "snu.ac.kr",
    "u-tokyo.ac.jp",
    "mail.company.com",
    "outlook.jp",
    "korea.kr",
    "ezweb.ne.jp",
]


def gen_email(rng, lang):
    local = rng.choice(NAMES)
    if rng.random() < 0.4:
        local += str(rng.randint(1, 999))
    return f"{local}@{rng.choice(DOMAINS)}"


def gen_ip(rng, lang):
    if rng.random() < 0.6:
        first = rng.choice([1, 8, 10, 58, 61, 110, 121, 125, 172, 192, 203, 211, 220, 223])
        return ".".join(str(x) for x in [first, rng.randint(0, 255), rng.randint(0, 255), rng.randint(1, 254)])
    groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(8)]
    form = rng.choice(["full", "compressed", "linklocal", "mapped", "doc"])
    if form == "full":
        return ":".join(groups)
    if form == "compressed":
        return ":".join(groups[:3]) + "::" + ":".join(groups[6:])
    if form == "linklocal":
        return "fe80::" + ":".join(groups[4:])
    if form == "mapped":
        return f"::ffff:192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return "2001:db8:" + groups[2] + "::" + groups[7]


def gen_passport(rng, lang):
    if rng.random() < 0.2:  # Japanese and older Korean passports: two letters + 7 digits
        return rng.choice(["TK", "TR", "MZ", "JR", "SC"]) + d(rng, 7)
    letter = rng.choice("MMMMSRGD")
    if rng.random() < 0.5:
        return letter + d(rng, 8)
    return letter + d(rng, 3) + rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + d(rng, 4)


# ---------------------------------------------------------------- templates
TEMPLATES = {
    "rrn": {
        "ko": [
            "주민등록번호 {}",
            "주민번호: {}",
            "주민등록번호는 {}이며",
            "외국인등록번호 {}",
            "(주민번호 {})",
            "신청자 주민등록번호 {} 확인",
        ],
        "ja": ["韓国の住民登録番号 {} を記載", "住民登録番号：{}"],
        "en": ["resident registration number {}", "RRN {}"],
    },
    "rrn_nocontext": {"ko": ["{} 본인 확인", "신청인 {}", "{}"], "ja": ["{}"], "en": ["({})"]},
    "tel": {
        "ko": [
            "연락처는 {}입니다.",
            "문의: {}",
            "전화 {}로 연락 주세요.",
            "☎ {}",
            "휴대폰 {}번으로 문자 주세요.",
            "자세한 내용은 {}로 문의하면 된다.",
            "대표번호 {}",
            "TEL {}",
            "{}로 전화하세요.",
            "팩스 {}",
        ],
        "ja": [
            "連絡先は{}です。",
            "電話：{}",
            "お問い合わせは{}まで。",
            "TEL {}",
            "携帯{}に連絡してください。",
            "予約は{}へ。",
        ],
        "en": ["Call {} for details.", "Phone: {}", "contact us at {}.", "Tel. {}"],
    },
    "acc": {
        "ko": [
            "계좌번호 {bank} {}",
            "입금 계좌: {bank} {} (예금주 홍길동)",
            "{bank} {}로 송금해 주세요.",
            "후원 계좌 {bank} {} 예금주 김철수",
            "{bank} 통장 {}",
            "환불은 {bank} {}로 이체됩니다.",
        ],
        "ja": ["韓国の{bank}口座 {} に振込"],
        "en": ["Korean bank account ({bank}) {}"],
    },
    "card": {
        "ko": ["카드번호 {}", "결제 카드 {}", "신용카드 {} 로 결제", "{}"],
        "ja": ["カード番号：{}", "クレジットカード {}", "{}"],
        "en": ["card number {}", "Visa {}", "{}"],
    },
    "mynumber": {
        "ko": ["일본 마이넘버 {}", "{}"],
        "ja": ["マイナンバー：{}", "個人番号 {} を記入", "マイナンバーは{}です。", "{}"],
        "en": ["My Number {}", "{}"],
    },
    "mynumber_ctx": {
        "ko": ["일본 마이넘버 {}"],
        "ja": ["マイナンバー：{}", "個人番号 {} を記入", "マイナンバーは{}です。"],
        "en": ["My Number {}"],
    },
    "email": {
        "ko": ["이메일 {}으로 보내 주세요.", "문의: {}", "{}로 연락바랍니다.", "기자 {}", "메일({})"],
        "ja": ["メール：{}", "{}までご連絡ください。", "E-mail {}"],
        "en": ["email {} for details", "Contact: {}.", "<{}>"],
    },
    "ip": {
        "ko": ["접속 IP {}에서 로그인", "서버 주소는 {}이다.", "IP: {}", "{}에서 접근이 차단됐다."],
        "ja": ["IPアドレス{}からアクセス", "サーバー {} に接続"],
        "en": ["from IP {}", "host {} responded"],
    },
    "passport": {
        "ko": ["여권번호 {}", "여권 번호: {}", "여권({}) 사본"],
        "ja": ["旅券番号 {}", "パスポート番号：{}"],
        "en": ["passport no. {}", "Passport {}"],
    },
}


def decoys(rng: random.Random, lang: str) -> tuple[str, str, str]:
    """(decoy type, value, phrase with {})."""
    y, m, day = rng.randint(1950, 2025), rng.randint(1, 12), rng.randint(1, 28)
    kind = rng.choice(
        [
            "date",
            "date",
            "time",
            "price",
            "isbn",
            "case",
            "model",
            "version",
            "coord",
            "postal",
            "bad_card",
            "bad_rrn",
            "bad_mynumber",
            "bad_ip",
            "year_range",
            "bizno",
            "bad_tel",
            "plain_passport",
            "orderno",
            "acc_nocontext",
            "amount",
        ]
    )
    if kind == "amount":  # long numbers with a unit, next to bank words
        v = rng.choice(
            [f"{rng.randint(10**9, 10**12)}원", f"{rng.randint(10**9, 10**12)}円", f"{rng.randint(10**9, 10**11)} 달러"]
        )
        return kind, v, rng.choice(["은행 대출 잔액은 {}이다.", "송금액 {}", "銀行口座の残高{}"])
    if kind == "date":
        v = rng.choice(
            [
                f"{y}-{m:02d}-{day:02d}",
                f"{y}.{m:02d}.{day:02d}",
                f"{y}/{m}/{day}",
                f"{y}{m:02d}{day:02d}",
                f"{y}년 {m}월 {day}일",
                f"{y % 100:02d}.{m:02d}.{day:02d}",
                f"{m:02d}/{day:02d}/{y}",
                f"{day:02d}.{m:02d}.{y}",
                f"令和{rng.randint(1, 6)}年{m}月{day}日",
                f"{y}年{m}月{day}日",
                f"{y}. {m}. {day}.",
                f"{y}-{m:02d}-{day:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00",
            ]
        )
        return kind, v, rng.choice(["{} 기준", "{}에 공개됐다.", "({})", "{}更新", "on {}"])
    if kind == "time":
        v = rng.choice(
            [
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
                f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}",
                f"{rng.randint(6, 11):02d}:00~{rng.randint(17, 22)}:00",
                f"{rng.randint(1, 12)}:{rng.randint(10, 59)} PM",
            ]
        )
        return kind, v, rng.choice(["영업시간 {}", "{}開始", "at {}"])
    if kind == "price":
        v = rng.choice(
            [
                f"₩{rng.randint(1000, 99999999):,}",
                f"{rng.randint(1, 999) * 1000:,}원",
                f"¥{rng.randint(100, 99999):,}",
                f"{rng.randint(100, 99999):,}円",
                f"${rng.randint(1, 9999)}.{d(rng, 2)}",
                f"{rng.randint(1000000000, 9999999999):,}원",
                f"US$ {rng.randint(1, 999):,}",
            ]
        )
        return kind, v, rng.choice(["가격은 {}이다.", "{}", "価格{}（税込）", "costs {}"])
    if kind == "isbn":
        body = rng.choice(["97889", "97911", "97848", "97801"]) + d(rng, 7)
        s = sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(body))
        isbn = body + str((10 - s % 10) % 10)
        v = rng.choice([isbn, "-".join([isbn[:3], isbn[3:5], isbn[5:9], isbn[9:12], isbn[12]])])
        return kind, v, rng.choice(["ISBN {}", "ISBN: {}", "(ISBN {})"])
    if kind == "case":
        v = rng.choice(
            [
                f"{y}다{rng.randint(1000, 99999)}",
                f"{y}가합{rng.randint(100, 99999)}",
                f"{y}도{rng.randint(100, 99999)}",
                f"{y}헌마{rng.randint(100, 9999)}",
                f"{y}노{rng.randint(100, 9999)}",
                f"令和{rng.randint(1, 6)}年(ワ)第{rng.randint(100, 99999)}号",
            ]
        )
        return kind, v, rng.choice(["대법원 {} 판결", "사건번호 {}", "{} 事件", "case {}"])
    if kind == "model":
        v = rng.choice(
            [
                f"SM-G{rng.randint(900, 999)}N",
                f"WH-{rng.randint(1, 9)}000XM{rng.randint(2, 5)}",
                f"RTX {rng.choice([3060, 3080, 4090])}",
                f"KQ{rng.randint(43, 85)}QNB95AFXKR",
                f"A{rng.randint(1000, 2999)}",
                f"{rng.randint(20, 49)}GN{rng.randint(600, 999)}-B",
                f"SCH-W{rng.randint(1000, 9999)}",
                f"M{d(rng, 8)}",
                f"DS{rng.randint(100, 999)}+",
            ]
        )
        return kind, v, rng.choice(["모델명 {}", "{} 제품", "型番{}", "model {}"])
    if kind == "version":
        v = rng.choice(
            [
                f"v{rng.randint(0, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 30)}",
                f"10.0.{rng.randint(10000, 22999)}",
                f"{rng.randint(1, 5)}.{rng.randint(0, 15)}.{rng.randint(0, 9)}",
                f"v{rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 99)}",
                f"{rng.randint(1, 20)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(100, 9999)}",
            ]
        )
        return kind, v, rng.choice(["버전 {}", "version {}", "バージョン{}", "{} 업데이트"])
    if kind == "coord":
        v = rng.choice(
            [
                f"{rng.uniform(33, 38):.4f}, {rng.uniform(124, 131):.4f}",
                f"{rng.uniform(33, 38):.6f}° N, {rng.uniform(124, 131):.6f}° E",
                f"{rng.randint(30, 45)}°{rng.randint(0, 59)}′{rng.randint(0, 59)}″N {rng.randint(125, 145)}°{rng.randint(0, 59)}′{rng.randint(0, 59)}″E",
            ]
        )
        return kind, v, rng.choice(["좌표 {}", "({})", "位置 {}"])
    if kind == "postal":
        v = rng.choice([f"{rng.randint(1000, 63999):05d}", f"〒{d(rng, 3)}-{d(rng, 4)}", f"{d(rng, 3)}-{d(rng, 4)}"])
        return kind, v, "{}" if v.startswith("〒") else rng.choice(["우편번호 {}", "郵便番号{}", "({})"])
    if kind == "bad_card":
        prefix, n = rng.choice(CARD_IIN)
        num = luhn_complete(prefix, n, rng)
        num = num[:-1] + str((int(num[-1]) + rng.randint(1, 9)) % 10)
        v = group(num, [4, 4, 4, 4], rng.choice(["-", " "])) if n == 16 else num
        return kind, v, rng.choice(["카드번호 {}", "{}", "カード番号：{}", "card {}"])
    if kind == "bad_rrn":
        body, foreign = rrn_body(rng)
        good = rrn_check(body, foreign)
        bad = [c for c in "0123456789" if c not in (good, rrn_check(body, not foreign))]
        if rng.random() < 0.5:
            v = body + rng.choice(bad)  # bare, bad check digit, no context word
            return kind, v, rng.choice(["접수 {}", "{}", "코드 {}"])
        v = f"{y % 100:02d}{rng.randint(13, 99)}{rng.randint(1, 28):02d}-{rng.randint(1, 4)}{d(rng, 6)}"  # no such month
        return kind, v, rng.choice(["주민등록번호 {}", "{}"])
    if kind == "bad_mynumber":
        body = str(rng.randint(1, 9)) + d(rng, 10)
        good = mynumber_check(body)
        v = group(body + rng.choice([c for c in "0123456789" if c != good]), [4, 4, 4], rng.choice(["-", " "]))
        return kind, v, rng.choice(["マイナンバー {}", "{}"])
    if kind == "bad_ip":
        v = ".".join(
            str(x) for x in [rng.randint(256, 999), rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255)]
        )
        return kind, v, rng.choice(["IP {}", "{}"])
    if kind == "year_range":
        a = rng.randint(1392, 2020)
        return kind, f"{a}-{a + rng.randint(1, 30)}", rng.choice(["{}년", "({})", "{}年"])
    if kind == "bizno":
        return kind, f"{d(rng, 3)}-{d(rng, 2)}-{d(rng, 5)}", rng.choice(["사업자등록번호 {}", "법인 {}"])
    if kind == "bad_tel":
        v = rng.choice(
            [
                rng.choice([f"00{rng.randint(0, 9)}", f"09{rng.randint(1, 9)}"]) + f"-{d(rng, 4)}-{d(rng, 4)}",
                f"{d(rng, 4)}-{d(rng, 4)}",
                f"15{rng.choice('4678')}{rng.randint(0, 9)}-{d(rng, 4)}",
                "-".join([rng.choice("0123456789") * 4] * 3),
                f"{rng.randint(1, 9)}{d(rng, 2)}-{d(rng, 4)}-{d(rng, 4)}",
            ]
        )
        return kind, v, rng.choice(["{}", "코드 {}", "No. {}"])
    if kind == "plain_passport":
        return kind, rng.choice("MSRGD") + d(rng, 8), rng.choice(["부품 {}", "{}", "品番{}"])
    if kind == "orderno":
        return (
            kind,
            rng.choice([f"{y}{m:02d}{day:02d}-{d(rng, 6)}", f"{d(rng, 12)}", f"{d(rng, 4)}-{d(rng, 4)}"]),
            rng.choice(["주문번호 {}", "注文番号{}", "order #{}"]),
        )
    # account-shaped digits with no bank or account word nearby
    bank, sizes = rng.choice(BANK_FORMATS)
    return kind, group(str(rng.randint(1, 9)) + d(rng, sum(sizes) - 1), sizes, "-"), rng.choice(["관리번호 {}", "{}"])


# ---------------------------------------------------------------- assembly
def boundaries(text: str) -> list[int]:
    cuts = [0, len(text)]
    cuts += [m.end() for m in re.finditer(r"[.!?。！？](?=\s|$)|。", text) if m.end() < len(text)]
    return sorted(set(cuts))


def _wordish(c: str) -> bool:
    """Characters that would fuse with an inserted number or address if glued to it."""
    return c.isascii() and not c.isspace() or "\uff01" <= c <= "\uff5e"


def insert(text: str, phrase: str, value: str, pos: int, lang: str) -> tuple[str, int]:
    """Insert phrase (with {} = value) at pos; return new text and the value's offset.

    Japanese joins without spaces, except where Latin letters or digits would meet.
    """
    body = phrase.replace("{}", value, 1)
    before, after = text[:pos].rstrip(), text[pos:].lstrip()
    if lang == "ja":
        lj = " " if before and (_wordish(before[-1]) or _wordish(body[0])) else ""
        rj = " " if after and (_wordish(after[0]) or _wordish(body[-1])) else ""
    else:
        lj, rj = (" " if before else ""), (" " if after else "")
    left = before + lj
    off = len(left) + phrase.index("{}")
    return left + body + rj + after, off


def make_example(rng, base, lang, items):
    """items: [(label, kind_or_decoy, value, phrase)] inserted at distinct boundaries."""
    text = base
    spans = []  # (start, end, label, name)
    extents = []  # (start, end) of each inserted phrase
    for label, name, value, phrase in items:
        # Keep items apart so one item's context words do not reach another's number.
        cuts = [c for c in boundaries(text) if all(c <= s - 40 or c >= e + 40 for s, e in extents)]
        if not cuts:
            continue  # the first item always has room; later ones are optional
        pos = rng.choice(cuts)
        new, off = insert(text, phrase, value, pos, lang)
        shift = len(new) - len(text)
        spans = [(s + shift if s >= pos else s, e + shift if s >= pos else e, lb, nm) for s, e, lb, nm in spans]
        spans.append((off, off + len(value), label, name))
        extents = [(s + shift if s >= pos else s, e + shift if s >= pos else e) for s, e in extents]
        p0 = off - phrase.index("{}")
        extents.append((p0, p0 + len(phrase) - 2 + len(value)))
        text = new
        assert text[off : off + len(value)] == value
    gold = sorted([s, e, nm] for s, e, lb, nm in spans if lb == "gold")
    dec = sorted([s, e, nm] for s, e, lb, nm in spans if lb == "decoy")
    return text, gold, dec


def identifier(rng, kind, lang):
    """(value, phrase, is_gold)."""
    t = TEMPLATES
    if kind == "rrn":
        v, need = gen_rrn(rng, lang)
        if need == "valid" and rng.random() < 0.4:
            return v, rng.choice(t["rrn_nocontext"][lang]), True
        if need == "ctx_only" and rng.random() < 0.3:
            return v, rng.choice(t["rrn_nocontext"][lang]), False  # bad check digit, no context
        return v, rng.choice(t["rrn"][lang]), True
    if kind == "acc":
        v, bank = gen_acc(rng, lang)
        return v, rng.choice(t["acc"][lang]).replace("{bank}", bank), True
    if kind == "mynumber":
        v, needs_ctx = gen_mynumber(rng, lang)
        return v, rng.choice(t["mynumber_ctx" if needs_ctx else "mynumber"][lang]), True
    gen = {"tel": gen_tel, "card": gen_card, "email": gen_email, "ip": gen_ip, "passport": gen_passport}[kind]
    return gen(rng, lang), rng.choice(t[kind][lang]), True


def write_snippets() -> None:
    """snippets.jsonl: short real sentences without digits or "@", for the unit tests."""
    rng = random.Random(7)
    out = []

    def take(name, n, lang, maxlen=160, limit=None):
        rows = [
            r
            for r in read(name, limit)
            if 15 <= len(r["text"]) <= maxlen and "@" not in r["text"] and not any(c.isdigit() for c in r["text"])
        ]
        rng.shuffle(rows)
        for r in rows[:n]:
            out.append({"source": name, "id": r["id"], "lang": r.get("lang", lang), "text": r["text"]})

    take("ko-news-sentences.jsonl.gz", 8, "ko")
    take("ko-klue-sentences.jsonl.gz", 8, "ko")
    take("ja-jglue-sentences.jsonl.gz", 8, "ja")
    take("ja-wiki-jsquad.jsonl.gz", 4, "ja", 400)
    take("en-fr-sentences.jsonl.gz", 4, "en")
    take("ko-nsmc-reviews.jsonl.gz", 8, "ko", 120, 50000)
    with open(HERE / "snippets.jsonl", "w", encoding="utf-8") as f:
        for o in out:
            f.write(json.dumps(o, ensure_ascii=False) + "\n")


def main() -> None:
    write_snippets()
    rng = random.Random(SEED)
    bases = load_bases(rng)
    lang_weights = {"ko": 0.6, "ja": 0.3, "en": 0.1}
    langs, weights = list(lang_weights), list(lang_weights.values())
    rows = []

    def base_for(lang):
        return rng.choice(bases[lang])

    kinds = ["rrn", "tel", "acc", "card", "mynumber", "email", "ip", "passport"]
    for kind in kinds:
        for _ in range(N_PER_KIND):
            lang = rng.choices(langs, weights)[0]
            if kind == "acc" and rng.random() < 0.8:
                lang = "ko"
            src, sid, base = base_for(lang)
            v, phrase, is_gold = identifier(rng, kind, lang)
            items = [("gold" if is_gold else "decoy", kind if is_gold else "bad_rrn", v, phrase)]
            if rng.random() < 0.35:
                items.append(("decoy", *decoys(rng, lang)))
            if rng.random() < 0.15:  # a second identifier of another kind
                k2 = rng.choice([k for k in kinds if k not in ("rrn", "acc", kind)])
                v2, p2, _ = identifier(rng, k2, lang)
                items.append(("gold", k2, v2, p2))
            text, gold, dec = make_example(rng, base, lang, items)
            rows.append({"lang": lang, "source": src, "source_id": sid, "text": text, "spans": gold, "decoys": dec})
    for _ in range(N_DECOY):
        lang = rng.choices(langs, weights)[0]
        src, sid, base = base_for(lang)
        items = [("decoy", *decoys(rng, lang)) for _ in range(rng.choice([1, 1, 2]))]
        text, gold, dec = make_example(rng, base, lang, items)
        rows.append({"lang": lang, "source": src, "source_id": sid, "text": text, "spans": gold, "decoys": dec})
    rng.shuffle(rows)
    with open(HERE / "eval.jsonl", "w", encoding="utf-8") as f:
        for i, r in enumerate(rows):
            f.write(json.dumps({"id": f"pii-{i:05d}", **r}, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} examples to {HERE / 'eval.jsonl'}")


if __name__ == "__main__":
    main()
