"""MinHash signatures and shingle hashes equal datasketch's and the scalar reference."""

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.dedup.minhash import band_keys, optimal_bands, signatures
from curate.dedup.shingles import hash32, shingle_hashes, shingle_strings

TEXTS = [
    "세계에서 가장 강력한 수퍼컴퓨터를 1년 동안이나 독점해 오던 정부의 연구학자들이 설비를 공개했다.",
    "梅雨（つゆ、ばいう）は、北海道と小笠原諸島を除く日本、朝鮮半島南部の雨季である。",
    "The quick brown fox jumps over the lazy dog, again and again.",
    "",
    "굿",
    "!!! ... ???",
    "ＡＢＣ　ｄｅｆ 𠮷野家 😀 ok",
]
CHOICES = [("char", 4), ("char", 5), ("word", 3), ("word", 1)]


@pytest.mark.parametrize("kind,n", CHOICES)
def test_batch_shingle_hashes_equal_scalar_reference(kind, n):
    hashes, offsets = shingle_hashes(TEXTS, kind, n)
    assert len(offsets) == len(TEXTS) + 1
    for i, text in enumerate(TEXTS):
        expected = [hash32(s, kind) for s in shingle_strings(text, kind, n)]
        assert hashes[offsets[i] : offsets[i + 1]].tolist() == expected


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from("가나다라 마바、。,.abc 東京都z1 "), max_size=40), min_size=1, max_size=6
    ),
    st.sampled_from(CHOICES),
)
def test_batch_equals_reference_on_random_text(texts, choice):
    kind, n = choice
    hashes, offsets = shingle_hashes(texts, kind, n)
    for i, text in enumerate(texts):
        assert hashes[offsets[i] : offsets[i + 1]].tolist() == [hash32(s, kind) for s in shingle_strings(text, kind, n)]


def test_spacing_and_punctuation_do_not_change_char_shingles():
    a = "조사할 수 있는 사항을 확인하기 위해, 경찰 파일의 면밀한 조사를 기대한다."
    b = "조사할수있는 사항을확인하기 위해 경찰파일의 면밀한 조사를 기대한다!!"
    assert shingle_strings(a, "char", 4) == shingle_strings(b, "char", 4)


@pytest.mark.parametrize("scheme", ["affine32", "legacy"])
@pytest.mark.parametrize("num_perm,seed", [(128, 1), (37, 42)])
def test_signature_equals_datasketch_default_sha1(scheme, num_perm, seed):
    hashes, offsets = shingle_hashes(TEXTS, "char", 4, hash="sha1")
    sigs = signatures(hashes, offsets, num_perm, seed, scheme)
    for i, text in enumerate(TEXTS):
        m = MinHash(num_perm=num_perm, seed=seed, scheme=scheme)
        for s in shingle_strings(text, "char", 4):
            m.update(s.encode("utf-8"))
        assert sigs[i].tolist() == m.hashvalues.astype(np.uint64).tolist()


@pytest.mark.parametrize("scheme", ["affine32", "legacy"])
@pytest.mark.parametrize("kind,n", CHOICES)
def test_signature_equals_datasketch_with_our_hash(scheme, kind, n):
    hashes, offsets = shingle_hashes(TEXTS, kind, n)
    sigs = signatures(hashes, offsets, 64, 7, scheme)
    for i, text in enumerate(TEXTS):
        m = MinHash(num_perm=64, seed=7, scheme=scheme, hashfunc=lambda s: hash32(s, kind))
        m.update_batch(shingle_strings(text, kind, n))
        assert sigs[i].tolist() == m.hashvalues.astype(np.uint64).tolist()


def test_signatures_span_many_chunks():
    rng = np.random.default_rng(0)
    lens = rng.integers(0, 3000, 400)
    offsets = np.r_[0, np.cumsum(lens)]
    hashes = rng.integers(0, 2**32, offsets[-1], dtype=np.uint64).astype(np.uint32)
    sigs = signatures(hashes, offsets, 16, 3)
    for i in [0, 1, 57, 399]:
        m = MinHash(num_perm=16, seed=3, hashfunc=int)
        m.update_batch(hashes[offsets[i] : offsets[i + 1]].tolist())
        assert sigs[i].tolist() == m.hashvalues.tolist()


@pytest.mark.parametrize("scheme", ["affine32", "legacy"])
def test_documents_cut_across_chunks_equal_datasketch(monkeypatch, scheme):
    """Chunks are cut at any shingle: a document spread over several chunks (and the
    empty documents between them) get the signature datasketch gives the whole."""
    import curate.dedup.minhash as minhash

    monkeypatch.setattr(minhash, "_CHUNK_CELLS", 16 * 37)  # 37 shingles a chunk
    lens = np.array([0, 5, 100, 0, 0, 36, 37, 38, 1, 0, 74, 3])
    offsets = np.r_[0, np.cumsum(lens)]
    hashes = np.random.default_rng(2).integers(0, 2**32, offsets[-1], dtype=np.uint64).astype(np.uint32)
    sigs = signatures(hashes, offsets, 16, 5, scheme)
    for i in range(len(lens)):
        m = MinHash(num_perm=16, seed=5, scheme=scheme, hashfunc=int)
        m.update_batch(hashes[offsets[i] : offsets[i + 1]].tolist())
        assert sigs[i].tolist() == m.hashvalues.astype(np.uint64).tolist(), i


@pytest.mark.parametrize("scheme", ["affine32", "legacy"])
def test_range_signatures_equal_datasketch(monkeypatch, scheme):
    """The signatures of ranges of the shingles (a page's body: inside one document,
    up to its ends, beside empty documents) equal datasketch's of those shingles, and the
    documents' signatures are those without ranges."""
    import curate.dedup.minhash as minhash

    monkeypatch.setattr(minhash, "_CHUNK_CELLS", 16 * 37)  # legacy: ranges cut across chunks too
    lens = np.array([0, 5, 100, 0, 36, 37, 1, 74, 3])
    offsets = np.r_[0, np.cumsum(lens)]
    first = np.array([offsets[1], offsets[2] + 10, offsets[4], offsets[5] + 36, offsets[7] + 1])
    end = np.array([offsets[2], offsets[2] + 90, offsets[4] + 2, offsets[6], offsets[8] - 1])
    hashes = np.random.default_rng(4).integers(0, 2**32, offsets[-1], dtype=np.uint64).astype(np.uint32)
    sigs, range_sigs = signatures(hashes, offsets, 16, 5, scheme, (first, end))
    assert np.array_equal(sigs, signatures(hashes, offsets, 16, 5, scheme))
    for k, (lo, hi) in enumerate(zip(first, end)):
        m = MinHash(num_perm=16, seed=5, scheme=scheme, hashfunc=int)
        m.update_batch(hashes[lo:hi].tolist())
        assert range_sigs[k].tolist() == m.hashvalues.astype(np.uint64).tolist(), k


@pytest.mark.parametrize("threshold,num_perm", [(0.5, 128), (0.8, 64)])
def test_bands_equal_datasketch_lsh(threshold, num_perm):
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    assert optimal_bands(threshold, num_perm) == (lsh.b, lsh.r)


@pytest.mark.parametrize("num_perm", [64, 128, 256])
def test_bands_equal_datasketch_search_over_thresholds_and_weights(num_perm):
    from datasketch.lsh import _optimal_param

    for threshold in np.arange(0.3, 0.91, 0.05):
        for weights in [(0.5, 0.5), (0.3, 0.7)]:
            t = float(round(threshold, 2))
            assert optimal_bands(t, num_perm, *weights) == _optimal_param(t, num_perm, *weights), (t, weights)


def test_band_keys_equal_exactly_when_band_equal():
    rng = np.random.default_rng(1)
    sigs = rng.integers(0, 2**32, (3, 12), dtype=np.uint64).astype(np.uint32)
    sigs[1, 4:8] = sigs[0, 4:8]  # band 1 of 3 x 4 shared
    keys = band_keys(sigs, 3, 4)
    assert (keys[0] == keys[1]).tolist() == [False, True, False]
    assert not np.isin(keys[2], keys[:2]).any()
    # same values in different bands give different keys
    same = np.tile(sigs[2, :4], 3)[None, :]
    k = band_keys(same, 3, 4)[0]
    assert len(set(k.tolist())) == 3


def test_distinct_is_np_unique():
    from curate.dedup.arrays import distinct

    rng = np.random.default_rng(3)
    for values in [rng.integers(0, 50, 1000), rng.integers(0, 2**63, 500, dtype=np.uint64), np.empty(0, np.int64)]:
        assert np.array_equal(distinct(values), np.unique(values))
        assert np.array_equal(distinct(np.sort(values), presorted=True), np.unique(values))
