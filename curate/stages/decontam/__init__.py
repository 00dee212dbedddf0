"""Benchmark decontamination: find evaluation text inside corpus documents.

Benchmark files (JSONL or Parquet) are cut into n-grams of *units*: normalized
characters for Korean/Japanese/Chinese (no reliable word boundaries, and Korean
spacing varies freely), words elsewhere. Each n-gram is a 64-bit hash kept in a
sorted numpy array per benchmark (or a Bloom filter for very large sets). A corpus
document is flagged for a benchmark when its matching n-grams cover a run of at
least ``min_match`` units (gaps of up to ``max_gap`` units bridged); it is then
dropped, or the run is cut out with a margin. Defaults and their reasons live in
pipelines/recipes/decontam/defaults.yaml.

Normalization makes spacing, punctuation and width variants match: invisible
format characters (zero-width space, soft hyphen, ...) removed and HTML character
references (&quot; &#39; &amp;quot;) decoded, NFC, then per code point NFKC +
casefold, keeping only letters, marks and digits (spaces, punctuation, symbols and
controls vanish), with half-width kana voicing marks re-composed. Every normalized
unit remembers its span in the original text, so a cut removes the right characters.

Hashing is vectorized over a whole batch: the batch's texts are joined into one
code point array, and all n-gram windows are hashed at once with a polynomial
hash built by doubling (h[2k] = h[k] * B^k + h[k] shifted by k), mod 2^64.
"""
