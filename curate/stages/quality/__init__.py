"""quality: Gopher / C4 / FineWeb / Polyglot-Ko style signals on real words, per-language
thresholds, a drop reason for the first failing rule and a score that ranks the rest.

Words are real words: kiwipiepy morphemes for Korean, fugashi + unidic-lite for
Japanese, whitespace words for spaced languages (curate.stages.segment). Signals defined by
their source on space-separated units (Polyglot-Ko's mean word length, Gopher's
n-gram repetition in Korean) are computed on eojeol, as the source defines them.

Thresholds: pipelines/recipes/quality/<lang>.yaml, merged with the recipe's `quality:`
section. A key ``min_<signal>`` / ``max_<signal>`` is a rule named by that key (drop
reason ``quality:min_hangul_ratio``); rules are checked in file order, surface rules
before rules on word signals (see ordered_rules), and the first failure is the reason.
A null value switches a rule off. Signals are computed cheapest first: documents that
fail a surface rule are not segmented (their word signals stay null) unless the section
says ``analyze_dropped: true``, those that fail a word rule get no word-order gain, and
a long document's morpheme signals are measured on a sample of its sentences where that
sample passes the word rules clearly (``morph_sample_chars``, morph_sample.py).
"""
