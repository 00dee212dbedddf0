"""Words for every language: kiwipiepy for Korean, fugashi + unidic-lite for Japanese,
whitespace for languages that put spaces between words.

Space-splitting counts eojeol in Korean (a noun plus its particles is one "word") and
one "word" per sentence in Japanese, so word-level quality rules need a morphological
analyser there. The analysers are loaded lazily, once per process (so a forked Ray
worker loads its own), and every entry point takes a list of texts so callers batch.

Each analysed document comes back as a ``Morphs``: the surface forms and, per token,
a coarse class: content word, function word (particles, endings, auxiliaries) or
punctuation/symbol. Function words are what real prose has and menus, keyboard mash
and keyword lists lack.
"""

from __future__ import annotations

import functools
import re
import shlex
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate, compress
from pathlib import Path

SPACED_LANGS = {"en", "fr", "de", "es", "it", "pt", "nl"}
CONTENT, FUNCTION, PUNCT = 0, 1, 2

# Kiwi's tag set (Sejong-based): J* particles, E* endings, VCP copula; S* except
# SL (foreign word), SH (hanja), SN (number) are punctuation and symbols.
_KO_PUNCT_TAGS = {"SF", "SP", "SS", "SSO", "SSC", "SE", "SO", "SW", "SB", "W_EMOJI"}


def _ko_class(tag: str) -> int:
    if tag in _KO_PUNCT_TAGS:
        return PUNCT
    if tag[0] in "JE" or tag == "VCP":
        return FUNCTION
    return CONTENT


@dataclass
class Morphs:
    """Words of one document (for long documents, of its analysed prefix)."""

    words: list[str]
    classes: list[int]
    scale: float = 1.0  # full-document words per analysed word (1.0 unless a prefix was analysed)
    # log-probability per non-space character of the analysis under the analyser's own
    # language model (kiwi); None where the analyser gives none
    lm_score: float | None = None
    # the text the analyser saw (the prefix, for long documents) and the offsets in it
    # where a sentence-final ending closes a sentence (Korean EF: 재밌다, 봤어요, 별로임);
    # None where the analyser does not mark them
    text: str | None = None
    sentence_ends: list[int] | None = None

    @property
    def n_words(self) -> int:
        """Words excluding punctuation, extrapolated to the whole document."""
        return round((len(self.classes) - self.classes.count(PUNCT)) * self.scale)

    @property
    def function_ratio(self) -> float:
        n = len(self.classes) - self.classes.count(PUNCT)
        return self.classes.count(FUNCTION) / n if n else 0.0

    def content_words(self) -> list[str]:
        return list(compress(self.words, bytes(self.classes).translate(_NOT_PUNCT)))

    def phrases(self) -> list[str]:
        """Content words joined with the function words that follow them: Japanese
        bunsetsu-like units (東京に / 行きました), the size of a Korean eojeol, so
        n-gram rules written for space-separated words keep their meaning. Punctuation
        ends a phrase and belongs to none."""
        words = self.words
        runs = (words[m.start() : m.end()] for m in _PHRASE.finditer(bytes(self.classes)))
        return [p for p in map("".join, runs) if p]


_NOT_PUNCT = bytes(c != PUNCT for c in range(256))  # class byte -> 1 for words, 0 for punctuation
# A phrase in the words' classes (one byte a word): content words and the function
# words after them, or function words with no content word before them.
_PHRASE = re.compile(b"[%c]+[%c]*|[%c]+" % (CONTENT, FUNCTION, FUNCTION))


def _cut_prefix(text: str, max_chars: int) -> tuple[str, float]:
    """A whitespace-aligned prefix of at most max_chars and the eojeol scale factor."""
    if max_chars <= 0 or len(text) <= max_chars:
        return text, 1.0
    cut = text.rfind(" ", 0, max_chars)
    prefix = text[: cut if cut > max_chars // 2 else max_chars]
    return prefix, max(1.0, len(text.split()) / max(1, len(prefix.split())))


# After a sentence's last word: punctuation, symbols, ㅋㅋ/ㅠㅠ (kiwi tags them SW).
_KO_AFTER_END = {"SF", "SE", "SW", "SO", "SS", "SSC", "W_EMOJI"}


def _ko_sentence_ends(text: str, toks) -> list[int]:
    """Offsets in ``text`` where a sentence ends by its grammar, punctuation or not: after
    a final ending (EF: 재밌다, 봤어요, 별로임, 드러난다), and after a noun closing a
    modified noun phrase at the end of a sentence (ETM + noun: "3박자 다 갖춘 영화",
    "자막있는게 나은듯"), the way reviews and captions end. A bare noun row ("홈 뉴스
    정치") has no modifier and no ending, so it ends nothing."""
    ends = []
    for j, t in enumerate(toks):
        if t.tag == "EF":
            ends.append(t.start + t.len)
            continue
        if not (t.tag.startswith("N") or t.tag == "XSN"):
            continue
        nxt = toks[j + 1] if j + 1 < len(toks) else None
        if nxt is not None and nxt.tag not in _KO_AFTER_END and "\n" not in text[t.start + t.len : nxt.start]:
            continue
        i = j - 1
        while i >= 0 and j - i <= 2 and (toks[i].tag.startswith("N") or toks[i].tag == "XSN"):
            i -= 1
        if i >= 0 and toks[i].tag == "ETM" and "\n" not in text[toks[i].start : t.start]:
            ends.append(t.start + t.len)
    return ends


class KoreanSegmenter:
    """kiwipiepy with its default ``cong`` model.

    ``workers`` > 1 makes kiwi analyse a batch on its own thread pool; the pipeline
    parallelises over processes, so the default is one thread.
    """

    def __init__(self, workers: int = 1, max_chars: int = 20000):
        from kiwipiepy import Kiwi

        self.workers = workers
        self.max_chars = max_chars
        self.kiwi = Kiwi(num_workers=workers if workers > 1 else -1, model_type="cong")

    # kiwi is slow on very long digit/comma runs (seen in crawls and number lists)
    _LONG_NUMBER = re.compile(r"[0-9,.]{20,}")

    def analyze(self, texts: list[str]) -> list[Morphs]:
        cut = [_cut_prefix(self._LONG_NUMBER.sub("0", t), self.max_chars) for t in texts]
        prefixes = [p for p, _ in cut]
        # analyze(top_n=1) is what tokenize() runs, plus the path's LM score
        if self.workers > 1 and len(prefixes) > 1:
            results = (r[0] for r in self.kiwi.analyze(prefixes, top_n=1))
        else:
            results = (self.kiwi.analyze(p, top_n=1)[0] for p in prefixes)
        out = []
        for (prefix, scale), (toks, score) in zip(cut, results):
            n = len(prefix) - prefix.count(" ") - prefix.count("\n")
            out.append(
                Morphs(
                    [t.form for t in toks],
                    [_ko_class(t.tag) for t in toks],
                    scale,
                    score / n if n else None,
                    prefix,
                    _ko_sentence_ends(prefix, toks),
                )
            )
        return out


class JapaneseSegmenter:
    """fugashi (MeCab) with unidic-lite. MeCab prints each word's surface and right
    context id only: the id stands for the word's part of speech and conjugated form
    (the dictionary's right-id.def), so one table lookup per id gives its class and
    whether it can end a sentence. Formatting the words' full features, and splitting
    them in Python word by word, cost more than the analysis itself."""

    def __init__(self, max_chars: int = 100000):
        import fugashi
        import unidic_lite

        self.max_chars = max_chars
        dicdir = Path(unidic_lite.DICDIR)
        word = r"%m\\n%phr\\n"  # surface, right context id; shlex reads the escapes once
        self.tagger = fugashi.GenericTagger(
            f"-r {shlex.quote(str(dicdir / 'mecabrc'))} -d {shlex.quote(str(dicdir))} -O '' "
            f"--node-format={word} --unk-format={word} --bos-format= --eos-format="
        )
        self.class_of, self.final_of = _ja_context_classes(dicdir / "right-id.def")

    def analyze(self, texts: list[str]) -> list[Morphs]:
        out = []
        for text in texts:
            scale = 1.0
            if self.max_chars > 0 and len(text) > self.max_chars:
                scale, text = len(text) / self.max_chars, text[: self.max_chars]
            # surface and id lines by turns (fugashi drops the last line break); an empty
            # output, for a text of spaces only, is no word
            rows = self.tagger.parse(text).split("\n")
            words, ids = (rows[0::2], rows[1::2]) if len(rows) > 1 else ([], [])
            classes = list(map(self.class_of.__getitem__, ids))
            finals = list(map(self.final_of.__getitem__, ids))
            out.append(Morphs(words, classes, scale, None, text, _ja_sentence_ends(text, words, finals, classes)))
        return out


# UniDic's first POS level: particles and auxiliary verbs are the function words.
_JA_FUNCTION_POS = ("助詞", "助動詞")
_JA_PUNCT_POS = ("補助記号", "空白")
# A Japanese sentence ends in a predicate's final or attributive form (並んでいる,
# 見ています, 美しい) or a sentence-final particle (ね, よ, か) however it is punctuated:
# captions often have no 。 ("商品棚にパンやケーキが並んでいる").
_JA_FINAL_POS = ("動詞", "形容詞", "助動詞", "助詞-終助詞")
_JA_FINAL_FORM = ("終止形", "連体形")


def _ja_context_classes(right_ids: Path) -> tuple[dict[str, int], dict[str, bool]]:
    """Per right context id (as MeCab prints it): the word class, and whether a word of
    that part of speech and form can end a sentence. A line of right-id.def is
    ``id pos1,pos2,pos3,pos4,cType,cForm,...``; the part of speech is read as MeCab's
    ``%F-[0,1,2,3]`` writes it (levels joined by "-", "*" left out)."""
    class_of, final_of = {}, {}
    for line in right_ids.read_text(encoding="utf-8").splitlines():
        num, _, feature = line.partition(" ")
        fields = feature.split(",")
        pos = "-".join(f for f in fields[:4] if f != "*")
        form = fields[5] if len(fields) > 5 else "*"
        if pos.startswith(_JA_PUNCT_POS):
            class_of[num] = PUNCT
        elif pos.startswith(_JA_FUNCTION_POS):
            class_of[num] = FUNCTION
        else:
            class_of[num] = CONTENT
        final_of[num] = pos.startswith(_JA_FINAL_POS) and (pos.startswith("助詞") or form.startswith(_JA_FINAL_FORM))
    return class_of, final_of


def _ja_sentence_ends(text: str, words: list[str], finals: list[bool], classes: list[int]) -> list[int]:
    """Offsets where a predicate or final particle is the last word before punctuation,
    a line break or the end of the text."""
    ends: list[int] = []
    if not any(finals):
        return ends
    span, last = _ja_word_spans(text, words), len(words) - 1
    for j in compress(range(len(words)), finals):
        start, end = span(j)
        if start < 0:
            continue
        if j == last or classes[j + 1] == PUNCT:
            ends.append(end)
            continue
        nxt = span(j + 1)[0]
        if nxt >= 0 and "\n" in text[end:nxt]:
            ends.append(end)
    return ends


# What MeCab skips between words (the SPACE class of unidic-lite's char.def).
_MECAB_SPACE = re.compile(r"[ \t\n\v]")


def _ja_word_spans(text: str, words: list[str]) -> Callable[[int], tuple[int, int]]:
    """(start, end) of the j-th word in the text. MeCab skips only its spaces between
    words, so where the words join up to the text without them, a word's place follows
    from the lengths before it and the spaces before that; otherwise (MeCab stops at a
    NUL) each word is the next occurrence of its surface, (-1, ...) where there is none."""
    if all(words) and "".join(words) == _MECAB_SPACE.sub("", text):
        offsets = list(accumulate(map(len, words), initial=0))  # in the text without spaces
        # per space: the characters before it that are no space
        before = [m.start() - i for i, m in enumerate(_MECAB_SPACE.finditer(text))]

        def placed(j: int) -> tuple[int, int]:
            start, last = offsets[j], offsets[j + 1] - 1
            return start + bisect_right(before, start), last + bisect_right(before, last) + 1

        return placed
    spans, at = [], 0
    for w in words:
        start = text.find(w, at) if w else -1
        if start >= 0:
            at = start + len(w)
        spans.append((start, at))
    return spans.__getitem__


_PUNCT_ONLY = re.compile(r"^\W+$")


class SpacedSegmenter:
    """Whitespace words, as Gopher and C4 count them; pure punctuation tokens are punct.
    No function-word tagging (stop-word rules do that job for these languages)."""

    def analyze(self, texts: list[str]) -> list[Morphs]:
        out = []
        for text in texts:
            words = text.split()
            out.append(Morphs(words, [PUNCT if _PUNCT_ONLY.match(w) else CONTENT for w in words]))
        return out


@functools.cache
def get_segmenter(lang: str, workers: int = 1):
    """One analyser per language per process, built on first use."""
    if lang == "ko":
        return KoreanSegmenter(workers=workers)
    if lang == "ja":
        return JapaneseSegmenter()
    return SpacedSegmenter()


def analyze(texts: list[str], lang: str, workers: int = 1) -> list[Morphs]:
    return get_segmenter(lang, workers).analyze(texts)


def eojeols(text: str) -> list[str]:
    """Space-separated units: eojeol in Korean, words in spaced languages (no analyser)."""
    return text.split()


def segmented(texts: list[str], lang: str) -> list[str]:
    """Texts with single spaces between words (fastText input for ko/ja)."""
    if lang not in ("ko", "ja"):
        return [" ".join(t.split()) for t in texts]
    return [" ".join(m.words) for m in analyze(texts, lang)]
