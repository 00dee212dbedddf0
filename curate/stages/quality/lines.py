"""Repetition and line structure: Gopher n-gram and duplicate fractions, sentence
ends, list and table rows, keyword rows."""

from __future__ import annotations

import re
from collections import Counter

from curate.stages.quality.chars import _SENTENCE_END


# ---------------------------------------------------------------------------- repetition
def _ngram_fracs(words: list[str], min_words: int = 0) -> dict[str, float]:
    """Gopher repetition (Rae et al. 2021, table A1): for n=2..4 the characters of the
    most frequent n-gram over all word characters; for n=5..10 the characters of words
    covered by the repeats of an n-gram (its first occurrence is not counted).

    Gopher judges documents of at least 50 words; in a shorter one a single phrase said
    twice is already a large share of the characters. With ``min_words`` a document of
    fewer words is measured as if padded with non-repeating words up to that length
    (the fractions scale by n_words / min_words), so short paragraphs are judged on
    the same footing as Gopher-sized documents."""
    out = {}
    lens = [len(w) for w in words]
    total = sum(lens)
    if min_words and 0 < len(words) < min_words:
        total = total * min_words / len(words)
    # An n-gram repeats only where the (n-1)-gram it starts with repeats: once no n-gram
    # repeats, every longer one scores 0 too, without counting (most prose repeats no
    # 2- or 5-word phrase).
    repeats = total > 0
    for n in (2, 3, 4):
        key = f"top_{n}gram_frac"
        if not repeats or len(words) < n:
            out[key] = 0.0
            continue
        grams = Counter(zip(*(words[i:] for i in range(n))))
        gram, count = grams.most_common(1)[0]
        repeats = count > 1
        out[key] = (count * sum(map(len, gram)) / total) if repeats else 0.0
    for n in range(5, 11):
        key = f"dup_{n}gram_frac"
        if not repeats or len(words) < n:
            out[key] = 0.0
            continue
        seen: dict[tuple, int] = {}
        covered = bytearray(len(words))
        for i, g in enumerate(zip(*(words[j:] for j in range(n)))):
            if seen.setdefault(g, i) != i:
                # a repeat: its words count, the first use does not (as datatrove's
                # GopherRepetitionFilter counts them, the reference FineWeb's thresholds
                # go with); marking both doubled a name said twice in an encyclopedia
                # paragraph
                covered[i : i + n] = b"\x01" * n
        repeats = len(seen) < len(words) - n + 1
        out[key] = sum(l for l, c in zip(lens, covered) if c) / total
    return out


# An ellipsis after anything but a sentence-final ending (Korean 다/요/죠/까..., Japanese
# た/す/ね/よ/だ): a teaser headline cut short ("... 충격 고백…", "衝撃の真相とは…").
_ELLIPSIS_MARK = re.compile(r"(?<![다요죠까네지데군나たすねよだ])(?:\.\.|…|‥)[\"'”’」』）)\]]*$")


def cut_short(line: str) -> bool:
    """Whether the line ends in an ellipsis that cuts a phrase short (_ELLIPSIS_MARK)."""
    return ("…" in line or "‥" in line or ".." in line) and _ELLIPSIS_MARK.search(line) is not None


def _terminated(line: str) -> int:
    """Characters of the line up to its last sentence end; an ellipsis that cuts a
    phrase short is no sentence end ("시작했다…" is one, "충격 고백…" is not)."""
    for m in reversed(list(_SENTENCE_END.finditer(line))):
        # the ellipsis can only start one character before the sentence end's own mark
        if not _ELLIPSIS_MARK.search(line, max(0, m.start() - 1), m.end()):
            return m.end()
    return 0


# Navigation rows ("홈 > 뉴스 > 연예", "会社概要 | 採用情報 | お問い合わせ") are lists of short items.
_NAV_SEP = re.compile(r"\s+(?:\||>|＞|›|»)\s+")
_SPACES = re.compile(r"\s+")


_PIPE = re.compile(r"[|｜]")
_FIGURE = re.compile(r"[0-9０-９]")


def _table_row(line: str, parts: list[str]) -> bool:
    """A row of a table in an article ("1995 | 1,234 | 567", "1位 東京 13,960千人"):
    cells split by a pipe with a figure in one, or a row that starts with a figure (a
    year, a rank). A menu row ("ホーム | ニュース | 会社概要") has no figures."""
    return len(parts) >= 2 and bool(
        (_PIPE.search(line) and any(_FIGURE.search(p) for p in parts)) or _FIGURE.match(parts[0])
    )


# A field row of an infobox or a spec sheet ("名称：東京タワー", "무게: 1.2kg"): one item,
# never a short one, like a table row.
_FIELD_ROW = re.compile(r"^[^\s:：]{1,10}\s?[:：]\s?\S")
_HANGUL_WORD = re.compile(r"[가-힣/]+")
# Last syllables of eojeol that end in a particle or a verb ending: prose has many, a row
# of bare nouns (a menu, a keyword row) few.
_KO_FUNCTION_END = frozenset("은는이가을를에의도로와과고며서지게한된할던다요면만까야나럼터께히")


def _bare_noun_row(line: str) -> bool:
    """A Korean line of 8+ Hangul eojeol, at most a quarter of them ending in a particle
    or an ending: "홈 뉴스 정치 경제 사회 국제 스포츠 연예" is a menu, however long."""
    words = [w for w in line.split() if _HANGUL_WORD.fullmatch(w)]
    return len(words) >= 8 and 4 * sum(1 for w in words if w[-1] in _KO_FUNCTION_END) <= len(words)


def _line_items(lines: list[str], ends: list[int], lang: str) -> list[str]:
    """Lines as short_line_ratio counts them: split at navigation separators; an
    unterminated line (ends: _terminated of each line) also at its spaces where spaces
    cannot be prose: in Japanese, which puts none in prose ("ホーム ニュース スポーツ 芸能"),
    and in a Korean row of bare nouns. A table row or a field row stays one item."""
    items = []
    for line, end in zip(lines, ends):
        if _FIELD_ROW.match(line):
            items.append(line)
            continue
        parts = [p for p in _NAV_SEP.split(line) if p]
        if not end and (lang == "ja" or lang == "ko" and _bare_noun_row(line)):
            parts = [q for p in parts for q in _SPACES.split(p) if q]
        items.extend([line] if _table_row(line, parts) else parts)
    return items


def _dup_fracs(parts: list[str], prefix: str, scale: float = 1.0) -> dict[str, float]:
    """Gopher: share of lines (paragraphs) that repeat an earlier one, and of their chars;
    ``scale`` is the short-document factor of _short_scale (repetition_min_words)."""
    if not parts:
        return {f"dup_{prefix}_frac": 0.0, f"dup_{prefix}_char_frac": 0.0}
    seen, dup_n, dup_chars, total = set(), 0, 0, 0
    for p in parts:
        total += len(p)
        if p in seen:
            dup_n += 1
            dup_chars += len(p)
        else:
            seen.add(p)
    return {
        f"dup_{prefix}_frac": scale * dup_n / len(parts),
        f"dup_{prefix}_char_frac": scale * dup_chars / max(1, total),
    }


def _short_scale(n_words: float, min_words: int) -> float:
    """The factor that measures a count over at least ``min_words`` words: a document of
    fewer words is taken as if padded with clean words up to that length, so that one
    laugh, one ellipsis or one typo in a one-line comment is not a large share of it
    (Gopher judges documents of 50+ words; Polyglot-Ko's spam rate is per word)."""
    return n_words / min_words if min_words and 0 < n_words < min_words else 1.0


# Japanese has no spaces to count words by before segmentation: surface counts are
# floored at count_min_words morphemes of this many characters (the median mean
# morpheme length of JSQuAD paragraphs is 1.7, see ja.yaml min_mean_word_len).
JA_CHARS_PER_WORD = 1.7
SHORT_LINE_MIN_ITEMS = 3
# Morphemes per bunsetsu-like phrase (Morphs.phrases), measured on JSQuAD: Japanese
# repetition is counted in phrases, as Korean in eojeol.
JA_MORPHEMES_PER_PHRASE = 2.6


def _terminated_ratios(lines: list[str], ends: list[int]) -> dict[str, float | None]:
    """terminated_char_ratio: FineWeb's line-ending rule is all-or-nothing on a one-line
    paragraph whose last sentence was cut; the share of line characters up to the last
    sentence end in their line grades it instead (0 for menus, keyword lists and number
    tables). long_terminated_char_ratio: the same on documents of 8+ lines (null below):
    there one or two long real sentences must not carry a page of navigation items
    ("홈\n뉴스\n스포츠\n... + a lead sentence")."""
    ratio = sum(ends) / max(1, sum(map(len, lines)))
    return {"terminated_char_ratio": ratio, "long_terminated_char_ratio": ratio if len(lines) >= 8 else None}


def _grammar_sentence_ends(morphs) -> tuple[list[str], list[int]] | None:
    """Lines of the analysed text and, per line, the characters up to its last sentence
    end, where a sentence ends at punctuation (_terminated) or where the analyser finds
    one by grammar (Morphs.sentence_ends): Korean comments close sentences with -다, -요,
    -죠, -음, -함, -네, -까 and no full stop ("...연출의 한계가 드러난다"), Japanese
    captions with a verb and no 。 ("商品棚にパンやケーキが並んでいる")."""
    if morphs.text is None or morphs.sentence_ends is None:
        return None
    lines, ends = [], []
    ef = sorted(morphs.sentence_ends)
    k, pos = 0, 0
    for raw in morphs.text.split("\n"):
        start = pos + len(raw) - len(raw.lstrip())
        line = raw.strip()
        pos += len(raw) + 1
        while k < len(ef) and ef[k] <= start:
            k += 1
        if not line:
            continue
        last = 0
        while k < len(ef) and ef[k] <= start + len(line):
            last = ef[k] - start
            k += 1
        lines.append(line)
        ends.append(max(_terminated(line), last))
    return lines, ends


_KEYWORD_TOKEN = re.compile(r"[^\s,#、，|/]+")


def _keyword_row(line: str) -> bool:
    """An unterminated row of 6+ tokens where one string of 2-8 characters is in half
    the tokens and makes 40% of their characters: the keyword row SEO pages stack
    ("강남 맛집 추천 강남 맛집 가격 강남 맛집 후기 ...", "東京 賃貸 東京 賃貸 格安 ...")."""
    tokens = _KEYWORD_TOKEN.findall(line)
    if len(tokens) < 6:
        return False
    held: dict[str, int] = {}
    for token in set(tokens):
        for sub in {token[i : i + k] for k in range(2, min(len(token), 8) + 1) for i in range(len(token) - k + 1)}:
            held[sub] = held.get(sub, 0) + tokens.count(token)
    total = sum(map(len, tokens))
    for sub, n in held.items():
        if 2 * n >= len(tokens) and _WORD2.search(sub):
            if 10 * sum(t.count(sub) * len(sub) for t in tokens) >= 4 * total:
                return True
    return False


_WORD2 = re.compile(r"\w\w")
