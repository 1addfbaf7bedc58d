"""Hashed character n-gram counts computed with numpy over a whole batch at once (字符 n-gram 哈希).

The result is exactly what scikit-learn's `HashingVectorizer(analyzer="char", alternate_sign=False, norm=None,
lowercase=False)` gives (same MurmurHash3 of each n-gram's UTF-8 bytes, same columns, same counts, canonical sorted
CSR), so the shipped model needs no retraining; scikit-learn builds one Python string per n-gram, this builds none:
the batch becomes one array of code points, each n-gram's UTF-8 bytes become n zero-padded 32-bit words and all
n-grams are hashed together. Small inputs, and texts that cannot be encoded as UTF-8 (lone surrogates), go to
scikit-learn.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp

_WHITE_SPACES = re.compile(r"\s\s+")  # scikit-learn's _char_ngrams collapses runs of whitespace first
_C1, _C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)
_M5, _N1 = np.uint32(5), np.uint32(0xE6546B64)
_F1, _F2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)
MAX_NGRAMS = 1 << 20  # n-grams hashed in one go (bounds the temporary arrays)
# Below this many characters in all (one message, a few short ones) scikit-learn's own loop is quicker than the
# fixed cost of the array operations, so it is used as is.
SMALL = 2_000


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def murmur3_32(blocks: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """MurmurHash3 x86 32-bit, seed 0, signed, of short byte strings (all hashed at once).

    `blocks` is (n, k) little-endian uint32 words of the bytes zero-padded to 4k, `lengths` the byte counts.
    """
    h = np.zeros(len(lengths), dtype=np.uint32)
    full = lengths // 4
    with np.errstate(over="ignore"):
        for b in range(blocks.shape[1]):
            k = blocks[:, b] * _C1
            k = _rotl(k, 15) * _C2
            mixed = _rotl(h ^ k, 13) * _M5 + _N1
            # a full block mixes h; the (zero-padded) tail block is only xor-ed in; zero words beyond do nothing
            h = np.where(full > b, mixed, np.where(full == b, h ^ k, h))
        h ^= lengths.astype(np.uint32)
        h ^= h >> np.uint32(16)
        h *= _F1
        h ^= h >> np.uint32(13)
        h *= _F2
        h ^= h >> np.uint32(16)
    return h.view(np.int32)


def _utf8(cp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes of each code point as one little-endian integer (first byte lowest), and the byte count."""
    cont = lambda shift: 0x80 | ((cp >> shift) & 0x3F)  # noqa: E731
    n = np.where(cp < 0x80, 1, np.where(cp < 0x800, 2, np.where(cp < 0x10000, 3, 4))).astype(np.int64)
    two = (0xC0 | (cp >> 6)) | (cont(0) << 8)
    three = (0xE0 | (cp >> 12)) | (cont(6) << 8) | (cont(0) << 16)
    four = (0xF0 | (cp >> 18)) | (cont(12) << 8) | (cont(6) << 16) | (cont(0) << 24)
    value = np.where(n == 1, cp, np.where(n == 2, two, np.where(n == 3, three, four)))
    return value.astype(np.uint64), n


def _hash_positions(starts: np.ndarray, n: int, char_bytes: np.ndarray, char_len: np.ndarray) -> np.ndarray:
    """Signed MurmurHash3 of the n-grams of `n` characters starting at `starts`.

    Each character's UTF-8 bytes are one little-endian integer (`char_bytes`); the n-gram's bytes, zero-padded, are
    n 32-bit words, each the OR of the characters' integers shifted to their byte offset.
    """
    words = np.zeros((len(starts), n), dtype=np.uint64)
    bit = np.zeros(len(starts), dtype=np.int64)
    for j in range(n):
        value = char_bytes[starts + j]
        for k in range(n):
            shift = bit - 32 * k  # where this character's first bit falls in word k
            left = (value << np.clip(shift, 0, 31).astype(np.uint64)) & np.uint64(0xFFFFFFFF)
            right = value >> np.clip(-shift, 0, 31).astype(np.uint64)
            words[:, k] |= np.where((shift >= 32) | (shift <= -32), np.uint64(0), np.where(shift >= 0, left, right))
        bit += 8 * char_len[starts + j]
    return murmur3_32(words.astype(np.uint32), bit // 8)


def _columns(h: np.ndarray, n_features: int) -> np.ndarray:
    hs = h.astype(np.int64)
    cols = np.abs(hs) % n_features
    cols[hs == -2 ** 31] = (2147483647 - (n_features - 1)) % n_features  # as scikit-learn defines abs(-2**31)
    return cols


def char_ngram_counts(texts: list[str], n_features: int = 2 ** 20, ngram_range: tuple[int, int] = (1, 3),
                      dtype=np.float32) -> sp.csr_matrix:
    """Counts of hashed character n-grams per text: the CSR matrix `HashingVectorizer.transform` returns.

    Long inputs (training corpora) are done in pieces of about a million characters, so memory stays bounded.
    """
    texts = [_WHITE_SPACES.sub(" ", t) for t in texts]
    if sum(map(len, texts)) < SMALL:
        return _reference(texts, n_features, ngram_range, dtype)
    pieces, size, start = [], 0, 0
    for i, t in enumerate(texts):
        size += len(t)
        if size >= MAX_NGRAMS and i + 1 < len(texts):
            pieces.append(_counts(texts[start:i + 1], n_features, ngram_range, dtype))
            start, size = i + 1, 0
    if not pieces:
        return _counts(texts, n_features, ngram_range, dtype)
    pieces.append(_counts(texts[start:], n_features, ngram_range, dtype))
    return sp.vstack(pieces, format="csr")


def _reference(texts: list[str], n_features: int, ngram_range: tuple[int, int], dtype) -> sp.csr_matrix:
    from sklearn.feature_extraction.text import HashingVectorizer

    return sp.csr_matrix(HashingVectorizer(analyzer="char", ngram_range=tuple(ngram_range), n_features=n_features,
                                           alternate_sign=False, norm=None, lowercase=False,
                                           dtype=dtype).transform(texts))


def _counts(texts: list[str], n_features: int, ngram_range: tuple[int, int], dtype) -> sp.csr_matrix:
    try:
        joined = "".join(texts).encode("utf-32-le")
    except UnicodeEncodeError:
        return _reference(texts, n_features, ngram_range, dtype)
    cp = np.frombuffer(joined, dtype="<u4").astype(np.int64)
    lens = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
    ends = np.cumsum(lens)
    doc = np.repeat(np.arange(len(texts)), lens)
    end_of = ends[doc] if len(doc) else ends[:0]
    char_bytes, char_len = _utf8(cp)
    lo, hi = ngram_range
    row_parts, col_parts = [], []
    for n in range(lo, hi + 1):
        starts = np.flatnonzero(np.arange(len(cp)) + n <= end_of)
        for s in range(0, len(starts), MAX_NGRAMS):
            part = starts[s:s + MAX_NGRAMS]
            col_parts.append(_columns(_hash_positions(part, n, char_bytes, char_len), n_features))
            row_parts.append(doc[part])
    rows = np.concatenate(row_parts) if row_parts else np.zeros(0, dtype=np.int64)
    cols = np.concatenate(col_parts) if col_parts else np.zeros(0, dtype=np.int64)
    keys, counts = _unique_counts(rows, cols, len(texts), n_features)  # sorted by row, then column
    indptr = np.searchsorted(keys, np.arange(len(texts) + 1, dtype=keys.dtype) * n_features).astype(np.int32)
    return sp.csr_matrix((counts.astype(dtype), (keys % n_features).astype(np.int32), indptr),
                         shape=(len(texts), n_features))


def _unique_counts(rows: np.ndarray, cols: np.ndarray, n_rows: int, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct keys row × n_features + column, sorted, and how often each occurs. The keys are 32-bit when
    every key and the end key n_rows × n_features fit (a chunk of 2,048 texts with 2^20 columns does): sorting them
    takes about half as long as 64-bit keys."""
    dtype = np.uint32 if n_rows * n_features < 2 ** 32 else np.int64
    keys = rows.astype(dtype) * dtype(n_features) + cols.astype(dtype)
    keys.sort()
    if not len(keys):
        return keys, np.zeros(0, dtype=np.int64)
    first = np.empty(len(keys), dtype=bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return keys[starts], np.diff(np.append(starts, len(keys)))
