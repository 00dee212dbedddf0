"""Morpheme signals measured on a bounded sample of a long document.

kiwi analyses about 90,000 characters per CPU-second: on prose, where every document
passes the surface rules, it is most of the quality stage's time. A document longer
than ``morph_sample_chars`` is first analysed on a sample of its whole sentences, up to
that many characters, spread over the document (the first sentence, then every k-th:
a page whose opening reads well and whose rest is word salad shows both); its morpheme
ratios (function words, kiwi's score per character, the word-order gain) are the
sample's. A sampled document whose word rules all pass with a margin (SAMPLE_MARGINS)
keeps them; any other is analysed whole, exactly as without sampling, so a drop is
always decided on the whole document. A text whose sample could not pass the
sentence-end rules (can_clear: lines the sample does not reach end no sentence by
punctuation) is analysed whole at once, and a sample that fails another word rule's
margin gets no word-order gain: neither would be used.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from curate.stages.quality.chars import _SENTENCE_END
from curate.stages.quality.lines import _terminated

# A sentence of the sample ends at a sentence end or a line break.
_BOUNDARY = re.compile(_SENTENCE_END.pattern + r"|\n")
# A first sentence longer than the sample size is taken whole up to this many times it.
FIRST_SENTENCE_FACTOR = 4

# How far inside its threshold a sampled value must sit for the sample to decide: about
# the 99.9th percentile of (sample - whole text) over 1,200 Korean documents (KorQuAD
# paragraphs, 5-sentence news windows, the judged documents of tests/data), 150
# characters a sample (bench/quality.py prints the agreement of the decisions).
SAMPLE_MARGINS = {"function_word_ratio": 0.14, "lm_score": 1.5, "word_order_gain": 0.4}
# Signals a sample measures as a lower bound of the whole document's: lines outside
# the sample count their punctuated sentence ends only, and grammar adds ends, never
# removes one. A sample that passes their minimum passes it whole.
LOWER_BOUNDS = {"terminated_char_ratio", "long_terminated_char_ratio"}


@dataclass(frozen=True)
class Sample:
    text: str  # the sentences, one a line, as the analyser reads them
    spans: tuple[tuple[int, int], ...]  # where each sentence sits in the document

    def offset_in_document(self, at: int) -> int:
        """The document offset of an offset in ``text``."""
        starts = self._starts()
        k = bisect.bisect_right(starts, at) - 1
        start, end = self.spans[k]
        return min(end, start + at - starts[k])

    def _starts(self) -> list[int]:
        out, pos = [], 0
        for start, end in self.spans:
            out.append(pos)
            pos += end - start + 1
        return out


def _sentences(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for m in _BOUNDARY.finditer(text):
        if text[start : m.end()].strip():
            spans.append((start, m.end()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def sample_of(text: str, max_chars: int) -> Sample | None:
    """Whole sentences (or lines) of ``text``, up to ``max_chars`` characters: the first,
    then every k-th that fits, k the text's length over ``max_chars``; the first sentence alone when
    it is longer (up to FIRST_SENTENCE_FACTOR times). None (analyse the text whole) when
    the text is that short or its first sentence that long."""
    if max_chars <= 0 or len(text) <= max_chars:
        return None
    spans = _sentences(text)
    if len(spans) < 2 or spans[0][1] - spans[0][0] > FIRST_SENTENCE_FACTOR * max_chars:
        return None
    step = max(1, len(text) // max_chars)
    picked, size = [spans[0]], spans[0][1] - spans[0][0]
    for start, end in spans[step::step]:
        if size + end - start > max_chars:
            continue  # too long for what is left: a later, shorter one may fit
        picked.append((start, end))
        size += end - start
    return Sample("\n".join(text[a:b] for a, b in picked), tuple(picked))


def extend_to_whole(morphs, text: str, sample: Sample) -> bool:
    """Make a sample's Morphs speak for the whole text: words extrapolated by eojeol, and
    the whole text's lines for the sentence-end ratios, with the sample's grammar ends
    moved to their places in the text. False where the analyser changed the sample's
    characters (long digit runs), so offsets do not carry over."""
    if morphs.text != sample.text:
        return False
    morphs.scale = len(text.split()) / max(1, len(sample.text.split()))
    morphs.sentence_ends = [sample.offset_in_document(e) for e in morphs.sentence_ends or ()]
    morphs.text = text
    return True


def clear_pass(signals: dict, rules) -> bool:
    """Whether a sampled document passes every one of ``rules`` (the word rules) with its
    signal's margin to spare: then the whole document would pass them too."""
    for _, signal, bound, thr in rules:
        v = signals.get(signal)
        if v is None:
            continue
        margin = 0.0 if signal in LOWER_BOUNDS and bound == "min" else SAMPLE_MARGINS.get(signal, 0.25 * abs(thr))
        if (bound == "min" and v < thr + margin) or (bound == "max" and v > thr - margin):
            return False
    return True


def can_clear(text: str, sample: Sample, rules) -> bool:
    """Whether the sample could pass the minimum of each lower-bound signal (LOWER_BOUNDS)
    among ``rules`` at all: a line counts its punctuated sentence end, or the furthest
    point the sample reaches in it (the analyser finds sentence ends only there). A
    sample that cannot would be analysed for nothing (clear_pass fails, the text goes
    whole), so the text is analysed whole at once: most pages of comments without
    full stops are."""
    bounds = [(signal, thr) for _, signal, bound, thr in rules if signal in LOWER_BOUNDS and bound == "min"]
    if not bounds:
        return True
    spans, k, pos = sample.spans, 0, 0
    n_lines = total = most = 0
    for raw in text.split("\n"):
        start = pos + len(raw) - len(raw.lstrip())
        pos += len(raw) + 1
        line = raw.strip()
        if not line:
            continue
        while k < len(spans) and spans[k][1] <= start:
            k += 1
        reach = 0
        while k < len(spans) and spans[k][0] <= start + len(line):
            reach = min(spans[k][1], start + len(line)) - start
            if spans[k][1] > start + len(line):
                break  # the span goes on into the next line
            k += 1
        n_lines += 1
        total += len(line)
        most += max(_terminated(line), reach)
    ratio = most / max(1, total)
    return all(ratio >= thr for signal, thr in bounds if signal != "long_terminated_char_ratio" or n_lines >= 8)
