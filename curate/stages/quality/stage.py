"""The quality stage: signals of each live document, its first failing rule, its score,
and the stage's part of the report statistics."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.io.schema import QUALITY_SIGNALS_TYPE
from curate.stages import summaries
from curate.stages.base import RECIPE_DIR, BatchStage, Section, live_mask, merge_drop_reasons, set_column
from curate.stages.quality import signal_hist
from curate.stages.quality.morph_sample import can_clear, clear_pass, extend_to_whole, sample_of
from curate.stages.quality.rules import (
    SIGNAL_NAMES,
    WORD_SIGNALS,
    failed_rule,
    headroom,
    merged_section,
    ordered_rules,
    rules_from_cfg,
)
from curate.stages.quality.signals import surface_signals, word_signals
from curate.stages.segment import analyze

# A scorer adds signals to a batch: f(texts, lang) -> {signal: list of float}. The
# fastText classifier is one (model_score); append to SCORERS or pass scorers= to the
# stage. The project's own language model scores in its own stage (curate.stages.perplexity).
Scorer = Callable[[list[str], str], dict[str, list[float]]]
SCORERS: list[Scorer] = []


# ---------------------------------------------------------------------------- stage
WORD_ORDER_WINDOW = 120  # eojeol: enough for a stable per-character score, bounded cost
WORD_ORDER_MIN_WORDS = 25  # eojeol: a shorter text has too little grammar to lose


@dataclass(frozen=True)
class QualitySettings:
    lang: str
    section: dict  # the language's defaults with the recipe's keys over them: what the signals read
    rules: tuple  # (rule, signal, 'min'|'max', threshold) in the order they are checked
    file_rules: tuple  # the same in file order (as the report lists them)
    batch_size: int = 256
    workers: int = 1
    use_morphs: bool = True  # segment: morph (kiwipiepy / fugashi words) | space
    analyze_dropped: bool = False
    morph_sample_chars: int = 0  # 0: analyse whole texts (curate.stages.quality.morph_sample)
    model_weight: float = 0.5
    model: str | None = None  # a fastText quality classifier (curate train-quality)

    @classmethod
    def from_section(cls, section: dict, lang: str) -> QualitySettings:
        merged = merged_section(section, lang)
        file_rules = tuple(rules_from_cfg(merged))  # an unknown key fails here
        s = Section(merged, set(merged))  # rules_from_cfg has checked every key
        for key in ("short_line_chars", "repetition_min_words", "flagged_min_words", "count_min_words"):
            s.integer(key, None, minimum=0)
        s.number("word_order_gate", -3.5)
        s.strings("stop_words", None)
        s.existing_file("flagged_words", RECIPE_DIR)
        s.existing_file("flagged_topics", RECIPE_DIR)
        return cls(
            lang=lang,
            section=merged,
            rules=tuple(ordered_rules(merged, lang)),
            file_rules=file_rules,
            batch_size=s.integer("batch_size", 256, minimum=1),
            workers=s.integer("workers", 1, minimum=1),
            use_morphs=s.choice("segment", "morph", ("morph", "space")) == "morph",
            analyze_dropped=s.boolean("analyze_dropped", False),
            morph_sample_chars=s.integer("morph_sample_chars", 0, minimum=0),
            model_weight=s.number("model_weight", 0.5, 0.0, 1.0),
            model=s.existing_file("model"),
        )


class QualityStage(BatchStage):
    name = "quality"
    Settings = QualitySettings

    def __init__(self, settings: QualitySettings, scorers: list[Scorer] | None = None):
        super().__init__(settings)
        self.scorers = list(SCORERS if scorers is None else scorers)
        if settings.model:
            from curate.stages.quality_model import model_scorer

            self.scorers.append(model_scorer(settings.model))
        late = WORD_SIGNALS.get(settings.lang, set()) | {"model_score"}
        self._surface_rules = [r for r in settings.rules if r[1] not in late]
        self._word_rules = [r for r in settings.rules if r[1] in WORD_SIGNALS.get(settings.lang, set())]
        self._word_rules_before_order = [r for r in self._word_rules if r[1] != "word_order_gain"]
        checked = [r[1] for r in settings.rules]
        order = checked.index("word_order_gain") if "word_order_gain" in checked else len(checked)
        self._rules_before_order = list(settings.rules[:order])  # a document failing one needs no word order
        self._order_gate = float(settings.section.get("word_order_gate", -3.5))
        self.seconds: Counter = Counter()  # CPU seconds per phase (bench/quality.py prints the shares)
        self._phase: str | None = None

    @contextmanager
    def clock(self, phase: str) -> Iterator[None]:
        """Add the CPU time of the block to ``phase`` (and take it off the enclosing phase)."""
        t0, outer = time.process_time(), self._phase
        self._phase = phase
        try:
            yield
        finally:
            spent = time.process_time() - t0
            self.seconds[phase] += spent
            if outer is not None:
                self.seconds[outer] -= spent
            self._phase = outer

    def signals(self, texts: list[str], complete: bool | None = None) -> list[dict]:
        """Signals of a list of texts, in batches, cheapest first. Unless ``complete`` (or
        the recipe's ``analyze_dropped: true``), a text that already fails a surface rule
        is not segmented nor model-scored: its word signals stay null (the fast path: on
        web crawls most drops are menus, lists and mojibake, and kiwi is the cost); one
        that fails a word rule gets no word-order gain (kiwi again, twice)."""
        complete = self.settings.analyze_dropped if complete is None else complete
        out = []
        for start in range(0, len(texts), self.settings.batch_size):
            batch = texts[start : start + self.settings.batch_size]
            with self.clock("surface signals"):
                sigs = surface_signals(batch, self.settings.lang, self.settings.section)
                todo = [i for i, sig in enumerate(sigs) if complete or failed_rule(sig, self._surface_rules) is None]
            if self.settings.use_morphs and todo:
                self._word_signals([batch[i] for i in todo], [sigs[i] for i in todo], complete)
            sub = [batch[i] for i in todo]
            for scorer in self.scorers if sub else ():
                with self.clock("model scores"):
                    for name, values in scorer(sub, self.settings.lang).items():
                        for i, v in zip(todo, values):
                            sigs[i][name] = float(v)
            out.extend(sigs)
        return out

    def _word_signals(self, texts: list[str], sigs: list[dict], complete: bool) -> None:
        """Word signals of texts that passed the surface rules: long texts on a sample
        first (curate.stages.quality.morph_sample), then whole where the sample does not
        pass the word rules clearly, in one analyser call per step."""
        samples = [sample_of(t, self.settings.morph_sample_chars) for t in texts]
        samples = [s if s is None or can_clear(t, s, self._word_rules) else None for t, s in zip(texts, samples)]
        with self.clock("morphemes"):
            settled = self._analyse(texts, samples, sigs, complete)
        redo = [i for i, ok in enumerate(settled) if not ok]
        if redo:
            with self.clock("morphemes again, whole texts"):
                self._analyse([texts[i] for i in redo], [None] * len(redo), [sigs[i] for i in redo], complete)

    def _analyse(self, texts: list[str], samples: list, sigs: list[dict], complete: bool) -> list[bool]:
        """Word signals of ``texts`` from the analysis of their samples (of each text
        whole where its sample is None), and whether each is settled: analysed whole, or
        a sample that passes the word rules clearly."""
        lang, section = self.settings.lang, self.settings.section
        analysed = [t if s is None else s.text for t, s in zip(texts, samples)]
        settled = []
        for text, sample, m, sig in zip(texts, samples, analyze(analysed, lang, self.settings.workers), sigs):
            settled.append(sample is None or extend_to_whole(m, text, sample))
            sig.update(word_signals(text, m, lang, section))
        for sig in sigs:
            sig.pop("word_order_gain", None)  # a sample's, when the whole text is analysed now
        if lang == "ko":
            live = [
                i
                for i, sig in enumerate(sigs)
                if (complete or failed_rule(sig, self._rules_before_order) is None)
                # a sample that fails another word rule's margin goes whole: its order then
                and (samples[i] is None or (settled[i] and clear_pass(sig, self._word_rules_before_order)))
            ]
            with self.clock("word order"):
                # a sample is the window of a long text, however few its eojeol
                lengths = [len(texts[i].split()) for i in live]
                self._word_order_gain([analysed[i] for i in live], [sigs[i] for i in live], lengths)
        for i, sample in enumerate(samples):
            if settled[i] and sample is not None:
                settled[i] = clear_pass(sigs[i], self._word_rules)
        return settled

    def _word_order_gain(self, texts: list[str], sigs: list[dict], lengths: list[int]) -> None:
        """word_order_gain: kiwi's log-prob per character of a text's first
        WORD_ORDER_WINDOW eojeol minus that of the same eojeol shuffled. Real sentences
        lose their grammar when shuffled; word salad made of real words (SEO filler) has
        none to lose. Only for texts whose document has 25+ eojeol (``lengths``) and whose
        lm_score is already low (``word_order_gate``): prose scores above it, so kiwi runs
        again on few texts."""
        gate = self._order_gate
        todo, windows, shuffled = [], [], []
        for i, (text, sig, n) in enumerate(zip(texts, sigs, lengths)):
            sig["word_order_gain"] = None
            words = text.split()
            if sig.get("lm_score") is None or sig["lm_score"] >= gate or n < WORD_ORDER_MIN_WORDS:
                continue
            window = words[:WORD_ORDER_WINDOW]
            mixed = list(window)
            random.Random(len(window)).shuffle(mixed)  # seeded: the same text, the same signal
            todo.append(i)
            windows.append(" ".join(window) if len(words) > WORD_ORDER_WINDOW else None)
            shuffled.append(" ".join(mixed))
        if not todo:
            return
        whole = [w for w in windows if w is not None]
        scored = iter(analyze(whole, self.settings.lang, self.settings.workers)) if whole else iter(())
        for i, window, mixed in zip(todo, windows, analyze(shuffled, self.settings.lang, self.settings.workers)):
            base = sigs[i]["lm_score"] if window is None else next(scored).lm_score
            if base is not None and mixed.lm_score is not None:
                sigs[i]["word_order_gain"] = base - mixed.lm_score

    def score(self, sig: dict) -> float:
        h = headroom(sig, self.settings.rules)
        m = sig.get("model_score")
        return h if m is None else (1 - self.settings.model_weight) * h + self.settings.model_weight * m

    def __call__(self, table: pa.Table) -> pa.Table:
        with self.clock("rules and columns"):
            return self._judge(table)

    def _judge(self, table: pa.Table) -> pa.Table:
        live = live_mask(table)
        idx = np.flatnonzero(live)
        texts = table.column("text").to_pylist()
        sigs = self.signals([texts[i] or "" for i in idx])
        structs: list[dict | None] = table.column("quality_signals").to_pylist()
        scores: list[float | None] = table.column("quality_score").to_pylist()
        reasons: list[str | None] = [None] * table.num_rows
        for i, sig in zip(idx, sigs):
            structs[i] = {n: sig.get(n) for n in SIGNAL_NAMES}
            scores[i] = self.score(sig)
            rule = failed_rule(sig, self.settings.rules)
            if rule:
                reasons[i] = f"quality:{rule}"
        table = set_column(table, "quality_signals", pa.array(structs, type=QUALITY_SIGNALS_TYPE))
        table = set_column(table, "quality_score", scores)
        return merge_drop_reasons(table, reasons)

    @staticmethod
    def word_counts(table: pa.Table):
        """Words as this stage counted them (morphemes in Japanese), null where it did not."""
        if "quality_signals" not in table.column_names:
            return None
        return pc.struct_field(table.column("quality_signals"), "n_words")

    @staticmethod
    def stats(table: pa.Table) -> dict:
        """Documents per score decile, the score histogram, sample documents per decile
        and each signal's histogram, kept vs dropped (curate.stages.quality.signal_hist)."""
        deciles = _deciles(summaries.floats(table.column("quality_score")))
        counts = np.bincount(deciles + 1, minlength=11)
        labels = [str(i) for i in range(10)]
        return {
            "hist": {
                "quality_score": summaries.histogram(summaries.floats(table.column("quality_score")), SCORE_EDGES)
            },
            "quality_decile": {("none" if i == 0 else str(i - 1)): int(c) for i, c in enumerate(counts) if c},
            "sample_groups": {"quality_decile": (deciles, labels)},
            "signal_hist": signal_hist.stats(table),
        }

    @staticmethod
    def merge_stats(parts: list[dict]) -> dict:
        return {
            "quality_decile": summaries.add_counts(p.get("quality_decile") for p in parts),
            "signal_hist": signal_hist.merge([p.get("signal_hist") for p in parts]),
        }


SCORE_EDGES = [i / 20 for i in range(21)]  # fixed: histograms of different shards add bin by bin


def _deciles(scores: np.ndarray) -> np.ndarray:
    """Decile 0-9 of each score, -1 where there is none."""
    dec = np.full(len(scores), -1, dtype=np.int64)
    ok = ~np.isnan(scores)
    dec[ok] = np.clip(np.floor(scores[ok] * 10), 0, 9).astype(np.int64)
    return dec


def rule_pass_counts(table: pa.Table, cfg: dict, lang: str) -> dict[str, int]:
    """For the report: of the documents the quality stage judged (live ones, and those it
    dropped itself), how many pass each rule on its own. Uses the signals already in
    the table when the quality stage filled them, computes them otherwise."""
    stage = QualityStage.from_section(cfg, lang)
    rules = stage.settings.rules
    reasons = table.column("drop_reason").to_pylist()
    live = np.array([r is None or r.startswith("quality:") for r in reasons], dtype=bool)
    structs = table.column("quality_signals").to_pylist()
    needed = {r[1] for r in rules if r[1] != "model_score" or stage.scorers}
    # documents without signals, or dropped on the fast path before their words were counted
    todo = [i for i in np.flatnonzero(live) if not structs[i] or any(structs[i].get(k) is None for k in needed)]
    if todo:
        texts = table.column("text").to_pylist()
        for i, sig in zip(todo, stage.signals([texts[i] or "" for i in todo], complete=True)):
            structs[i] = sig
    counts = {name: 0 for name, *_ in rules}
    for i in np.flatnonzero(live):
        for rule in rules:
            if failed_rule(structs[i], [rule]) is None:
                counts[rule[0]] += 1
    return counts
