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


def _rss_run(docs: int, threshold: float) -> tuple[float, float, float]:
    """(peak RSS MiB of the corpus alone, peak RSS MiB after dedup, seconds) in a fresh process."""
    import json
    import subprocess
    import sys

    code = f"""
import json, resource, sys, time
sys.path.insert(0, {str(__import__("pathlib").Path(__file__).resolve().parents[1])!r})
from benchmarks.dedup_bench import corpus
from curation.dedup import deduplicate
texts, _ = corpus({docs}, {max(docs // 10, 1)}, 0)
records = [{{"id": str(i), "statement": t}} for i, t in enumerate(texts)]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
start = time.perf_counter()
deduplicate(records, threshold={threshold}, workers=2)
print(json.dumps([before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, time.perf_counter() - start]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return tuple(json.loads(out.stdout.strip().splitlines()[-1]))


def memory(sizes: list[int], threshold: float) -> None:
    """Peak RSS at each size; the dedup's own memory (peak minus the corpus) extrapolated linearly to 1M."""
    rows = []
    for docs in sizes:
        corpus_mb, peak_mb, seconds = _rss_run(docs, threshold)
        rows.append((docs, corpus_mb, peak_mb, seconds))
        print(f"{docs:>8} docs: corpus in memory {corpus_mb:7.0f} MiB, peak {peak_mb:7.0f} MiB "
              f"(dedup adds {peak_mb - corpus_mb:6.0f} MiB), {seconds:6.1f} s, {docs / seconds:8.0f} docs/s")  # fmt: skip
    if len(rows) >= 2:
        (d0, c0, p0, _), (d1, c1, p1, _) = rows[0], rows[-1]
        per_doc = ((p1 - c1) - (p0 - c0)) / (d1 - d0)
        corpus_per_doc = (c1 - c0) / (d1 - d0)
        million = p1 + (per_doc + corpus_per_doc) * (1_000_000 - d1)
        print(
            f"extrapolated to 1M docs: peak ~{million:.0f} MiB ({per_doc * 1024:.2f} KiB/doc for dedup state, "
            f"{corpus_per_doc * 1024:.2f} KiB/doc for the corpus itself)"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory", default="", help="e.g. 20000,200000: peak RSS of ours alone at each size, "
                        "each in a fresh process, and the extrapolation to 1M documents")  # fmt: skip
    args = parser.parse_args()
    if args.memory:
        memory(sorted(int(x) for x in args.memory.split(",")), args.threshold)
        return
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
