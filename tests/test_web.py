"""WARC input: charsets decoded without mojibake, main content extracted, URL filters."""

import html as htmllib
import io
import re
import zlib
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
from web_pages import build_pages, build_trap_pages, load_paragraphs, write_warc

from curate.io.charset import decode_html
from curate.io.readers import read_records
from curate.io.records import records_to_table
from curate.stages.extract import ExtractStage
from curate.stages.urlfilter import UrlFilterStage


def char_f1(pred: str, gold: str) -> float:
    p, g = Counter(pred.replace(" ", "").replace("\n", "")), Counter(gold.replace(" ", "").replace("\n", ""))
    overlap = sum((p & g).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(p.values()), overlap / sum(g.values())
    return 2 * precision * recall / (precision + recall)


def looks_like(lang: str, text: str) -> bool:
    letters = [c for c in text if c.isalpha() and not c.isascii()]
    if lang == "ko":
        return sum("\uac00" <= c <= "\ud7a3" for c in letters) / len(letters) > 0.8
    return sum("\u3040" <= c <= "\u30ff" or "\u4e00" <= c <= "\u9fff" for c in letters) / len(letters) > 0.8


def test_warc_pages_decode_and_extract(tmp_path):
    pages = build_pages()
    path = tmp_path / "crawl.warc.gz"
    write_warc(path, pages)
    records = list(read_records(str(path)))
    assert len(records) == len(pages) and all(r.error is None for r in records)
    table = ExtractStage.from_section({}, "ko")(records_to_table(records))
    by_url = {p["url"]: p for p in pages}
    f1s = []
    for url, text, charset in zip(
        table.column("url").to_pylist(),
        table.column("text").to_pylist(),
        table.column("charset").to_pylist(),
    ):
        p = by_url[url]
        gold = "\n".join(p["paragraphs"])
        f1s.append(char_f1(text, gold))
        assert "\ufffd" not in text, (url, charset)
        assert looks_like(p["lang"], text), (url, p["encoding"], p["content_type"], charset, text[:80])
    assert min(f1s) >= 0.95, sorted(f1s)[:5]
    assert set(table.column("content_type").to_pylist()) == {"text/plain"}
    sources = table.column("source").to_pylist()
    assert all(s.startswith("crawl.warc.gz@") for s in sources)
    assert all(table.column("fetch_date").to_pylist())


def test_wrong_western_label_does_not_make_mojibake():
    text = "대한민국의 수도는 서울이다. 한국어 웹 페이지는 아직도 EUC-KR로 제공되는 경우가 많다."
    html = f"<html><body><p>{text}</p></body></html>"
    decoded, charset, how = decode_html(html.encode("cp949"), "text/html; charset=iso-8859-1")
    assert text in decoded and charset == "cp949"


def _paragraph(lang: str, i: int = 0) -> str:
    return [p["text"] for p in load_paragraphs() if p["lang"] == lang][i]


def _page(text: str, head: str = "") -> str:
    return f"<html><head>{head}<title>t</title></head><body><p>{text}</p></body></html>"


def test_trap_pages_decode_and_extract(tmp_path):
    """Other page shapes (bylines, comments, cookie banner, <br><br> posts, <div>/<span> only)
    under label aliases, late or missing declarations and wrong headers."""
    pages = build_trap_pages()
    path = tmp_path / "traps.warc.gz"
    write_warc(path, pages)
    records = list(read_records(str(path)))
    assert len(records) == len(pages) and all(r.error is None for r in records), [r.error for r in records if r.error]
    table = ExtractStage.from_section({}, "ko")(records_to_table(records))
    by_url = {p["url"]: p for p in pages}
    for url, text, charset in zip(
        table.column("url").to_pylist(), table.column("text").to_pylist(), table.column("charset").to_pylist()
    ):
        p = by_url[url]
        assert all(para in text for para in p["paragraphs"]), (url, charset, text[:120])
        assert char_f1(text, "\n".join(p["paragraphs"])) >= 0.95, (url, charset, text)


def test_euc_kr_label_reads_cp949_extension_syllables():
    # 똠, 햏, 뷁 exist only in CP949; pages labelled EUC-KR use them all the time.
    text = "똠방각하 흉내를 내며 햏햏거리다가 뷁 소리를 냈다. " + _paragraph("ko")
    for label in ("euc-kr", "EUC-KR", '"ks_c_5601-1987"', "windows-949", "x-windows-949", "ksc5601"):
        decoded, charset, how = decode_html(_page(text).encode("cp949"), f"text/html; charset={label}")
        assert text in decoded and how == "http", (label, charset)
    # A strict EUC-KR encoder writes them as KS X 1001 make-up sequences (0xA4D4 + jamo):
    # those must come back as the syllables, not as four jamo.
    data = _page(text).encode("euc-kr")
    assert b"\xa4\xd4" in data
    for ctype in ("text/html; charset=euc-kr", "text/html"):
        assert text in decode_html(data, ctype)[0]


def test_shift_jis_label_reads_cp932_extensions_and_keeps_jis_mappings():
    ext = "①髙橋さんは㈱﨑山製作所の社長です。"
    text = ext + _paragraph("ja")
    for label in ("shift_jis", "Shift_JIS", "x-sjis", "shift-jis", "sjis", "windows-31j", "'MS_Kanji'"):
        decoded, charset, _ = decode_html(_page(text).encode("cp932"), f"text/html; charset={label}")
        assert text in decoded, (label, charset)
    # Without vendor characters the JIS mapping is kept: 0x8160 is 〜 and 0x817C is −
    # in Shift_JIS, ～ and － in CP932.
    text = "営業時間は９時〜１７時、最低気温は−５度。" + _paragraph("ja")
    assert text in decode_html(_page(text).encode("shift_jis"), "text/html; charset=shift_jis")[0]
    assert text in decode_html(_page(text).encode("shift_jis"), "text/html")[0]


def test_meta_charset_after_a_long_head():
    head = "<script>var big = '" + "x" * 20000 + "';</script>"
    for codec, label, lang in (
        ("cp949", "euc-kr", "ko"),
        ("shift_jis", "Shift_JIS", "ja"),
        ("euc-jp", "x-euc-jp", "ja"),
    ):
        text = _paragraph(lang, 3)
        data = _page(text, head + f'<meta http-equiv="Content-Type" content="text/html; charset={label}">').encode(
            codec
        )
        decoded, charset, how = decode_html(data, "text/html")
        assert text in decoded and how == "meta", (codec, charset, how)


def test_undeclared_iso_2022_jp():
    # 7-bit ISO-2022-JP is valid ASCII: read as UTF-8 it is escape-code junk.
    text = _paragraph("ja", 1)
    for ctype in ("text/html", "text/html; charset=utf-8"):
        decoded, charset, _ = decode_html(_page(text).encode("iso2022_jp", "xmlcharrefreplace"), ctype)
        assert text in htmllib.unescape(decoded), charset  # characters outside JIS X 0208 are &#...;
        assert "\x1b" not in decoded


def test_undeclared_cjk_pages_are_detected_by_script():
    for codec, lang in (("cp949", "ko"), ("euc-kr", "ko"), ("shift_jis", "ja"), ("cp932", "ja"), ("euc-jp", "ja")):
        for i in range(6):
            text = _paragraph(lang, i)
            data = _page(text).encode(codec, "xmlcharrefreplace")
            decoded, charset, how = decode_html(data, "text/html")
            assert htmllib.unescape(decoded).count(text) == 1, (codec, i, charset)


def test_utf8_with_a_few_bad_bytes_has_no_replacement_characters():
    text = _paragraph("ko", 2)
    data = _page(text).encode("utf-8")
    cut = data.index("다".encode()) if "다" in text else len(data) // 2
    broken = data[:cut] + b"\xed\x95" + data[cut:] + b"\x80"
    decoded, charset, how = decode_html(broken, "text/html; charset=utf-8")
    assert "\ufffd" not in decoded and text in decoded and charset == "utf-8"


def test_binary_bodies_are_rejected():
    import gzip
    import random

    import pytest

    from curate.io.charset import UndecodableError

    rng = random.Random(0)
    blobs = [
        bytes(rng.randrange(256) for _ in range(4000)),
        gzip.compress("가나다라".encode("cp949") * 500),
        b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(2000)),
        b"\x00\x01\x02\x03<p>x</p>" * 200,
    ]
    for blob in blobs:
        for ctype in (
            "text/html",
            "text/html; charset=utf-8",
            "text/html; charset=euc-kr",
            "text/html; charset=shift_jis",
        ):
            with pytest.raises(UndecodableError):
                decode_html(blob, ctype)


def test_extract_drops_ruby_readings_and_keeps_literal_entities():
    from curate.stages.extract import extract_text

    text = _paragraph("ja", 4)
    kanji = next(w for w in re.findall(r"[\u4e00-\u9fff]{2,}", text))
    ruby = text.replace(kanji, f"<ruby>{kanji}<rp>(</rp><rt>よみがな</rt><rp>)</rp></ruby>", 1)
    html = (
        f"<html><head><title>{kanji}</title></head><body><article><h1>{kanji}</h1><p>{ruby}</p>"
        f"<p>{_paragraph('ja', 5)}</p><p>AT&amp;amp;T &amp;lt;br&amp;gt; 5 &lt; 6 &amp;#8226;</p></article></body></html>"
    )
    out = extract_text(html)
    assert text in out and "よみがな" not in out
    assert "AT&amp;T &lt;br&gt; 5 < 6 &#8226;" in out  # the page shows these entities as text
    assert not out.startswith(kanji + "\n")  # the headline repeating <title> is not body text


def test_undecodable_page_is_quarantined(tmp_path):
    path = tmp_path / "bad.warc"
    garbage = bytes(range(0x80, 0x100)) * 40
    write_warc(
        path,
        [
            {
                "url": "https://x.example/",
                "html": garbage.decode("latin-1"),
                "encoding": "latin-1",
                "content_type": "text/html; charset=utf-8",
            }
        ],
    )
    (rec,) = read_records(str(path))
    assert (rec.error is None and "\ufffd" not in rec.text) or "undecodable" in rec.error


def test_urlfilter_blocks_domains_and_substrings():
    from curate.io.records import Record

    urls = [
        "https://news.example/a",
        "https://www.example-casino.test/x",
        "https://blog.example/%EC%B9%B4%EC%A7%80%EB%85%B8",
        "https://ok.example/totosite-review",
        None,
    ]
    table = records_to_table([Record(f"d{i}", "본문", f"t:{i}", url=u) for i, u in enumerate(urls)])
    out = UrlFilterStage.from_section({}, "ko")(table)
    assert out.column("drop_reason").to_pylist() == [
        None,
        "urlfilter:blocked_domain",
        "urlfilter:blocked_substring",
        "urlfilter:blocked_substring",
        None,
    ]


def test_warc_through_the_pipeline(tmp_path):
    import ray
    from web_pages import write_crawl

    from pipelines.corpus import run_corpus

    pages = build_pages()
    write_warc(tmp_path / "crawl.warc.gz", pages)
    crawl = write_crawl(tmp_path / "site.warc.gz", _page(_paragraph("ko", 5)), _page(_paragraph("ko", 6)))
    recipe = tmp_path / "ko.yaml"
    recipe.write_text(
        "lang: ko\nstages: [normalize, urlfilter, langid, dedup]\n"
        "urlfilter: {max_per_domain: 10}\nlangid: {keep: [ko]}\n"
    )
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        manifest = run_corpus(
            [str(tmp_path / "crawl.warc.gz"), str(tmp_path / "site.warc.gz")],
            str(tmp_path / "out"),
            "ko",
            recipe_file=str(recipe),
            progress=False,
        )
    finally:
        ray.shutdown()
    c = manifest["counts"]
    assert c["read"] == len(pages) + 2  # the pages, and site.warc.gz's two (one without a Content-Type)
    w = manifest["warc"]  # every record, by what became of it
    assert w["documents"] == len(pages) + 2 and w["skipped"] == crawl["skipped"]
    assert w["records"] == {**crawl["records"], "response 200": len(pages) + 4}
    assert sum(w["records"].values()) == w["documents"] + sum(w["skipped"].values())
    assert c["drop_reasons"].get("langid:other_lang") == sum(p["lang"] == "ja" for p in pages)
    ko_pages = sum(p["lang"] == "ko" for p in pages)
    assert c["drop_reasons"].get("urlfilter:domain_cap") == ko_pages - 10
    assert c["kept"] == 10 + 2
    kept = pa.concat_tables([pq.read_table(tmp_path / "out" / e["path"]) for e in manifest["shards"]])
    assert all("<p>" not in t and "\ufffd" not in t for t in kept.column("text").to_pylist())
    assert set(kept.column("content_type").to_pylist()) == {"text/plain"}


def test_wet_conversion_records(tmp_path):
    """WET files carry extracted text as `conversion` records: read as plain documents."""
    import io

    from warcio.warcwriter import WARCWriter
    from web_pages import load_paragraphs

    paras = [p["text"] for p in load_paragraphs()[:3]]
    path = tmp_path / "crawl.warc.wet.gz"
    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        for i, text in enumerate(paras):
            rec = writer.create_warc_record(
                f"https://news.example/{i}",
                "conversion",
                payload=io.BytesIO(text.encode("utf-8")),
                warc_content_type="text/plain",
            )
            writer.write_record(rec)
    records = list(read_records(str(path)))
    assert [r.text for r in records] == paras
    assert all(r.url.startswith("https://news.example/") and r.web["charset"] == "utf-8/wet" for r in records)
    table = records_to_table(records)
    assert table.column("content_type").to_pylist() == [None, None, None]  # nothing for extract to do


def test_euc_kr_page_with_a_japanese_meta_label_reads_as_korean():
    """Korean bytes decode without error as EUC-JP, into kanji only: the label must not win."""
    text = _paragraph("ko", 2)
    data = _page(text, '<meta charset="euc-jp">').encode("euc-kr", "replace")
    decoded, charset, how = decode_html(data, "text/html")
    assert text in decoded and charset == "cp949", (charset, how)


def test_br_separated_article_body_keeps_every_paragraph():
    """A Korean portal layout: a photo box, then the article as text runs split by
    <br><br> inside one <div>, and a <p> in the footer; trafilatura's precision mode
    alone drops the first run (the photo box's tail)."""
    paras = [_paragraph("ko", i) for i in range(3)]
    links = lambda items: "<ul>" + "".join(f"<li><a href='/{i}'>{t}</a></li>" for i, t in enumerate(items)) + "</ul>"
    html = (
        "<!DOCTYPE html><html><head><title>제목 : 한빛일보</title></head><body>"
        f"<div id='header'><div id='gnb'>{links(['홈', '뉴스', '정치', '경제', '사회', '로그인'])}</div></div>"
        "<div id='container'><div id='content'><div class='article_info'><h3 class='tit_view'>제목</h3>"
        "<span class='t11'>2024.03.02. 오후 3:14</span></div>"
        f"<div class='share'>{links(['공유하기', '페이스북', '카카오톡', 'URL 복사'])}</div>"
        "<div id='articleBody' class='article_body'><div class='end_photo_org'><img src='/p.jpg' alt=''>"
        "<em class='img_desc'>▲ 20일 서울 광화문 광장에서 시민들이 행사를 지켜보고 있다.</em></div>"
        + "<br><br>\n".join(paras)
        + "<br><br>\n<span class='byline'>김민수 기자 minsu@hanbit.example</span></div>"
        f"<div class='related'><h4>관련기사</h4>{links(['서울 아파트값 3주 연속 상승', '주말 전국에 비 소식'])}</div>"
        f"</div><div id='aside'><h4>많이 본 뉴스</h4>{links(['주말 전국에 비 소식', '서울 아파트값 3주 연속 상승'])}</div></div>"
        "<div id='footer'><p>한빛일보 | 서울특별시 중구 세종대로 00 | Copyright ⓒ 한빛일보. All rights reserved.</p></div>"
        "</body></html>"
    )
    from curate.stages.extract import extract_text

    text = extract_text(html, "https://news.example.kr/a/1")
    assert all(p in text for p in paras), text[:300]
    assert char_f1(text, "\n".join(paras)) >= 0.95


def _three_pages(tmp_path, name="pages.warc"):
    paras = [p["text"] for p in load_paragraphs() if p["lang"] == "ko"][:3]
    pages = [
        {
            "url": f"http://news.example.kr/{i}",
            "html": f"<html><body><article><p>{t}</p></article></body></html>",
            "encoding": "utf-8",
            "content_type": "text/html; charset=utf-8",
        }
        for i, t in enumerate(paras)
    ]
    path = tmp_path / name
    write_warc(path, pages)
    return path, paras


def test_truncated_warc_record_is_quarantined_not_kept_cut(tmp_path):
    path, paras = _three_pages(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[: data.rfind(paras[2].encode()) + 30])  # the file ends inside the last page
    recs = list(read_records(str(path)))
    assert [r.error is None for r in recs] == [True, True, False]
    assert "truncated" in recs[2].error
    assert recs[2].id.startswith("<urn:uuid:")  # its WARC-Record-ID: the header was read whole


def test_wrong_content_length_is_caught_by_the_digests(tmp_path):
    path, paras = _three_pages(tmp_path)
    data = bytearray(path.read_bytes())
    starts = [m.start() for m in re.finditer(rb"WARC/1\.0\r\n", bytes(data))]
    responses = [s for s in starts if b"WARC-Type: response" in data[s : s + 400]]
    head = responses[1]
    m = re.compile(rb"Content-Length: (\d+)").search(bytes(data), head)
    old = m.group(1)
    new = str(int(old) - 40).encode().rjust(len(old), b"0")  # same width: offsets stay
    data[m.start(1) : m.end(1)] = new
    path.write_bytes(bytes(data))
    recs = list(read_records(str(path)))
    assert [r.error is None for r in recs] == [True, False, True]  # the cut page is not kept
    assert "digest failed" in recs[1].error
    assert paras[0][:20] in recs[0].text and paras[2][:20] in recs[2].text


def test_valid_utf8_wins_over_a_wrong_label():
    text = "<html><body><p>흡연자분들은 발코니가 있는 방이면 발코니에서 흡연이 가능합니다.</p></body></html>"
    for label in ("koi8-r", "utf-16", "utf-16le", "windows-1251", "unicode_escape"):
        decoded, charset, how = decode_html(text.encode("utf-8"), f"text/html; charset={label}")
        assert decoded == text and charset == "utf-8", label


# Archives as crawlers and mirrors store them: compressed whole, damaged mid-file,
# full of records that are no document.


def _warc_bytes(tmp_path, pages, name="plain.warc"):
    path = tmp_path / name
    write_warc(path, pages)
    return path.read_bytes()


def _ko_pages(n, start=0):
    paras = [p["text"] for p in load_paragraphs() if p["lang"] == "ko"]
    return [
        {
            "url": f"http://news.example.kr/{i}",
            "html": _page(paras[i % len(paras)] + f" ({i})"),
            "encoding": "utf-8",
            "content_type": "text/html; charset=utf-8",
        }
        for i in range(start, start + n)
    ]


def _texts(path):
    return [(r.url, r.text, r.error) for r in read_records(str(path))]


def test_whole_file_compressed_warcs_are_read(tmp_path):
    import bz2
    import gzip
    import lzma

    import zstandard

    pages = _ko_pages(5)
    plain = _warc_bytes(tmp_path, pages)
    expected = _texts(tmp_path / "plain.warc")
    assert len(expected) == 5 and all(e is None for _, _, e in expected)
    for name, pack in (
        (".warc.zst", zstandard.ZstdCompressor().compress),
        (".warc.bz2", bz2.compress),
        (".warc.xz", lzma.compress),
        (".warc.gz", gzip.compress),
    ):
        path = tmp_path / f"crawl{name}"
        path.write_bytes(pack(plain))
        assert _texts(path) == expected, name


def test_wet_zst_is_read(tmp_path):
    import zstandard
    from warcio.warcwriter import WARCWriter

    paras = [p["text"] for p in load_paragraphs()[:3]]
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=False)
    for i, text in enumerate(paras):
        writer.write_record(
            writer.create_warc_record(
                f"https://news.example/{i}",
                "conversion",
                payload=io.BytesIO(text.encode()),
                warc_content_type="text/plain",
            )
        )
    path = tmp_path / "crawl.warc.wet.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(buf.getvalue()))
    assert [r.text for r in read_records(str(path))] == paras


def test_a_cut_or_corrupt_compressed_stream_keeps_the_pages_before_the_damage(tmp_path):
    import bz2
    import gzip
    import lzma

    import zstandard

    pages = _ko_pages(300)  # several zstd and bzip2 blocks: a cut loses only the last
    by_url = {p["url"]: p for p in pages}
    plain = _warc_bytes(tmp_path, pages)
    for kind, ext, pack in (
        ("zstd", "zst", zstandard.ZstdCompressor().compress),
        ("bz2", "bz2", lambda b: bz2.compress(b, 1)),
        ("xz", "xz", lzma.compress),
        ("gzip-stream", "gz", gzip.compress),
    ):
        path = tmp_path / f"cut.warc.{ext}"
        packed = pack(plain)
        path.write_bytes(packed[: len(packed) * 2 // 3])
        recs = list(read_records(str(path)))
        assert recs[-1].error.startswith(f"corrupt or truncated {kind} stream"), (kind, recs[-1].error)
        good = [r for r in recs if r.error is None]
        assert len(good) >= 100, (kind, len(good))
        assert [r.url for r in good] == [p["url"] for p in pages[: len(good)]], kind
        # 20 bytes flipped two thirds of the way in: past zstd's first block (128 KB
        # out, over half the stream), which nothing before its end can be read from
        at = len(packed) * 2 // 3
        damaged = bytearray(packed)
        damaged[at : at + 20] = bytes(b ^ 0x5A for b in damaged[at : at + 20])
        path.write_bytes(bytes(damaged))
        recs = list(read_records(str(path)))
        # the stream ends there, or (a block that inflates into other bytes) a record fails its digests
        assert (
            recs[-1].error
            and recs[-1].error.startswith(f"corrupt or truncated {kind} stream")
            or any(r.error and r.error.startswith("damaged WARC record") for r in recs)
        ), (kind, [r.error for r in recs if r.error])
        good = [r for r in recs if r.error is None]
        assert len(good) >= 20, (kind, len(good))
        if kind in ("bz2", "gzip-stream"):
            # zstd and xz have no check per block: damaged bytes can come out as other
            # bytes, and where they land in a record's WARC headers (its digests), no
            # reader can tell
            assert all(r.text == by_url[r.url]["html"] for r in good), kind


def _member_starts(data: bytes) -> list[int]:
    """Offsets of the gzip members of a per-record .warc.gz, found by decompressing."""
    starts, at = [], 0
    while at < len(data):
        starts.append(at)
        d = zlib.decompressobj(31)
        d.decompress(data[at:])
        at = len(data) - len(d.unused_data)
    return starts


def test_corrupt_gzip_member_loses_only_its_own_record(tmp_path):
    """20 bytes flipped in one member (its deflate data, its header, its CRC): the
    pages of every other member are read whole, the damage is one named row."""
    from curate.io.warc import counting

    pages = _ko_pages(50)
    path = tmp_path / "crawl.warc.gz"
    write_warc(path, pages)
    clean = path.read_bytes()
    starts = _member_starts(clean) + [len(clean)]
    assert len(starts) == 51  # one member per record
    by_url = {p["url"]: p for p in pages}
    for bad, where in ((5, "middle"), (20, "head"), (33, "tail"), (49, "middle")):
        lo, hi = starts[bad], starts[bad + 1]
        flip = {"middle": (lo + hi) // 2, "head": lo + 2, "tail": hi - 20}[where]
        data = bytearray(clean)
        data[flip : flip + 20] = bytes(b ^ 0x5A for b in data[flip : flip + 20])
        path.write_bytes(bytes(data))
        with counting(str(path)) as tally:
            recs = list(read_records(str(path)))
        good = [r for r in recs if r.error is None]
        assert {p["url"] for p in pages} - {r.url for r in good} == {pages[bad]["url"]}, where
        assert all(r.text == by_url[r.url]["html"] for r in good)  # every other page whole
        (row,) = [r for r in recs if r.error]
        if row.error.startswith("corrupt gzip data"):
            assert row.error.startswith(f"corrupt gzip data: bytes {lo}-{hi} skipped"), (where, row.error)
            assert row.origin == f"{path}:{lo}"
            assert tally.damaged == {"gzip ranges skipped": 1, "gzip bytes skipped": hi - lo}
        else:  # the member inflates, into a block its digest rejects
            assert row.error.startswith("damaged WARC record") and row.id.startswith("<urn:uuid:"), (where, row.error)
        assert sum(tally.records.values()) == tally.documents + sum(tally.skipped.values())
        assert len(recs) == 50


def test_every_record_is_counted_and_untyped_html_is_read(tmp_path):
    from web_pages import write_crawl

    from curate.io.warc import counting

    text = _paragraph("ko", 1)
    for name in ("crawl.warc", "crawl.warc.gz"):
        path = tmp_path / name
        expected = write_crawl(path, _page(text))
        with counting(str(path)) as tally:
            recs = list(read_records(str(path)))
        assert all(r.error is None for r in recs)
        assert {r.url for r in recs} == expected["pages"] and all(text in r.text for r in recs)
        got = tally.to_dict()
        assert got["records"] == expected["records"] and got["documents"] == expected["documents"], got
        assert got["skipped"] == expected["skipped"], got
        assert sum(got["records"].values()) == got["documents"] + sum(got["skipped"].values())


def test_inline_data_images_do_not_count_against_the_page_size(tmp_path):
    import base64

    text = _paragraph("ko", 4)
    image = base64.b64encode(bytes(range(256)) * (7_000_000 * 3 // 4 // 256)).decode()  # a 7 MB photo, inlined
    article = _page(text, f'<link rel="icon" href="data:image/png;base64,{image[:5000]}">').replace(
        "<p>", f'<p><img src="data:image/jpeg;base64,{image}" alt="">', 1
    )
    bloated = _page(text + " 본문" * 700_000)  # 2 MB of real markup
    many = article.replace("<p>", f'<p><img src="data:image/jpeg;base64,{image}">' * 2, 1)  # 21 MB
    path = tmp_path / "images.warc"
    write_warc(
        path,
        [
            {
                "url": f"https://img.example/{i}",
                "html": h,
                "encoding": "utf-8",
                "content_type": "text/html; charset=utf-8",
            }
            for i, h in enumerate((article, bloated, many))
        ],
    )
    ok, big, huge = read_records(str(path), max_doc_chars=200_000)  # pages up to 1.6 MB of markup
    assert ok.error is None and ok.text == article
    assert big.error.startswith("page too large") and huge.error.startswith("page too large")
    table = ExtractStage.from_section({}, "ko")(records_to_table([ok]))
    assert table.column("text")[0].as_py() == text


def _cut_title_page(text: str, codec: str, title_chars: int) -> bytes:
    """A page whose <title> was cut to a byte budget inside a two-byte character, as
    CMSes and crawlers that truncate titles write them."""
    end = title_chars
    while text[end - 1].isascii():  # end the title on a two-byte character
        end += 1
    title = text[:end]
    cut = title.encode(codec)[:-1]
    return (
        b"<html><head><title>"
        + cut
        + b"</title></head><body><p>"
        + text.encode(codec, "xmlcharrefreplace")
        + b"</p></body></html>"
    )


def test_legacy_page_with_a_cut_character_is_read_lossy():
    for codec, lang, labels, charsets in (
        ("cp949", "ko", ("euc-kr", None), {"cp949", "euc_kr"}),
        ("shift_jis", "ja", ("shift_jis", None), {"shift_jis", "cp932"}),
        ("euc_jp", "ja", ("euc-jp", None), {"euc_jp"}),
    ):
        paras = [p["text"] for p in load_paragraphs() if p["lang"] == lang]
        for i, text in enumerate(paras):
            for title_chars in (11, 17, 24):
                data = _cut_title_page(text, codec, title_chars)
                for label in labels:
                    ctype = f"text/html; charset={label}" if label else "text/html"
                    decoded, charset, how = decode_html(data, ctype)
                    where = (codec, i, title_chars, label, charset, how)
                    assert text in decoded and "\ufffd" not in decoded, where
                    assert charset in charsets and how == f"{charset}-lossy", where


def test_cjk_bytes_under_other_wrong_labels_are_not_mojibake():
    text = _paragraph("ko", 3)
    data = _page(text).encode("cp949")
    for label in ("windows-1251", "iso-8859-15", "iso-8859-2", "koi8-r", "gb2312", "gbk", "windows-1250"):
        decoded, charset, how = decode_html(data, f"text/html; charset={label}")
        assert text in decoded and charset == "cp949", (label, charset, how)
    ja = _paragraph("ja", 3)
    for codec in ("shift_jis", "euc_jp"):
        for label in ("windows-1251", "iso-8859-2", "gbk"):
            decoded, charset, how = decode_html(_page(ja).encode(codec), f"text/html; charset={label}")
            assert ja in decoded, (codec, label, charset, how)
    # the labels still hold for the pages they are made for
    for own, codec, label in (
        (
            "Москва — столица России, крупнейший по численности населения город страны и её политический центр.",
            "cp1251",
            "windows-1251",
        ),
        (
            "Kraków jest drugim co do wielkości miastem Polski, położonym nad Wisłą w południowej części kraju.",
            "iso8859-2",
            "iso-8859-2",
        ),
        (
            "北京是中华人民共和国的首都，是全国的政治中心、文化中心，也是世界著名的古都和现代化国际城市。"
            "北京有着三千余年的建城史和八百多年的建都史，是一座历史悠久的城市。",
            "gbk",
            "gbk",
        ),
    ):
        decoded, charset, how = decode_html(_page(own).encode(codec), f"text/html; charset={label}")
        assert own in decoded and how == "http", (label, charset, how)


def test_a_response_with_a_garbled_status_line_is_counted(tmp_path):
    from curate.io.warc import counting

    path = tmp_path / "garbled.warc"
    write_warc(path, _ko_pages(3))
    data = path.read_bytes()
    at = data.find(b"HTTP/1.1 200 OK", data.find(b"HTTP/1.1 200 OK") + 1)
    path.write_bytes(data[:at] + b"\x00\x01garbage\xff\xfe\x00" + data[at + 15 :])  # same length
    with counting(str(path)) as tally:
        recs = list(read_records(str(path)))
    assert [r.url for r in recs] == ["http://news.example.kr/0", "http://news.example.kr/2"]
    assert tally.to_dict()["skipped"] == {"response without an HTTP status": 1}
    assert tally.to_dict()["records"] == {"response": 1, "response 200": 2}


def test_archive_counts_survive_a_restart_of_the_run(tmp_path):
    """Each archive's counts are kept beside its staged rows, so a resumed run that
    does not read a finished archive again still reports its records."""
    from web_pages import write_crawl

    from curate.io.warc import WarcTally, counting
    from pipelines.staging import StagedRun

    paths = []
    for name in ("a.warc", "b.warc.gz"):
        write_crawl(tmp_path / name, _page(_paragraph("ko", 7)))
        paths.append(str(tmp_path / name))
    staged = StagedRun(tmp_path / "work", paths, key_columns=[])
    assert staged.warc_tally() is None
    tallies = []
    for path in paths:
        with counting(path) as tally:
            list(read_records(path))
        staged.write_warc_tally(path, tally.to_dict())
        tallies.append(tally)
    total = WarcTally()
    for t in tallies:
        total.merge(t)
    again = StagedRun(tmp_path / "work", paths, key_columns=[])  # a new process, same work folder
    assert again.warc_tally() == total.to_dict()
    assert again.warc_tally()["documents"] == 4 and again.warc_tally()["records"]["response 200"] == 8


def test_a_damaged_record_header_in_a_plain_warc_costs_only_that_record(tmp_path):
    """A WARC Content-Length that no longer reads as a number: warcio would read that
    record to the end of the file, swallowing every record after it."""
    from curate.io.warc import counting

    pages = _ko_pages(10)
    path = tmp_path / "crawl.warc"
    write_warc(path, pages)
    data = path.read_bytes()
    starts = [m.start() for m in re.finditer(rb"WARC/1\.[01]\r\n", data)] + [len(data)]
    head = data.index(b"\r\nContent-Length: ", starts[4]) + 2
    path.write_bytes(data[:head] + b"Content-Lenght" + data[head + 14 :])
    with counting(str(path)) as tally:
        recs = list(read_records(str(path)))
    by_url = {p["url"]: p for p in pages}
    good = [r for r in recs if r.error is None]
    assert [r.url for r in good] == [p["url"] for i, p in enumerate(pages) if i != 4]
    assert all(r.text == by_url[r.url]["html"] for r in good)
    (row,) = [r for r in recs if r.error]
    assert row.error.startswith(f"corrupt WARC data: bytes {starts[4]}-{starts[5]} skipped"), row.error
    assert "Content-Length" in row.error
    assert tally.damaged == {"WARC ranges skipped": 1, "WARC bytes skipped": starts[5] - starts[4]}
