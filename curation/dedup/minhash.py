"""Vectorized MinHash signatures: word n-gram shingles hashed once to 64 bits, permuted in bulk with numpy.

A shingle is ``ngram`` consecutive words of the normalized text (a text shorter than that is one shingle).
Words are hashed with BLAKE2b (8 bytes, cached per process), n-grams combined with a polynomial and a
splitmix64 finalizer, then permutation ``j`` maps a shingle hash ``h`` to ``a_j * h + b_j mod 2**32`` of the
hash's top 32 bits (``a_j`` odd: a bijection) and the signature keeps the minimum per permutation.
Everything is a pure function of the text, ``ngram``, ``num_perm`` and ``seed``: signatures are the same in
any process, chunking or order.

Example::

    sigs = signatures([normalize_text(t) for t in texts], ngram=5, num_perm=128)  # (len(texts), 128) uint64
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["EMPTY_VALUE", "permutations", "shingle_hashes", "shingles", "signatures"]

EMPTY_VALUE = np.uint32(2**32 - 1)  # every slot of an empty text's signature
_POLY = np.uint64(0x100000001B3)  # FNV-1a 64-bit prime, as the n-gram polynomial base
_BLOCK = 16384  # shingles permuted at a time: (128, 16384) uint32 = 8 MiB


class _WordIds(dict):
    """str -> a process-local id into ``_word_table``, which holds the word's 64-bit BLAKE2b (the id never
    leaves the process, so results do not depend on the order words were first seen)."""

    def __init__(self):
        super().__init__()
        self.table = np.empty(1 << 16, dtype=np.uint64)

    def __missing__(self, word: str) -> int:
        index = len(self)
        if index == len(self.table):
            self.table = np.concatenate((self.table, np.empty_like(self.table)))
        self.table[index] = int.from_bytes(
            hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little"
        )
        self[word] = index
        return index


_WORD_IDS = _WordIds()


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
    lookup = _WORD_IDS.__getitem__
    all_words: list[int] = []
    lengths = np.empty(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        tokens = text.split()
        lengths[i] = len(tokens)
        all_words.extend(map(lookup, tokens))
    words = _WORD_IDS.table[np.array(all_words, dtype=np.int64)]
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


def signatures(texts: list[str], ngram: int = 5, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """The ``(len(texts), num_perm)`` uint32 MinHash signatures of normalized texts (an empty text's is all
    ``EMPTY_VALUE``)."""
    hashes, counts = shingle_hashes(texts, ngram)
    keys = (hashes >> np.uint64(32)).astype(np.uint32)  # the top 32 bits of the mixed shingle hash
    a, b = permutations(num_perm, seed)
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
