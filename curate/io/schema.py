"""The shard schema: one definition shared by every stage, the writer and the report.

Kept and rejected shards share this schema. Adding a column is fine; renaming one
bumps SCHEMA_VERSION, which the manifest records.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 1

# Quality signals computed by curate.stages.quality; every field nullable so a run without
# the quality stage still writes a valid struct (all nulls).
QUALITY_SIGNAL_FIELDS: list[tuple[str, pa.DataType]] = [
    ("n_chars", pa.int64()),
    ("n_words", pa.int64()),
    ("n_lines", pa.int64()),
    ("mean_word_len", pa.float32()),
    ("function_word_ratio", pa.float32()),
    ("lm_score", pa.float32()),
    ("word_order_gain", pa.float32()),
    ("symbol_word_ratio", pa.float32()),
    ("symbol_ratio", pa.float32()),
    ("digit_ratio", pa.float32()),
    ("bullet_line_ratio", pa.float32()),
    ("ellipsis_line_ratio", pa.float32()),
    ("punct_end_line_ratio", pa.float32()),
    ("terminated_char_ratio", pa.float32()),
    ("long_terminated_char_ratio", pa.float32()),
    ("short_line_ratio", pa.float32()),
    ("dup_line_frac", pa.float32()),
    ("dup_line_char_frac", pa.float32()),
    ("dup_para_frac", pa.float32()),
    ("dup_para_char_frac", pa.float32()),
    ("top_2gram_frac", pa.float32()),
    ("top_3gram_frac", pa.float32()),
    ("top_4gram_frac", pa.float32()),
    ("dup_5gram_frac", pa.float32()),
    ("dup_6gram_frac", pa.float32()),
    ("dup_7gram_frac", pa.float32()),
    ("dup_8gram_frac", pa.float32()),
    ("dup_9gram_frac", pa.float32()),
    ("dup_10gram_frac", pa.float32()),
    ("hangul_ratio", pa.float32()),
    ("jamo_ratio", pa.float32()),
    ("chatter_ratio", pa.float32()),
    ("kana_ratio", pa.float32()),
    ("hiragana_ratio", pa.float32()),
    ("kanji_ratio", pa.float32()),
    ("ja_script_ratio", pa.float32()),
    ("latin_ratio", pa.float32()),
    ("latin_mash_ratio", pa.float32()),
    ("mojibake_ratio", pa.float32()),
    ("kana_mash_ratio", pa.float32()),
    ("non_jis_kanji_ratio", pa.float32()),
    ("keyword_rows", pa.int64()),
    ("same_lead_ratio", pa.float32()),
    ("url_density", pa.float32()),
    ("email_density", pa.float32()),
    ("flagged_word_ratio", pa.float32()),
    ("flagged_lines", pa.int64()),
    ("flagged_lead_ratio", pa.float32()),
    ("model_score", pa.float32()),
]
# Scores of curate.stages.perplexity under the project's own language model, in the same
# struct after the quality stage's fields (null where that stage did not run). Shards
# written before they were added lack them; readers take fields by name.
PERPLEXITY_SIGNAL_FIELDS: list[tuple[str, pa.DataType]] = [
    ("perplexity", pa.float32()),
    ("bits_per_char", pa.float32()),
    ("perplexity_tokens", pa.int64()),
]
QUALITY_SIGNALS_TYPE = pa.struct([pa.field(n, t) for n, t in QUALITY_SIGNAL_FIELDS + PERPLEXITY_SIGNAL_FIELDS])

# The identifiers the pii stage masks, each as the token <|kind|>; a shard's pii_counts
# holds these keys, and a tokenizer reserves one special token for each.
PII_KINDS = ("acc", "tel", "rrn", "card", "mynumber", "email", "ip", "passport")


SHARD_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("text", pa.string()),
        pa.field("source", pa.string()),
        pa.field("url", pa.string()),
        pa.field("lang", pa.string()),
        pa.field("lang_score", pa.float32()),
        pa.field("pii_counts", pa.map_(pa.string(), pa.int32())),
        pa.field("quality_score", pa.float32()),
        pa.field("quality_signals", QUALITY_SIGNALS_TYPE),
        pa.field("drop_reason", pa.string()),
        pa.field("dup_cluster", pa.string()),
        pa.field("dup_of", pa.string()),
        # Provenance and dedup keys (added columns, not renamed ones).
        pa.field("origin", pa.string()),  # "path:line" of the input record
        pa.field("text_hash", pa.uint64()),  # hash of the dedup-normalized text
        # Web input (WARC/WET): null for other inputs.
        pa.field("content_type", pa.string()),  # "text/html" while the text is still markup
        pa.field("fetch_date", pa.string()),
        pa.field("http_charset", pa.string()),  # as the server declared it
        pa.field("charset", pa.string()),  # "<codec>/<http|meta|detected|utf-8|bom>" actually used
        # Benchmarks curate.stages.decontam found in the text (null: none found, or not run).
        pa.field(
            "contamination",
            pa.list_(pa.struct([("benchmark", pa.string()), ("matched_chars", pa.int32()), ("ngrams", pa.int32())])),
        ),
    ]
)

COLUMNS = SHARD_SCHEMA.names
# The columns Parquet dictionary-encodes: those of few distinct values. On text, ids and
# hashes the writer builds a dictionary page by page until it outgrows its limit, then
# falls back: time spent for a larger file (staged keys written 3x faster without it).
DICTIONARY_COLUMNS = ["source", "lang", "drop_reason", "content_type", "http_charset", "charset"]
