"""Dedup benchmark: ours vs stock datasketch (MinHash.update_batch + MinHashLSH), same shingles and threshold.

A seeded corpus of physics-problem-like documents (150-400 words) with planted near-duplicate pairs at known
shingle Jaccard similarities. Reports docs/s end to end (shingling included), recall on planted pairs with
J >= 0.85, and removals whose true Jaccard to the kept record is < 0.7.

    python benchmarks/dedup_bench.py --docs 20000
"""

from __future__ import annotations

import argparse
import random
import time

from curation.dedup import deduplicate, jaccard
from curation.dedup.minhash import shingles
from curation.dedup.normalize import normalize_text

TERMS = (
    "amplitude propagator vertex loop scalar fermion gauge boson coupling renormalization cross section decay "
    "width mass momentum energy spin helicity polarization lagrangian field operator vacuum expectation value "
    "compute derive show find evaluate the a of in for with and at to leading order tree level one loop "
    "dimensional regularization counterterm beta function anomalous dimension feynman diagram spinor trace"
).split()


def corpus(docs: int, pairs: int, seed: int) -> tuple[list[str], list[tuple[int, int, float]]]:
    rng = random.Random(seed)
    vocab = TERMS + [f"x{i}" for i in range(20000)] + [f"$p_{i}$" for i in range(200)]
    weights = [50.0] * len(TERMS) + [1.0] * 20200
    texts = [" ".join(rng.choices(vocab, weights, k=rng.randint(150, 400))) for _ in range(docs - pairs)]
    planted = []
    for k in range(pairs):
        base = rng.randrange(len(texts))
        words = texts[base].split()
        for _ in range(rng.choice((1, 1, 2, 3, 5, 8, 12, 20, 30))):  # edits: J from ~0.98 down to ~0.3
            words[rng.randrange(len(words))] = f"edit{k}_{rng.randrange(10**6)}"
        texts.append(" ".join(words))
        planted.append((base, len(texts) - 1))
    truth = [
        (a, b, jaccard(shingles(normalize_text(texts[a]), 5), shingles(normalize_text(texts[b]), 5)))
        for a, b in planted
    ]
    return texts, truth


def stock(texts: list[str], threshold: float, num_perm: int) -> set[tuple[int, int]]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    found = set()
    for i, text in enumerate(texts):
        words = normalize_text(text).split()
        grams = [" ".join(words[j : j + 5]).encode() for j in range(max(len(words) - 4, 1))]
        m = MinHash(num_perm=num_perm)
        m.update_batch(grams)
        for j in lsh.query(m):
            found.add((j, i))
        lsh.insert(i, m)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    texts, truth = corpus(args.docs, args.pairs, args.seed)
    records = [{"id": str(i), "statement": t} for i, t in enumerate(texts)]
    start = time.perf_counter()
    result = deduplicate(records, threshold=args.threshold, workers=2)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    stock_pairs = stock(texts, args.threshold, 128)
    theirs = time.perf_counter() - start
    # A planted pair is found when both documents end in the same cluster (one kept record): a variant may be
    # removed as a duplicate of a sibling variant of the same base, which is just as right.
    parent = {r.index: r.duplicate_of_index for r in result.removed}

    def root(i: int) -> int:
        while i in parent:
            i = parent[i]
        return i

    high = [(a, b) for a, b, j in truth if j >= 0.85]
    recall = sum(root(a) == root(b) for a, b in high) / max(len(high), 1)
    stock_recall = sum((a, b) in stock_pairs for a, b in high) / max(len(high), 1)
    false = sum(
        jaccard(
            shingles(normalize_text(texts[r.duplicate_of_index]), 5),
            shingles(normalize_text(texts[r.index]), 5),
        )
        < 0.7
        for r in result.removed
    )
    print(f"docs {len(texts)}, planted pairs {len(truth)} ({len(high)} with J >= 0.85)")
    print(
        f"ours      {ours:6.2f}s  {len(texts) / ours:8.0f} docs/s  recall {recall:.4f}  removed {len(result.removed)}"
    )
    print(
        f"datasketch {theirs:5.2f}s  {len(texts) / theirs:8.0f} docs/s  candidate recall {stock_recall:.4f}"
    )
    print(f"speedup {theirs / ours:.1f}x  false removals (J < 0.7): {false}")


if __name__ == "__main__":
    main()
