"""Banded LSH over a batch of MinHash signatures: candidate pairs from equal bands, found by sorting.

The bands/rows split is chosen for recall just above the threshold (see ``band_params``), since every candidate
is checked by exact Jaccard afterwards. For an incremental or Redis-backed index, the same
signatures go into ``datasketch.MinHashLSH`` as ``LeanMinHash(seed, hashvalues)``.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["band_params", "candidate_pairs"]

MAX_RUN_ALL_PAIRS = (
    64  # a bucket bigger than this yields a star (first member with each other), not all pairs
)


def _integral(f, lo: float, hi: float, steps: int = 200) -> float:
    x = np.linspace(lo, hi, steps + 1)
    y = f(x)
    return float(((y[1:] + y[:-1]) * 0.5 * np.diff(x)).sum())


# Pairs this far above the threshold must become candidates with at least this probability.
RECALL_MARGIN = 0.05
RECALL_TARGET = 0.995


@functools.lru_cache(maxsize=32)
def band_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """``(bands, rows)`` for ``threshold``: the fewest false-positive candidates among the splits that make a pair
    at ``threshold + 0.05`` (less near 1) a candidate with probability >= 0.995.

    Every candidate is checked by exact Jaccard afterwards, so a false positive costs one comparison while a
    false negative is a duplicate left in the data: recall is the constraint, precision the objective. When no
    split reaches the recall target (very few permutations), the one with the best recall there is used.
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    # Near 1 the margin shrinks, or every split would trivially reach the target at J = 1.
    above = threshold + min(RECALL_MARGIN, (1.0 - threshold) / 2)
    best, best_fp = None, float("inf")
    fallback, fallback_recall = (1, num_perm), -1.0
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            recall = 1 - (1 - above**rows) ** bands
            if recall > fallback_recall:
                fallback, fallback_recall = (bands, rows), recall
            if recall < RECALL_TARGET:
                continue
            fp = _integral(lambda s, b=bands, r=rows: 1 - (1 - s**r) ** b, 0.0, threshold)
            if fp < best_fp:
                best, best_fp = (bands, rows), fp
    return best or fallback


def candidate_pairs(signatures: np.ndarray, bands: int, rows: int) -> set[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, of signature rows that agree on every value of at least one band."""
    n = len(signatures)
    pairs: set[tuple[int, int]] = set()
    if n < 2:
        return pairs
    order_ids = np.arange(n)
    for band in range(bands):
        part = np.ascontiguousarray(signatures[:, band * rows : (band + 1) * rows])
        keys = part.view(np.dtype((np.void, part.dtype.itemsize * rows))).ravel()
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        same = sorted_keys[1:] == sorted_keys[:-1]
        if not same.any():
            continue
        starts = np.flatnonzero(np.concatenate(([True], ~same)))
        ends = np.concatenate((starts[1:], [n]))
        for lo, hi in zip(starts[ends - starts > 1], ends[ends - starts > 1], strict=True):
            members = sorted(order_ids[order[lo:hi]].tolist())
            if len(members) <= MAX_RUN_ALL_PAIRS:
                pairs.update((a, b) for k, a in enumerate(members) for b in members[k + 1 :])
            else:
                pairs.update((members[0], b) for b in members[1:])
    return pairs
