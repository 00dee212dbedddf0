"""WARC input: charsets decoded without mojibake, main content extracted, URL filters."""
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq

from curate.charset import decode_html
from curate.extract import make_stage as make_extract
from curate.readers import read_records, records_to_table
from curate.urlfilter import make_stage as make_urlfilter
from web_pages import build_pages, write_warc


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
    table = make_extract({}, "ko")(records_to_table(records))
    by_url = {p["url"]: p for p in pages}
    f1s = []
    for url, text, charset, http in zip(table.column("url").to_pylist(), table.column("text").to_pylist(),
                                        table.column("charset").to_pylist(), table.column("http_charset").to_pylist()):
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


def test_undecodable_page_is_quarantined(tmp_path):
    path = tmp_path / "bad.warc"
    garbage = bytes(range(0x80, 0x100)) * 40
    write_warc(path, [{"url": "https://x.example/", "html": garbage.decode("latin-1"),
                       "encoding": "latin-1", "content_type": "text/html; charset=utf-8"}])
    (rec,) = read_records(str(path))
    assert (rec.error is None and "\ufffd" not in rec.text) or "undecodable" in rec.error


def test_urlfilter_blocks_domains_and_substrings():
    from curate.readers import Record

    urls = ["https://news.example/a", "https://www.example-casino.test/x", "https://blog.example/%EC%B9%B4%EC%A7%80%EB%85%B8",
            "https://ok.example/totosite-review", None]
    table = records_to_table([Record(f"d{i}", "본문", f"t:{i}", url=u) for i, u in enumerate(urls)])
    out = make_urlfilter({}, "ko")(table)
    assert out.column("drop_reason").to_pylist() == [
        None, "urlfilter:blocked_domain", "urlfilter:blocked_substring", "urlfilter:blocked_substring", None]


def test_warc_through_the_pipeline(tmp_path):
    import ray

    from pipelines.corpus import run_corpus

    pages = build_pages()
    write_warc(tmp_path / "crawl.warc.gz", pages)
    recipe = tmp_path / "ko.yaml"
    recipe.write_text("lang: ko\nstages: [normalize, urlfilter, langid, dedup]\n"
                      "urlfilter: {max_per_domain: 10}\nlangid: {keep: [ko]}\n")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        manifest = run_corpus([str(tmp_path / "crawl.warc.gz")], str(tmp_path / "out"), "ko",
                              recipe_file=str(recipe), progress=False)
    finally:
        ray.shutdown()
    c = manifest["counts"]
    assert c["read"] == len(pages)
    assert c["drop_reasons"].get("langid:other_lang") == sum(p["lang"] == "ja" for p in pages)
    ko_pages = sum(p["lang"] == "ko" for p in pages)
    assert c["drop_reasons"].get("urlfilter:domain_cap") == ko_pages - 10
    assert c["kept"] == 10
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
            rec = writer.create_warc_record(f"https://news.example/{i}", "conversion",
                                            payload=io.BytesIO(text.encode("utf-8")), warc_content_type="text/plain")
            writer.write_record(rec)
    records = list(read_records(str(path)))
    assert [r.text for r in records] == paras
    assert all(r.url.startswith("https://news.example/") and r.web["charset"] == "utf-8/wet" for r in records)
    table = records_to_table(records)
    assert table.column("content_type").to_pylist() == [None, None, None]  # nothing for extract to do
