"""PII stage: detectors per kind, decoys per type, the stage on a table, the labeled eval."""

from __future__ import annotations

import ipaddress
import json
import random
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.io.schema import PII_KINDS, SHARD_SCHEMA
from curate.stages import pii_eval
from curate.stages.pii.common import _EU_DASH, _GATE
from curate.stages.pii.financial import luhn_ok
from curate.stages.pii.national import _rrn_checksum_ok, mynumber_ok
from curate.stages.pii.network import _DODGE_MARK
from curate.stages.pii.spans import find, scrub
from curate.stages.pii.stage import PIIStage

DATA = Path(__file__).parent / "data" / "pii"
SNIPPETS = [json.loads(line) for line in open(DATA / "snippets.jsonl", encoding="utf-8")]
KO = [s["text"] for s in SNIPPETS if s["lang"] == "ko"]
JA = [s["text"] for s in SNIPPETS if s["lang"] == "ja"]


def embed(base: str, phrase: str, value: str, lang: str = "ko") -> tuple[str, int]:
    """Real sentence + phrase around the value; returns text and the value's offset."""
    joiner = "" if lang == "ja" else " "
    text = base + joiner + phrase.replace("{}", value)
    return text, len(base) + len(joiner) + phrase.index("{}")


def only_span(text: str, lang: str = "ko") -> list[tuple[int, int, str]]:
    return [(s.start, s.end, s.kind) for s in find(text, lang)]


# ---------------------------------------------------------------- identifiers per kind
POSITIVE = [
    # (phrase, value, kind, lang)
    ("연락처는 {}입니다.", "010-2345-6789", "tel", "ko"),
    ("문의 {}", "010.2345.6789", "tel", "ko"),
    ("휴대폰 {}로 문자 주세요", "010 2345 6789", "tel", "ko"),
    ("{}로 연락", "01023456789", "tel", "ko"),
    ("대표전화 {}", "02-312-4567", "tel", "ko"),
    ("전화 {}", "(031) 234-5678", "tel", "ko"),
    ("{}", "051)234-5678", "tel", "ko"),
    ("인터넷전화 {}", "070-1234-5678", "tel", "ko"),
    ("안심번호 {}", "0505-123-4567", "tel", "ko"),
    ("{}로 연락주세요", "+82 10-2345-6789", "tel", "ko"),
    ("{}", "+82-2-312-4567", "tel", "ko"),
    ("{}", "+82 (0)10 2345 6789", "tel", "ko"),
    ("{}", "+821023456789", "tel", "ko"),
    ("{}", "０１０－２３４５－６７８９", "tel", "ko"),
    ("連絡先は{}です。", "090-1234-5678", "tel", "ja"),
    ("電話：{}", "03-1234-5678", "tel", "ja"),
    ("TEL {}", "(06)1234-5678", "tel", "ja"),
    ("TEL {}", "06(1234)5678", "tel", "ja"),
    ("TEL {}", "0467-12-3456", "tel", "ja"),
    ("携帯{}まで", "+81 90-1234-5678", "tel", "ja"),
    ("{}", "+81 (0)3 1234 5678", "tel", "ja"),
    ("일본 사무소 전화 {}", "03-1234-5678", "tel", "ko"),  # other country's landline: needs a phone word
    ("ソウル支社の電話 {}", "02-312-4567", "tel", "ja"),
    ("{}", "010-2345-6789", "tel", "ja"),  # mobiles are distinctive in either language
    ("{}로 연락", "(+82) 10-2345-6789", "tel", "ko"),
    ("{}", "010 - 2345 - 6789", "tel", "ko"),
    ("Tel.{}", "02-312-4567", "tel", "ko"),
    ("Call {} now", "+1 (415) 555-2671", "tel", "en"),
    ("{}", "+44 20 7946 0958", "tel", "en"),
    ("{}", "+14155552671", "tel", "en"),
    ("주민등록번호 {}", "900101-1234567", "rrn", "ko"),
    ("외국인등록번호: {}", "850315-5123456", "rrn", "ko"),
    ("주민번호 {}", "0103154123456", "rrn", "ko"),  # bare, context word
    ("{}", "030201-4123450", "rrn", "ko"),  # hyphenated: the post-2020 check digit is random
    ("{}", "900101-1******", "rrn", "ko"),  # birth date + sex still identify
    ("계좌번호 국민은행 {}", "123456-01-234567", "acc", "ko"),
    ("신한은행 {}로 송금", "110-234-567890", "acc", "ko"),
    ("우리은행 {} 예금주 홍길동", "1002-234-567890", "acc", "ko"),
    ("입금 계좌: 카카오뱅크 {}", "3333-01-2345678", "acc", "ko"),
    ("농협 {}", "301-2345-6789-11", "acc", "ko"),
    ("토스뱅크 {}", "1000-2345-6789", "acc", "ko"),
    ("{} (예금주 김철수)", "110234567890", "acc", "ko"),
    ("카드번호 {}", "4111-1111-1111-1111", "card", "ko"),
    ("{}", "5500 0000 0000 0004", "card", "ko"),
    ("{}", "378282246310005", "card", "en"),
    ("{}", "3782 822463 10005", "card", "en"),
    ("カード番号：{}", "3530111333300000", "card", "ja"),
    ("マイナンバー：{}", "123456789018", "mynumber", "ja"),
    ("{}", "1234-5678-9018", "mynumber", "ja"),
    ("個人番号 {}", "１２３４ ５６７８ ９０１８", "mynumber", "ja"),
    ("이메일 {}으로 보내 주세요", "hong.gildong@naver.com", "email", "ko"),
    ("メール：{}", "sato-taro+news@docomo.ne.jp", "email", "ja"),
    ("접속 IP {}에서", "211.234.10.5", "ip", "ko"),
    ("{}", "2001:db8:85a3::8a2e:370:7334", "ip", "en"),
    ("서버 {}에 접속", "::ffff:192.168.0.10", "ip", "ko"),
    ("{}", "fe80::1ff:fe23:4567:890a", "ip", "en"),
    ("여권번호 {}", "M12345678", "passport", "ko"),
    ("여권 번호: {}", "M123A4567", "passport", "ko"),
    ("旅券番号 {}", "TK1234567", "passport", "ja"),
    ("passport no. {}", "S87654321", "passport", "en"),
    # labels glued to the number, Latin or fullwidth
    ("TEL{}", "03-1234-5678", "tel", "ja"),
    ("ＦＡＸ{}", "06-2419-8406", "tel", "ja"),
    ("HP{}", "010-2345-6789", "tel", "ko"),
    ("대표번호 {}", "(052)-473-9816", "tel", "ko"),
    ("해외에서는 {}로 연락", "82-10-2345-6789", "tel", "ko"),
    ("예약 {}", "0507-4758-0224", "tel", "ko"),  # 12 digits with a valid My Number check digit
    ("{} 국민들에게", "090-8908-5390", "tel", "ko"),  # "국민" here is no bank
    ("携帯：{}", "０９０　１２３４　５６７８", "tel", "ja"),  # ideographic spaces
    ("個人番号 {}", "１２３４　５６７８　９０１８", "mynumber", "ja"),
    ("카드번호 {}", "4111 - 1111 - 1111 - 1111", "card", "ko"),
    ("{}", "3782 - 822463 - 10005", "card", "en"),
    # short bank names right next to the number; space-grouped accounts
    ("신한 {} 홍길동", "110-234-567890", "acc", "ko"),
    ("{} (KB)", "123456-01-234567", "acc", "ko"),
    ("기업 {}", "224-361699-56-956", "acc", "ko"),
    ("NH{}", "301-2345-6789-11", "acc", "ko"),
    ("입금계좌 K뱅크 {}", "383 913 147546", "acc", "ko"),
    ("토스 {} 홍길동", "1000 2345 6789", "acc", "ko"),
    ("{} 3명 국민은행", "356839 56 996394", "acc", "ko"),  # a following count is not a group
    ("IP{}로 접속", "211.234.10.5", "ip", "ko"),
    ("{}부터 차단", "192.168.0.1", "ip", "ko"),
    ("{} 부시 대통령", "61.152.148.127", "ip", "ko"),
    ("IPv6 loopback {}", "::1", "ip", "en"),
    ("메일은 {}로 보내주세요", "yoon_sb(at)mail.hanyang.ac.kr", "email", "ko"),  # written to dodge harvesters
    ("【メール】{}", "yoshida.aoi [at] nifty.com", "email", "ja"),
    ("メール：{}まで", "ito1985 @ yahoo.co.jp", "email", "ja"),
    ("카드번호 {} 결제", "4570.5481.2227.7916", "card", "ko"),  # dotted groups, Luhn-valid
    ("번호는 {}입니다", "010/3503/9020", "tel", "ko"),  # slashes: a mobile, or a phone word
    ("연락처 {}", "055/7596/3683", "tel", "ko"),
    ("카톡 또는 {}", "010.5436-8981", "tel", "ko"),  # mixed separators in a mobile
    ("{}으로 문자주세요", "0613513803", "tel", "ko"),  # a bare landline: "text me" is a phone word
    ("{}", "fe80::1", "ip", "en"),
    ("주소 {}에서", "fe80::1ff:fe23%eth0", "ip", "ko"),
    ("대역 {}/32", "2001:db8::", "ip", "ko"),
]


@pytest.mark.parametrize("phrase,value,kind,lang", POSITIVE)
def test_identifier_found(phrase, value, kind, lang):
    base = (JA if lang == "ja" else KO)[len(value) % 8]
    text, off = embed(base, phrase, value, lang)
    assert only_span(text, lang) == [(off, off + len(value), kind)]


# ---------------------------------------------------------------- decoys per type
DECOYS = [
    ("date", "{} 기준", "2023-01-15"),
    ("date", "{}에 공개됐다", "2023.01.15"),
    ("date", "{}", "20230115"),
    ("date", "{}", "2023년 1월 15일"),
    ("date", "{}", "令和5年1月15日"),
    ("date", "{}", "01/15/2023"),
    ("time", "영업시간 {}", "09:00~18:00"),
    ("time", "{}", "2023-01-15 14:30:00"),
    ("price", "가격은 {}이다", "₩1,234,567"),
    ("price", "{}", "12,000원"),
    ("price", "価格{}", "¥3,980"),
    ("amount", "국민은행 대출 잔액은 {}이다", "1234567890원"),
    ("isbn", "ISBN {}", "978-89-01-12345-6"),
    ("isbn", "ISBN {}", "9788901123456"),
    ("isbn", "{}", "89-7914-063-0"),
    ("case", "대법원 {} 판결", "2019다12345"),
    ("case", "{}", "2020가합1234"),
    ("model", "{} 제품", "SM-G998N"),
    ("model", "모델명 {}", "KQ65QNB95AFXKR"),
    ("model", "{}", "M12345678"),
    ("version", "{}", "v1.2.3"),
    ("version", "빌드 {}", "10.0.19041"),
    ("version", "버전 {}", "4.2.1.0"),
    ("version", "{}", "v2.4.1.0"),
    ("coord", "좌표 {}", "37.5665, 126.9780"),
    ("coord", "{}", "37.566535° N, 126.977969° E"),
    ("postal", "우편번호 {}", "06236"),
    ("postal", "{}", "〒123-4567"),
    ("bad_card", "카드번호 {}", "4111-1111-1111-1112"),
    ("bad_card", "{}", "5500000000000005"),
    ("bad_rrn_date", "주민등록번호 {}", "901301-1234567"),
    ("bad_rrn_date", "{}", "900230-1234567"),
    ("bad_rrn_future", "{}", "500101-3234567"),  # born 2050
    ("bad_mynumber", "マイナンバー {}", "1234-5678-9012"),
    ("bad_ip", "IP {}", "300.12.1.5"),
    ("bad_ip", "{}", "192.168.01.1"),
    ("enumeration", "람보 {}편", "1.2.3.4"),
    ("bad_tel", "{}", "1588-1234"),
    ("year_range", "{}년", "1592-1598"),
    ("bad_tel", "{}", "012-345-6789"),
    ("jp_landline_shape", "코드 {}", "03-1234-5678"),
    ("bad_tel", "{}", "010-1234-567"),
    ("bizno", "사업자등록번호 {}", "220-81-62517"),
    ("acc_no_context", "관리번호 {}", "123456-01-234567"),
    ("passport_no_context", "부품 {}", "M123A4567"),
    ("mention", "{}", "@naver"),
    ("bad_rrn_century", "주민등록번호 {}", "660415-0773456"),
    ("bad_rrn_century", "{}", "710124-9991812"),
    ("timestamp", "{}", "20150728001923"),  # a 4-4-4 split with digits as separators
    ("tracking", "お問い合わせ伝票番号{}", "6719-2796-1840"),
    ("tracking", "tracking no. {}", "6719-2796-1840"),
    ("version", "펌웨어 {}", "4.14.0.194"),
    ("version", "firmware {}", "16.15.4.135"),
    ("version", "{}", "2.10.3.15-beta"),
    ("barcode", "바코드 {}", "8805115628908"),
    ("bank_word_after", "{} 국민 여러분", "123456-01-234567"),
    ("bank_abbrev_in_word", "{} KBOX방송", "20061226052616"),
    ("year_list", "국민은행 계좌 {} 통계", "2019 2020 2021"),
    ("ipv6_like_time", "{}", "12:30::"),
    ("at_sign_time", "{} 강남역에서", "meet @ 5pm"),
    ("at_handle", "{}", "@ naver"),
    ("dotted_date", "{}", "2023.0115.1234.5678"),
    ("slash_date", "{} 기준", "03/12/2019"),
    ("slash_date", "{}", "2019/12/2023"),
    ("slash_landline_shape", "{}", "055/7596/3683"),
]


@pytest.mark.parametrize("dtype,phrase,value", DECOYS)
def test_decoy_not_masked(dtype, phrase, value):
    base = KO[len(value) % 8]
    text, _ = embed(base, phrase, value)
    assert only_span(text) == [], dtype


# ---------------------------------------------------------------- validators
def rrn_with_check(body: str) -> str:
    w = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    return body + str((11 - sum(int(a) * b for a, b in zip(body, w)) % 11) % 10)


def test_rrn_checksum_is_evidence_not_a_gate():
    good = rrn_with_check("900101123456")
    bad = good[:-1] + str((int(good[-1]) + 5) % 10)
    base = KO[0]
    # bare 13 digits: valid check digit is enough, a bad one needs a context word
    assert only_span(embed(base, "{}", good)[0])[0][2] == "rrn"
    assert only_span(embed(base, "접수 {}", bad)[0]) == []
    assert only_span(embed(base, "주민등록번호 {}", bad)[0])[0][2] == "rrn"
    # hyphenated: a bad check digit still counts (numbers issued since October 2020)
    assert only_span(embed(base, "{}", bad[:6] + "-" + bad[6:])[0])[0][2] == "rrn"


def test_luhn_and_mynumber_check_digits():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert luhn_ok("378282246310005") and luhn_ok("6011111111111117")
    assert mynumber_ok("123456789018") and not mynumber_ok("123456789012")


@given(st.ip_addresses(v=4))
@settings(max_examples=60, deadline=None)
def test_ipv4_found_wherever_valid(addr):
    s = str(addr)
    octets = [int(x) for x in s.split(".")]
    text = f"{KO[1]} 접속 IP {s}에서 로그인"
    spans = only_span(text)
    skip = octets[0] == 0 or (max(octets) < 10 and len(set(octets)) > 1)
    assert spans == ([] if skip else [(text.index(s), text.index(s) + len(s), "ip")])


@given(st.ip_addresses(v=6))
@settings(max_examples=60, deadline=None)
def test_ipv6_matches_ipaddress_library(addr):
    s = addr.compressed
    text = f"{KO[2]} 서버 {s} 에 접속"
    spans = only_span(text)
    if len(s) >= 6 and len([g for g in s.replace(".", ":").split(":") if g]) >= 3:
        assert spans == [(text.index(s), text.index(s) + len(s), "ip")]
        assert ipaddress.IPv6Address(text[spans[0][0] : spans[0][1]]) == addr


@given(st.text(alphabet="0123456789 -.@:+()가나다abc年月", max_size=80))
@settings(max_examples=200, deadline=None)
def test_spans_sorted_non_overlapping(text):
    spans = find(text, "ko")
    for a, b in zip(spans, spans[1:]):
        assert a.end <= b.start
    assert all(0 <= s.start < s.end <= len(text) and s.kind in PII_KINDS for s in spans)


def test_scrub_replaces_and_counts():
    text = f"{KO[3]} 연락처 010-2345-6789, 이메일 hong@naver.com, 회신 010-9876-5432."
    out, counts = scrub(text, "ko")
    assert out == f"{KO[3]} 연락처 <|tel|>, 이메일 <|email|>, 회신 <|tel|>."
    assert counts == {"tel": 2, "email": 1}
    assert scrub(KO[4], "ko") == (KO[4], {})


def test_context_stays_in_its_sentence_and_units_mean_amounts():
    # a bank word in the previous sentence does not make an account number
    text = "대만의 지방은행과 환전소는 림시휴장했다. 주민등록번호 034228-1734613"
    assert only_span(text) == []
    assert only_span("은행 대출 잔액은 57899827863 달러이다.") == []
    assert only_span("국민은행 계좌 잔액 1234567890원") == []
    # "원칙" is not the currency unit; "no." does not end the sentence
    text = "카드번호 3782 822463 10005 원칙적으로는 그렇다."
    assert only_span(text) == [(5, 22, "card")]
    text = "passport no. M12345678"
    assert only_span(text, "en") == [(13, 22, "passport")]


def test_decoy_values_pass_the_checks_they_must_not_rely_on():
    # the tracking number and the barcode decoys are only meaningful with valid check digits
    assert mynumber_ok("671927961840") and mynumber_ok("050747580224")
    assert _rrn_checksum_ok("8805115628908")


def test_not_pii_label_gives_way_to_a_closer_context_word():
    text = f"{KO[6]} 주문번호 1234, 연락처 010-2345-6789"
    s = text.index("010")
    assert only_span(text) == [(s, s + 13, "tel")]
    text = f"{KO[6]} 주문번호 010-2345-6789"
    assert only_span(text) == []


def test_kinds_filter():
    text = f"{KO[5]} 연락처 010-2345-6789, hong@naver.com"
    assert [s.kind for s in find(text, "ko", kinds=("email",))] == ["email"]


# ---------------------------------------------------------------- the stage
def make_table(texts, drop=None):
    rows = []
    for i, t in enumerate(texts):
        rows.append({"id": f"d{i}", "text": t, "lang": "ko", "pii_counts": None, "drop_reason": (drop or {}).get(i)})
    return pa.Table.from_pylist(rows, schema=SHARD_SCHEMA)


def test_stage_replaces_and_sets_counts():
    texts = [f"{KO[0]} 연락처는 010-2345-6789입니다.", KO[1], f"{KO[2]} 문의 hong@naver.com", f"{KO[3]} 010-1111-2222"]
    table = make_table(texts, drop={3: "langid:not_ko"})
    stage = PIIStage.from_section({"mode": "replace", "max_identifiers": None}, "ko")
    assert stage.name == "pii"
    out = stage(table)
    assert out.schema == table.schema and out.num_rows == 4
    assert out.column("id").to_pylist() == ["d0", "d1", "d2", "d3"]
    got = out.column("text").to_pylist()
    assert got[0] == f"{KO[0]} 연락처는 <|tel|>입니다." and got[1] == KO[1]
    assert got[2] == f"{KO[2]} 문의 <|email|>"
    assert got[3] == texts[3]  # dropped earlier: untouched
    counts = out.column("pii_counts").to_pylist()
    assert counts[0] == [("tel", 1)] and counts[1] == [] and counts[2] == [("email", 1)] and counts[3] is None
    assert out.column("drop_reason").to_pylist() == [None, None, None, "langid:not_ko"]


def test_stage_drop_mode():
    many = f"{KO[0]} 010-2345-6789, 010-3456-7890, hong@naver.com"
    table = make_table([many, f"{KO[1]} 010-2345-6789", KO[2]])
    out = PIIStage.from_section({"mode": "drop", "max_identifiers": 2}, "ko")(table)
    assert out.column("drop_reason").to_pylist() == ["pii:too_many_identifiers", None, None]
    assert out.column("text").to_pylist()[1] == f"{KO[1]} <|tel|>"
    out = PIIStage.from_section({"mode": "drop", "max_identifiers": 0}, "ko")(table)
    assert out.column("drop_reason").to_pylist() == ["pii:too_many_identifiers"] * 2 + [None]


def test_stage_rejects_bad_config():
    with pytest.raises(ValueError):
        PIIStage.from_section({"mode": "mask"}, "ko")
    with pytest.raises(ValueError):
        PIIStage.from_section({"kinds": ["ssn"]}, "ko")


def test_stage_registered():
    from curate.stages.registry import build_stage

    stage = build_stage("pii", {"pii": {"mode": "replace"}}, "ko")
    assert stage.name == "pii"


# ---------------------------------------------------------------- the labeled eval set
def test_eval_set_precision_recall_decoys():
    examples = pii_eval.load(DATA / "eval.jsonl")
    assert len(examples) > 3000 and {e["lang"] for e in examples} >= {"ko", "ja", "en"}
    result = pii_eval.score(examples, find)
    report = pii_eval.format_report("pii", result)
    assert set(result["per_kind"]) == set(PII_KINDS), report
    for v in result["per_kind"].values():
        assert v["tp"] >= 200, report
        assert v["recall"] >= 0.98, report
        assert v["precision"] >= 0.98, report
    assert sum(n for _, n in result["decoys"].values()) >= 1000
    assert result["decoy_rate"] <= 0.02, report


def test_eval_set_is_well_formed():
    rng = random.Random(0)
    examples = pii_eval.load(DATA / "eval.jsonl")
    for ex in rng.sample(examples, 300):
        for s, e, kind in ex["spans"]:
            assert kind in PII_KINDS and 0 <= s < e <= len(ex["text"])
        spans = sorted(ex["spans"] + ex["decoys"])
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


CORPORA = Path(__file__).parents[1] / ".." / "shared" / "corpora"


@pytest.mark.skipif(not CORPORA.exists(), reason="needs ../shared/corpora")
def test_make_eval_is_deterministic(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_eval", DATA / "make_eval.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "HERE", tmp_path)
    mod.CORPORA = CORPORA
    mod.main()
    assert (tmp_path / "eval.jsonl").read_bytes() == (DATA / "eval.jsonl").read_bytes()
    assert (tmp_path / "snippets.jsonl").read_bytes() == (DATA / "snippets.jsonl").read_bytes()


# ---------------------------------------------------------------- punctuation, layout and look-alikes
# (text, lang, [(substring, kind)]): the substrings must be exactly the spans found.
LAYOUT_CASES = [
    # Japanese phone numbers written with the wave dash or the horizontal bar
    ("電話番号：090〜1234〜5678までご連絡ください", "ja", [("090〜1234〜5678", "tel")]),
    ("連絡先:080―0666―1837です。", "ja", [("080―0666―1837", "tel")]),
    ("전화 02-312-4567~8", "ko", [("02-312-4567", "tel")]),  # "~8": the next line, not part of the number
    ("2019〜2023年の売上は1000〜2000〜3000円", "ja", []),
    # a label alone on the line above the number
    ("신분증 사본을 보내 주세요.\n여권번호\nM123A4567\n", "ko", [("M123A4567", "passport")]),
    ("書類を確認しました。\nマイナンバー\n123456789018\n", "ja", [("123456789018", "mynumber")]),
    ("회비를 보내 주세요.\n카카오뱅크\n3333-01-2345678\n", "ko", [("3333-01-2345678", "acc")]),
    ("신분증을 확인했다.\nM12345678\n", "ko", []),  # no label on either line
    # a short bank name before a bracketed, quoted or table-cell number
    ("회비는 국민 [123456-01-234567]로 보내세요", "ko", [("123456-01-234567", "acc")]),
    ("| 홍길동 | 신한 | 110-234-567890 |", "ko", [("110-234-567890", "acc")]),
    ("회비는 하나「684-272392-62300」까지", "ko", [("684-272392-62300", "acc")]),
    # an account whose digits happen to spell a phone number, grouped unlike one
    ("국민은행 011-07-043419 홍길동", "ko", [("011-07-043419", "acc")]),
    ("입금 후 010-2345-6789로 연락 주세요", "ko", [("010-2345-6789", "tel")]),
    # company registration numbers are no resident numbers
    ("법인등록번호 110111-1129497", "ko", []),
    ("(주)카카오 법인등록번호: 130111-0006246입니다.", "ko", []),
    ("외국인등록번호 850315-5123456", "ko", [("850315-5123456", "rrn")]),
    # Japanese 0A0 numbers have 11 digits; 012x-016x are only 4-5 digit area codes
    ("Call the office at 080-874-9330 today.", "en", []),
    ("050-123-4567に発送しました", "ja", []),
    ("在庫番号012-345-6789です", "ja", []),
    ("電話 0123-45-6789", "ja", [("0123-45-6789", "tel")]),
    ("電話 011-234-5678", "ja", [("011-234-5678", "tel")]),
    # IPv6 after a label's colon, with a zone, and short look-alikes
    ("IPv6:2001:db8:21ba::fbe0:5b01.", "en", [("2001:db8:21ba::fbe0:5b01", "ip")]),
    ("IPアドレス：2001:db8::1です", "ja", [("2001:db8::1", "ip")]),
    ("link-local:fe80::e3c9:6b3d%eth0.", "en", [("fe80::e3c9:6b3d%eth0", "ip")]),
    ("IPv6:::ffff:192.0.2.1에서 접속", "ko", [("::ffff:192.0.2.1", "ip")]),
    ("アドレス:::1まで", "ja", [("::1", "ip")]),
    ("김성열은  2::8  3::7 얼굴 모습", "ko", []),
    ("평점::5", "ko", []),
    # IPv4 after a section label, and a not-PII label of an earlier sentence
    ("See Section 12.3.4.1 of the standard.", "en", []),
    ("It costs less for the 16GB model. Blocked 10.215.101.0/24 yesterday.", "en", [("10.215.101.0", "ip")]),
    ("model no. 192.168.0.1", "en", []),
    # E.164 right after a glued TEL label
    ("TEL+81-3-5409-8537、03-1105-8532です", "ja", [("+81-3-5409-8537", "tel"), ("03-1105-8532", "tel")]),
    # "account" as a whole word only
    ("About 200 people are unaccounted for. (20230202141943)", "en", []),
    ("Pay into account 110-234-567890 by Friday.", "en", [("110-234-567890", "acc")]),
    # a bare 13-digit Luhn number is a JAN/EAN barcode unless a card word is near
    ("4901234567894", "ja", []),
    ("카드번호 4222222222222", "ko", [("4222222222222", "card")]),
    # the groups say where the area code ends: Tokyo (03), not a 0A0 prefix
    ("TEL：（03）0586－3410 波打ち際にサーフボードを持った人", "ja", [("（03）0586－3410", "tel")]),
    ("電話+81 3 0632 9866", "ja", [("+81 3 0632 9866", "tel")]),
    ("電話 080-874-9330 まで", "ja", []),
    # a third, independent audit: labels on the line above, free dial, glued emails,
    # dash look-alikes, contact lines, booking and transaction numbers
    ("여권번호\nM12345678", "ko", [("M12345678", "passport")]),
    ("マイナンバー\n374640554131", "ja", [("374640554131", "mynumber")]),
    ("フリーダイヤル 0120-123-456 まで", "ja", [("0120-123-456", "tel")]),
    ("ナビダイヤル０５７０－０５３－４４６", "ja", [("０５７０－０５３－４４６", "tel")]),
    ("0800-123-4567（無料）", "ja", [("0800-123-4567", "tel")]),
    ("수신거부 080-123-4567", "ko", [("080-123-4567", "tel")]),
    ("고객센터 1588-1234로 문의", "ko", [("1588-1234", "tel")]),
    ("임진왜란 1592-1598 동안", "ko", []),
    ("메일로 드릴게요.hong@naver.com 입니다", "ko", [("hong@naver.com", "email")]),
    ("메일주소-kang@daum.net", "ko", [("kang@daum.net", "email")]),
    ("連絡先 taro..yamada.@docomo.ne.jp", "ja", [("taro..yamada.@docomo.ne.jp", "email")]),
    ('<img src="icon@2x.png">', "en", []),
    ("電話 03−1234−5678", "ja", [("03−1234−5678", "tel")]),
    ("010ㅡ1234ㅡ5678 으로 연락", "ko", [("010ㅡ1234ㅡ5678", "tel")]),
    ("TEL:03-1234-5678FAX:03-1234-5679", "ja", [("03-1234-5678", "tel"), ("03-1234-5679", "tel")]),
    ("(문의: 010-7885.8718)", "ko", [("010-7885.8718", "tel")]),
    ("예약번호 230115-1234567", "ko", []),
    ("주문 번호 230115-1234567", "ko", []),
    ("예약번호 02-555-1234", "ko", [("02-555-1234", "tel")]),
    ("여권과 예약번호 AB1234567를 지참하세요", "ko", []),
    ("신한은행 이체일시 20240103233557", "ko", []),
    ("카뱅 3333-01-1234567", "ko", [("3333-01-1234567", "acc")]),
    ("마인크래프트 1.20.51.1 업데이트", "ko", []),
]


@pytest.mark.parametrize("text,lang,expected", LAYOUT_CASES)
def test_layout_and_lookalikes(text, lang, expected):
    assert [(text[s.start : s.end], s.kind) for s in find(text, lang)] == expected


def test_foreigner_check_digit_only_for_foreigners():
    # the (13 - s % 11) formula is for registered foreigners (sex digit 5-8) only
    citizen, foreigner = "900101123456", "900101523456"
    good = rrn_with_check(citizen)
    foreign_style = citizen + str((int(good) + 2) % 10)
    assert _rrn_checksum_ok(good) and not _rrn_checksum_ok(foreign_style)
    assert _rrn_checksum_ok(foreigner + str((int(rrn_with_check(foreigner)[-1]) + 2) % 10))
    base = KO[0]
    assert only_span(embed(base, "{}", foreign_style)[0]) == []
    assert only_span(embed(base, "주민등록번호 {}", foreign_style)[0])[0][2] == "rrn"


# ---------------------------------------------------------------- a fourth audit (pii4)
PII4_CASES = [
    # Japanese bank accounts: 7 digits after the deposit type or 口座番号, near a bank word
    ("家賃の振込先：みずほ銀行 新宿支店 普通 3084716 ヤマダタロウ", "ja", [("3084716", "acc")]),
    ("お振込みは三井住友銀行 梅田支店（当）5521094へお願いします。", "ja", [("5521094", "acc")]),
    ("返金先の口座番号：7730152 をご記入ください", "ja", [("7730152", "acc")]),
    ("ゆうちょ銀行 記号 13960 番号 27551842 へ", "ja", [("13960", "acc"), ("27551842", "acc")]),
    ("ゆうちょ銀行への振替は 17450-38810273 まで", "ja", [("17450-38810273", "acc")]),
    ("普通列車で 3084716 人が移動した", "ja", []),  # no bank word
    ("三菱UFJ銀行 普通預金 2500000円", "ja", []),  # a balance
    ("三菱UFJ銀行 支店コード 4901234567894", "ja", []),  # 銀行 does not make 10-14 digits an account
    # halfwidth katakana labels; ｰ is a dash only between digits
    ("ﾏｲﾅﾝﾊﾞｰ：526018159084", "ja", [("526018159084", "mynumber")]),
    ("ﾊﾟｽﾎﾟｰﾄ番号 TR4471902 を控える", "ja", [("TR4471902", "passport")]),
    ("ﾚﾝﾗｸ 02ｰ312ｰ4567 まで", "ja", [("02ｰ312ｰ4567", "tel")]),  # a Korean landline in Japanese text needs the word
    ("ｶｰﾄﾞ番号 1518190937865790", "ja", [("1518190937865790", "card")]),
    ("ﾌﾘｺﾐ先 110-234-567890", "ja", [("110-234-567890", "acc")]),
    ("ｾｰﾙ 1518190937865790", "ja", []),  # no card word: the IIN must fit
    # dodged emails: the ★ rule, 골뱅이 / アットマーク, "( at )"
    (
        "お問い合わせ：sales★kimura-denki.co.jp（★を@に変えて送信してください）",
        "ja",
        [("sales★kimura-denki.co.jp", "email")],
    ),
    ("메일은 minji.park골뱅이naver.com 으로 보내주세요", "ko", [("minji.park골뱅이naver.com", "email")]),
    ("担当 suzuki（アットマーク）tokyo-gas.co.jp", "ja", [("suzuki（アットマーク）tokyo-gas.co.jp", "email")]),
    ("문의 hong ( at ) korea.ac.kr", "ko", [("hong ( at ) korea.ac.kr", "email")]),
    ("評価は★★★★☆でした（★を@に変えても意味はない）", "ja", []),
    ("We will meet at cafe.example.com (at) noon", "en", []),
    # two space-grouped phone numbers side by side are a list
    ("담당자 010 4172 3358 031 728 4410 으로 연락", "ko", [("010 4172 3358", "tel"), ("031 728 4410", "tel")]),
    ("휴대폰 010 4172 3358 1234", "ko", []),  # one longer run, as before
    # Korean RRN written as two halves
    (
        "본인 확인을 위해 주민번호 앞자리 880412 뒷자리 1057812 를 입력하세요",
        "ko",
        [("880412", "rrn"), ("1057812", "rrn")],
    ),
    ("앞자리 920315, 뒤 7자리 2012340 확인", "ko", [("920315", "rrn"), ("2012340", "rrn")]),
    ("주민번호 앞자리 881312 뒷자리 1057812", "ko", []),  # no 13th month
    ("생일은 880412 이고 뒤에 1057812 명이 줄을 섰다", "ko", []),  # no RRN word
    # foreigners' labels
    ("ARC No. 9203155012340", "ko", [("9203155012340", "rrn")]),
    ("거소신고번호 9203155012340", "ko", [("9203155012340", "rrn")]),
    ("등록증 번호: 9203155012340", "ko", [("9203155012340", "rrn")]),
    ("사업자등록증 9203155012340", "ko", []),
    # country code without "+"
    ("연락처 (82)10-4417-2290", "ko", [("(82)10-4417-2290", "tel")]),
    ("해외에서는 82-010-4417-2290 으로", "ko", [("82-010-4417-2290", "tel")]),
    ("日本からは010-82-10-4417-2290へ", "ja", [("010-82-10-4417-2290", "tel")]),
    ("사무실 0082-31-728-4410", "ko", [("0082-31-728-4410", "tel")]),
    ("2023 시즌 82-31-728-4410 기록", "ko", []),  # a landline needs a phone word or a dial prefix
    # a context word in the header cell of the same column
    (
        "| 성명 | 여권번호 | 만료일 |\n|---|---|---|\n| KIM MINJI | M72041835 | 2031-05-02 |",
        "ko",
        [("M72041835", "passport")],
    ),
    ("氏名｜個人番号｜備考\n佐藤花子｜301661318600｜扶養", "ja", [("301661318600", "mynumber")]),
    ("| 성명 | 비고 |\n| KIM MINJI | M72041835 |", "ko", []),
    ("| 품번 | 가격 |\n| M57842187 | 90,000원 |", "ko", []),
    # a card followed by its CVC
    ("카드 4913 9099 6030 8245 123 (유효기간 08/27)", "ko", [("4913 9099 6030 8245", "card")]),
    ("AMEX 3762 819482 19938 742", "en", [("3762 819482 19938", "card")]),
    ("카드 4913 9099 6030 8245 1234", "ko", []),  # a longer run, as before
    # loosely typed passports, context still required (and closer)
    ("여권 번호는 m72041835 입니다", "ko", [("m72041835", "passport")]),
    ("パスポート M 72041835", "ja", [("M 72041835", "passport")]),
    ("여권번호: S-30592184", "ko", [("S-30592184", "passport")]),
    ("모델 M-72041835 부품", "ko", []),
    ("여권 사진은 다음 주까지 준비해 주시고 접수 코드는 m72041835 입니다", "ko", []),
    # decoys: ISBN, lottery rows, reference-number labels
    ("신한은행 추천도서 979-11-62868-61-0 구매", "ko", []),
    ("국민은행 로또 당첨번호 03 11 24 31 38 42", "ko", []),
    ("受験番号 5260-1815-9084 の方", "ja", []),
    ("整理番号 5260-1815-9084", "ja", []),
]


@pytest.mark.parametrize("text,lang,expected", PII4_CASES)
def test_pii4_forms(text, lang, expected):
    assert [(text[s.start : s.end], s.kind) for s in find(text, lang)] == expected


@pytest.mark.parametrize(
    "text,lang,expected,scrubbed",
    [
        ("연락처: 051-\n3612-7418 (평일)", "ko", [("051-\n3612-7418", "tel")], "연락처: <|tel|> (평일)"),
        ("주민등록번호 880412-\n1057819 입니다", "ko", [("880412-\n1057819", "rrn")], "주민등록번호 <|rrn|> 입니다"),
        (
            "<td>전화</td><td><b>02</b>-888-2823</td>",
            "ko",
            [("02</b>-888-2823", "tel")],
            "<td>전화</td><td><b><|tel|></td>",
        ),
        (
            "휴대폰 010</span>-<span>7798</span>-<span>4120 끝",
            "ko",
            [("010</span>-<span>7798</span>-<span>4120", "tel")],
            "휴대폰 <|tel|> 끝",
        ),
        (
            "お電話は03-\n5521-0947まで。メールは a@b.jp",
            "ja",
            [("03-\n5521-0947", "tel"), ("a@b.jp", "email")],
            "お電話は<|tel|>まで。メールは <|email|>",
        ),
        ("02\n577\n0603", "ko", [], "02\n577\n0603"),  # a bare line break as the separator stays ambiguous
    ],
)
def test_number_broken_by_line_break_or_tags(text, lang, expected, scrubbed):
    # spans are found on the joined text but point into the original one
    assert [(text[s.start : s.end], s.kind) for s in find(text, lang)] == expected
    assert scrub(text, lang)[0] == scrubbed


def test_halfwidth_long_mark_is_a_dash_only_between_digits():
    assert _EU_DASH.sub(r"\1-", "ﾏｲﾅﾝﾊﾞｰ 090ｰ1234 ｰ 5678") == "ﾏｲﾅﾝﾊﾞｰ 090-1234 - 5678"


def test_email_gate_and_trigger_share_the_at_word():
    # "( at )" with spaces passed the dodged-email pattern but not the gate before
    for text in ("kim ( at ) naver.com", "lee골뱅이daum.net", "ito アットマーク nifty.com"):
        assert _GATE.search(text) and _DODGE_MARK.search(text)
        assert [s.kind for s in find(text)] == ["email"]


# ---------------------------------------------------------------- misses found by other projects' tests
FOUND_AFTER_LOOKALIKES = [
    # a phone number right after a value that is no PII keeps its own reading
    ("모델명 SM-G485N 031-673-6890", "ko", [("031-673-6890", "tel")]),
    ("버전 v1.5.1 010 6631 3929", "ko", [("010 6631 3929", "tel")]),
    ("ISBN 978-89-8488-334-4 문의는 070 453 5852", "ko", [("070 453 5852", "tel")]),
    # North American numbers without +1
    ("call me at (391) 860-9321", "en", [("(391) 860-9321", "tel")]),
    ("My US number is (415) 555-0132.", "en", [("(415) 555-0132", "tel")]),
    ("1-800-555-0199 toll free", "en", [("1-800-555-0199", "tel")]),
    # a card after another card with a space
    (
        "4012888888881881 4012-8888-8888-1881 4012 8888 8888 1881",
        "en",
        [("4012888888881881", "card"), ("4012-8888-8888-1881", "card"), ("4012 8888 8888 1881", "card")],
    ),
    (
        "카드 4012-8888-8888-1881 4012 8888 8888 1881",
        "ko",
        [("4012-8888-8888-1881", "card"), ("4012 8888 8888 1881", "card")],
    ),
    # internationalized domains
    ("a@xn--d1acufc.xn--p1ai", "en", [("a@xn--d1acufc.xn--p1ai", "email")]),
    ("메일 user@도메인.한국 으로", "ko", [("user@도메인.한국", "email")]),
    ("kim@naver.com으로 보내", "ko", [("kim@naver.com", "email")]),
    ("info@例え.jp まで", "ja", [("info@例え.jp", "email")]),
    # brands without a card word
    ("6759649826438453", "en", [("6759649826438453", "card")]),
    ("5019717010103742", "en", [("5019717010103742", "card")]),
    ("122000000000003", "en", [("122000000000003", "card")]),
    # IPv6 with an IPv4 tail; a prefix length stays in the text
    ("0:0:0:0:0:FFFF:129.144.52.38", "en", [("0:0:0:0:0:FFFF:129.144.52.38", "ip")]),
    ("2001:db8:0:0:0:0:192.168.1.1", "en", [("2001:db8:0:0:0:0:192.168.1.1", "ip")]),
    ("Subnet: 192.168.1.0/24", "en", [("192.168.1.0", "ip")]),
    # spoken Sino-Korean digits
    ("공일공 일이삼사 오육칠팔", "ko", [("공일공 일이삼사 오육칠팔", "tel")]),
    ("연락처 공이 일이삼 사오육칠로", "ko", [("공이 일이삼 사오육칠", "tel")]),
    # IBAN, as an account
    ("IBAN: DE89 3704 0044 0532 0130 00", "en", [("DE89 3704 0044 0532 0130 00", "acc")]),
]

STILL_LEFT_ALONE = [
    ("공이 일이삼 사오육칠", "ko"),  # a landline read out needs a phone word
    ("성공일이삼사 오육칠팔", "ko"),  # digit words inside a longer word
    ("(391) 860-9321", "en"),  # an unassigned area code without a phone word
    ("202 555 0143 210 555 0143", "en"),  # space-separated digit lists
    ("AL47 2121 1009 0000 0002 3569 8740", "en"),  # IBAN with a wrong check
    ("070 453 5852", "ko"),  # off the numbering plan without a phone word
    ("1748503543012", "en"),  # 13 digits, Luhn-valid: a barcode shape
    ("사업자등록번호 116-82-00276", "ko"),  # a company's number
    ("법인번호 5-8356-7825-6246", "ja"),
]


@pytest.mark.parametrize("text,lang,expected", FOUND_AFTER_LOOKALIKES)
def test_found_after_lookalikes(text, lang, expected):
    assert [(text[s.start : s.end], s.kind) for s in find(text, lang)] == expected


@pytest.mark.parametrize("text,lang", STILL_LEFT_ALONE)
def test_still_left_alone(text, lang):
    assert find(text, lang) == []


def test_validators_agree_with_python_stdnum_where_they_should():
    # registered foreigners before 2020 also got (13 - s % 11) % 10, which stdnum does not know
    from stdnum.kr import rrn

    foreigner = "900101523456"
    alt = foreigner + str((int(rrn_with_check(foreigner)[-1]) + 2) % 10)
    assert not rrn.is_valid(alt) and _rrn_checksum_ok(alt)
    assert _rrn_checksum_ok("8501266401473") and not _rrn_checksum_ok("9710139019903")
