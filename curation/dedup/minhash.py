"""Vectorized MinHash signatures: word n-gram shingles hashed once to 64 bits, permuted in bulk with numpy.

A shingle is ``ngram`` consecutive words of the normalized text (a text shorter than that is one shingle).
Words are hashed in bulk (a polynomial hash of their bytes, mixed), n-grams combined with a polynomial and a
splitmix64 finalizer, then permutation ``j`` maps a shingle hash ``h`` to ``a_j * h + b_j mod 2**32`` of the
hash's top 32 bits (``a_j`` odd: a bijection) and the signature keeps the minimum per permutation.
Everything is a pure function of the text, ``ngram``, ``num_perm`` and ``seed``: signatures are the same in
any process, chunking or order.

Example::

    sigs = signatures([normalize_text(t) for t in texts], ngram=5, num_perm=128)  # (len(texts), 128) uint64
"""

from __future__ import annotations

import numpy as np

__all__ = ["EMPTY_VALUE", "permutations", "shingle_hashes", "shingles", "signatures"]

EMPTY_VALUE = np.uint32(2**32 - 1)  # every slot of an empty text's signature
_POLY = np.uint64(0x100000001B3)  # FNV-1a 64-bit prime, as the n-gram polynomial base
_SEGMENT = 1 << 16  # bytes hashed per prefix sum
_BLOCK = 16384  # shingles permuted at a time: (128, 16384) uint32 = 8 MiB


_BYTE_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd, so invertible modulo 2**64
_BYTE_BASE_INVERSE = np.uint64(pow(int(_BYTE_BASE), -1, 2**64))


def _word_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(hashes, lengths)``: a 64-bit hash of every word of every normalized text, and the word count per text.

    All words of a chunk are hashed at once with numpy: a polynomial hash modulo 2**64 of the UTF-8 bytes,
    ``h(word) = sum b_k B^(k - start)``, read off prefix sums as ``(S[end] - S[start]) * B^-start`` (B odd, so
    its inverse exists). A per-word Python hash call was most of dedup's time.
    """
    sizes = np.fromiter(
        (len(t) if t.isascii() else len(t.encode("utf-8")) for t in texts), dtype=np.int64, count=len(texts)
    )
    data = np.frombuffer(" ".join(texts).encode("utf-8"), dtype=np.uint8)
    letter = data != 32
    edges = np.diff(np.concatenate(([False], letter, [False])).astype(np.int8))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    # Words per text: the word starts before the separator that follows each text.
    lengths = np.diff(np.searchsorted(starts, np.cumsum(sizes + 1) - 1), prepend=0)
    if not len(starts):
        return np.empty(0, dtype=np.uint64), lengths
    # The prefix sums run over segments of ~64 KiB cut at spaces, so the power tables stay small and cached
    # (tables as long as the chunk cost more in page faults than the hashing itself).
    cuts = np.flatnonzero(~letter)
    picked = np.unique(np.searchsorted(cuts, np.arange(_SEGMENT, len(data), _SEGMENT)))
    bounds = np.concatenate(([0], cuts[picked[picked < len(cuts)]], [len(data)]))
    first_word = np.searchsorted(starts, bounds)
    hashes = np.empty(len(starts), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for lo, hi, w0, w1 in zip(bounds[:-1], bounds[1:], first_word[:-1], first_word[1:], strict=True):
            if w0 == w1:
                continue
            powers, inverse = _power_tables(int(hi - lo))
            segment = data[lo:hi].astype(np.uint64)
            prefix = np.concatenate(([np.uint64(0)], np.cumsum(segment * powers, dtype=np.uint64)))
            first, last = starts[w0:w1] - lo, ends[w0:w1] - lo
            hashes[w0:w1] = (prefix[last] - prefix[first]) * inverse[first]
        hashes += (ends - starts).astype(np.uint64)  # lengths apart: "ab" and "ab\0" never collide
    return _mix(hashes), lengths


_POWERS = np.empty(0, dtype=np.uint64)
_INVERSE = np.empty(0, dtype=np.uint64)


def _power_tables(size: int) -> tuple[np.ndarray, np.ndarray]:
    """``B^k`` and ``B^-k`` for k < size (about a segment's length), computed once per process and grown on
    demand."""
    global _POWERS, _INVERSE
    if len(_POWERS) < size:
        grown = max(size, 2 * len(_POWERS))
        with np.errstate(over="ignore"):
            _POWERS = np.cumprod(np.full(grown, _BYTE_BASE, dtype=np.uint64)) * _BYTE_BASE_INVERSE
            _INVERSE = np.cumprod(np.full(grown, _BYTE_BASE_INVERSE, dtype=np.uint64)) * _BYTE_BASE
    return _POWERS[:size], _INVERSE[:size]


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer, in place."""
    with np.errstate(over="ignore"):
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return h


def shingle_hashes(texts: list[str], ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """``(hashes, counts)``: the 64-bit hash of every shingle of every normalized text, concatenated, and how
    many belong to each text (0 for an empty text). Repeated shingles are kept (the minimum ignores them)."""
    if ngram < 1:
        raise ValueError(f"ngram must be >= 1, got {ngram}")
    words, lengths = _word_hashes(texts)
    # A text with 1..ngram-1 words is one shingle of its words: hash it as a full n-gram over its own words.
    counts = np.where(lengths >= ngram, lengths - ngram + 1, np.minimum(lengths, 1))
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.uint64), counts
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    first = np.repeat(starts, counts) + (np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts))
    limit = np.repeat(starts + lengths, counts)  # a short text's n-gram stops at its own end
    h = np.zeros(total, dtype=np.uint64)
    padded = np.concatenate((words, np.zeros(ngram, dtype=np.uint64)))
    with np.errstate(over="ignore"):
        for k in range(ngram):
            position = first + k
            word = np.where(position < limit, padded[np.minimum(position, len(words))], np.uint64(0))
            h *= _POLY
            h += word
    return _mix(h), counts


def shingle_sets(texts: dict[int, str], ngram: int, chunk: int = 2000) -> dict[int, np.ndarray]:
    """Sorted distinct shingle hashes of each (normalized) text, computed ``chunk`` texts at a time so the
    bulk hashing's temporaries stay small however many texts there are."""
    keys = list(texts)
    out: dict[int, np.ndarray] = {}
    for lo in range(0, len(keys), chunk):
        part = keys[lo : lo + chunk]
        hashes, counts = shingle_hashes([texts[k] for k in part], ngram)
        out.update(zip(part, map(np.unique, np.split(hashes, np.cumsum(counts)[:-1])), strict=True))
    return out


def shingles(text: str, ngram: int) -> np.ndarray:
    """The sorted distinct shingle hashes of one normalized text (for exact Jaccard checks)."""
    hashes, _ = shingle_hashes([text], ngram)
    return np.unique(hashes)


def permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` coefficients of the ``num_perm`` permutations: ``a`` odd, both uint32."""
    if num_perm < 1:
        raise ValueError(f"num_perm must be >= 1, got {num_perm}")
    rng = np.random.Generator(np.random.PCG64(seed))
    a = rng.integers(0, 2**32, size=num_perm, dtype=np.uint32) | np.uint32(1)
    b = rng.integers(0, 2**32, size=num_perm, dtype=np.uint32)
    return a, b


def signatures(
    texts: list[str], ngram: int = 5, num_perm: int = 128, seed: int = 1, *, columns: int | None = None
) -> np.ndarray:
    """The ``(len(texts), num_perm)`` uint32 MinHash signatures of normalized texts (an empty text's is all
    ``EMPTY_VALUE``). ``columns`` computes only the first that many permutations (the same values): banded LSH
    uses ``bands * rows``, often fewer than ``num_perm``."""
    hashes, counts = shingle_hashes(texts, ngram)
    keys = (hashes >> np.uint64(32)).astype(np.uint32)  # the top 32 bits of the mixed shingle hash
    a, b = permutations(num_perm, seed)
    if columns is not None:
        if not 1 <= columns <= num_perm:
            raise ValueError(f"columns must be in 1..{num_perm}, got {columns}")
        a, b, num_perm = a[:columns], b[:columns], columns
    out = np.full((num_perm, len(texts)), EMPTY_VALUE, dtype=np.uint32)
    doc_of = np.repeat(np.arange(len(texts)), counts)
    block = np.empty((num_perm, _BLOCK), dtype=np.uint32)
    with np.errstate(over="ignore"):
        for lo in range(0, len(keys), _BLOCK):
            chunk = keys[lo : lo + _BLOCK]
            view = block[:, : len(chunk)]
            # Permutation j: a_j * h + b_j mod 2**32 (a_j odd: a bijection of the 32-bit keys).
            np.multiply(a[:, None], chunk[None, :], out=view)
            view += b[:, None]
            docs = doc_of[lo : lo + _BLOCK]
            cuts = np.flatnonzero(np.concatenate(([True], docs[1:] != docs[:-1])))
            mins = np.minimum.reduceat(view, cuts, axis=1)
            rows = docs[cuts]
            out[:, rows] = np.minimum(out[:, rows], mins)
    return np.ascontiguousarray(out.T)
