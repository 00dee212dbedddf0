"""Korean news pages laid out in nested tables: the article, not the cookie banner,
the navigation, the related articles or the footer."""

from table_pages import COOKIE, build_table_pages, news_sentences, recall_precision
from web_pages import write_warc

from curate.io.readers import read_records
from curate.io.records import records_to_table
from curate.stages.extract import ExtractStage, extract_text


def test_article_in_a_table_cell_wins_over_the_cookie_banner():
    s1, s2 = news_sentences()[:2]
    html = (
        "<html><head><title>뉴스</title></head><body>"
        f'<div class="cookie"><p>{COOKIE}</p></div>'
        '<table><tr><td><table><tr><td class="view_text"><font size="3">'
        f"{s1}<br><br>{s2}<br></font></td></tr></table></td></tr></table></body></html>"
    )
    text = extract_text(html, "https://news.example.kr/view.php?id=1")
    assert text == f"{s1}\n{s2}", text


def test_table_layout_pages_from_a_warc_give_the_article(tmp_path):
    pages = build_table_pages(n=25)
    for p in pages:
        p.update(encoding="cp949", content_type="text/html")
    path = tmp_path / "tables.warc.gz"
    write_warc(path, pages)
    records = list(read_records(str(path)))
    assert [r.error for r in records] == [None] * len(pages)
    table = ExtractStage.from_section({}, "ko")(records_to_table(records))
    by_url = {p["url"]: p for p in pages}
    recalls, precisions = [], []
    for url, text in zip(table.column("url").to_pylist(), table.column("text").to_pylist()):
        gold = by_url[url]["paragraphs"]
        recall, precision = recall_precision(text, "\n".join(gold))
        recalls.append(recall)
        precisions.append(precision)
        assert all(s in text for s in gold), (url, text)
        # nothing else: no cookie banner, menu, byline, related article or footer line
        assert [line for line in text.split("\n") if line not in gold] == [], (url, text)
    assert sum(recalls) / len(recalls) >= 0.95 and sum(precisions) / len(precisions) >= 0.9, (recalls, precisions)
