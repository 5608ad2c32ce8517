"""Deduplication: exact duplicates after normalization, near duplicates by MinHash LSH checked by exact Jaccard.

Every removed record is a duplicate of a *kept* one, with similarity >= ``threshold`` (1.0 for exact ones),
and which record of a group is kept follows the keep policy (``keep_priority``): human-adapted over synthetic,
verified over unverified, higher QC score, then first seen. Deterministic: the same input and options give the
same result, whatever the number of workers.

Example::

    result = deduplicate(read_records("problems.jsonl", Problem), field="statement", threshold=0.8)
    write_jsonl("kept.jsonl", result.kept)
    print(result.report["counts"])  # {'input': 1200, 'kept': 1105, 'removed_exact': 60, 'removed_near': 35}
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from curation.dedup.lsh import band_params, candidate_pairs
from curation.dedup.minhash import shingle_sets as shingle_sets_of
from curation.dedup.minhash import signatures
from curation.dedup.normalize import normalize_text

__all__ = [
    "DedupResult",
    "MissingFieldError",
    "Removal",
    "deduplicate",
    "deduplicate_within",
    "field_text",
    "jaccard",
    "keep_priority",
    "near_duplicate_pairs",
    "normalize_text",
]

# Texts per signature chunk (one task for a worker); at 1000 the bulk-hashing temporaries stay in cache.
DEFAULT_CHUNK_SIZE = 1000
PARALLEL_MIN_RECORDS = 4000  # below this, worker start-up costs more than it saves
EXAMPLES_IN_REPORT = 5


class MissingFieldError(ValueError):
    """A record without a usable text in the dedup field; ``index`` is 0-based in the input."""

    def __init__(self, index: int, field_name: str, message: str = "is missing or not a non-empty string"):
        self.index = index
        self.field = field_name
        self.message = message
        super().__init__(f"record {index + 1}, field {field_name}: {message}")


@dataclass(frozen=True)
class Removal:
    """A removed record and the kept record it duplicates."""

    index: int
    record: Any
    duplicate_of: str
    duplicate_of_index: int
    similarity: float
    reason: str  # "exact", "near", or "near-shared" (near a record another worker put in the shared index)

    def to_dict(self) -> dict[str, Any]:
        """The record's JSON form plus ``duplicate_of``, ``similarity`` and ``dedup_reason``."""
        data = self.record.to_dict() if hasattr(self.record, "to_dict") else dict(self.record)
        data.update(duplicate_of=self.duplicate_of, similarity=self.similarity, dedup_reason=self.reason)
        return data


@dataclass
class DedupResult:
    """Kept records (input order), removals (input order) and the report (counts, clusters, examples)."""

    kept: list[Any] = field(default_factory=list)
    removed: list[Removal] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)


def field_text(record: Any, field_name: str) -> str | None:
    """The text of ``field_name`` in a record (attribute, ``extra`` key, or dict key); None when absent."""
    if isinstance(record, dict):
        value = record.get(field_name)
    else:
        value = getattr(record, field_name, None)
        if value is None:
            value = getattr(record, "extra", {}).get(field_name)
    return value if isinstance(value, str) else None


def record_key(record: Any, index: int) -> str:
    """The id a removal points to: the record's ``id``, else ``#<1-based position>``."""
    value = record.get("id") if isinstance(record, dict) else getattr(record, "id", None)
    return value if isinstance(value, str) and value else f"#{index + 1}"


def _get(record: Any, name: str) -> Any:
    return record.get(name) if isinstance(record, dict) else getattr(record, name, None)


def _is_verified(record: Any) -> bool:
    verification = _get(record, "verification")  # a Trace: its Result
    if verification is not None:
        return _get(verification, "status") == "correct"
    solver = _get(record, "solver")  # a Problem: {"verified": true} or a positive pass rate
    if not isinstance(solver, dict):
        return False
    if solver.get("verified") is True:
        return True
    rate = solver.get("pass_rate", solver.get("pass@k"))
    return isinstance(rate, int | float) and not isinstance(rate, bool) and rate > 0


def _qc_score(record: Any) -> float:
    """Mean of the QC scores (``{"model": 4.5}`` or ``{"model": {"score": 4.5}}``); 0 without any."""
    qc = _get(record, "qc")
    if not isinstance(qc, dict):
        return 0.0
    scores = []
    for value in qc.values():
        if isinstance(value, dict):
            value = value.get("score")
        if isinstance(value, int | float) and not isinstance(value, bool):
            scores.append(float(value))
    return sum(scores) / len(scores) if scores else 0.0


def keep_priority(record: Any, index: int) -> tuple:
    """Sort key of the keep policy (smaller is kept first): adapted, verified, higher QC, first seen."""
    source = _get(record, "source")
    kind = _get(source, "kind") if source is not None else None
    return (0 if kind == "adapted" else 1, 0 if _is_verified(record) else 1, -_qc_score(record), index)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted arrays of distinct shingle hashes."""
    if len(a) == 0 and len(b) == 0:
        return 1.0
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (len(a) + len(b) - common)


_FORKED_TEXTS: list[str] | None = None  # the texts, seen by forked workers in the parent's memory


def _range_work(task: tuple[int, int, int, int, int, int]) -> tuple[list[bytes], list[bool], np.ndarray]:
    """``_chunk_work`` on ``_FORKED_TEXTS[lo:hi]`` (in a forked worker)."""
    lo, hi, *options = task
    assert _FORKED_TEXTS is not None
    return _chunk_work(_FORKED_TEXTS[lo:hi], *options)


def _chunk_work(
    texts: list[str], ngram: int, num_perm: int, seed: int, columns: int
) -> tuple[list[bytes], list[bool], np.ndarray]:
    """Normalize a chunk of texts: their exact-match digests, emptiness and MinHash signatures (the first
    ``columns`` permutations)."""
    normalized = [normalize_text(text) for text in texts]
    digests = [hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest() for text in normalized]
    return (
        digests,
        [not text for text in normalized],
        signatures(normalized, ngram, num_perm, seed, columns=columns),
    )


def _similarities(texts: list[str], pairs: list[tuple[int, int]], ngram: int) -> list[float]:
    """Exact shingle Jaccard of each pair of texts (indices into ``texts``), shingle sets hashed in one batch."""
    needed = sorted({k for pair in pairs for k in pair})
    sets = shingle_sets_of({k: normalize_text(texts[k]) for k in needed}, ngram)
    return [jaccard(sets[a], sets[b]) for a, b in pairs]


def _forked_similarities(task: tuple[list[tuple[int, int]], int]) -> list[float]:
    """``_similarities`` over ``_FORKED_TEXTS`` (in a forked worker)."""
    assert _FORKED_TEXTS is not None
    return _similarities(_FORKED_TEXTS, *task)


def deduplicate(
    records: Iterable[Any],
    field: str = "statement",
    threshold: float = 0.8,
    ngram: int = 5,
    num_perm: int = 128,
    *,
    seed: int = 1,
    workers: int | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    lsh_storage: str | None = None,
    lsh_basename: str = "vqft-dedup",
) -> DedupResult:
    """Remove exact and near duplicates of ``field``; ``workers=None`` uses up to 2 processes on big inputs.

    A pair is a near duplicate when the exact Jaccard similarity of the word ``ngram`` shingle sets of the
    normalized texts is >= ``threshold``; MinHash LSH only proposes the candidate pairs.

    ``lsh_storage="redis://host:port/db"`` keeps the LSH index in Redis under ``lsh_basename``, shared by every
    worker that uses the same name: a record near one another worker already indexed is removed as its duplicate
    (judged by the MinHash estimate, since its text is elsewhere). Records need ids then.
    """
    global _FORKED_TEXTS
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    if ngram < 1 or num_perm < 1 or chunk_size < 1:
        raise ValueError("ngram, num_perm and chunk_size must be >= 1")
    items: list[Any] = []
    texts: list[str] = []
    for index, record in enumerate(records):
        text = field_text(record, field)
        if text is None:
            raise MissingFieldError(index, field)
        items.append(record)
        texts.append(text)
    n = len(items)
    bands, rows = band_params(threshold, num_perm)
    # The local index reads only bands * rows permutations; a shared index stores whole signatures.
    columns = bands * rows if lsh_storage is None else num_perm
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if n >= PARALLEL_MIN_RECORDS else 1
    ranges = [(lo, min(lo + chunk_size, n), ngram, num_perm, seed, columns) for lo in range(0, n, chunk_size)]
    pool = None
    try:
        if workers > 1 and len(ranges) > 1:
            # Forked workers see the texts in the parent's memory: tasks carry index ranges, not pickled text.
            _FORKED_TEXTS = texts
            pool = multiprocessing.get_context("fork").Pool(workers)
        if pool is not None:
            parts = pool.map(_range_work, ranges, chunksize=1)
        else:
            parts = [_chunk_work(texts[lo:hi], *options) for lo, hi, *options in ranges]
        digests = [d for part in parts for d in part[0]]
        empty = [e for part in parts for e in part[1]]
        sigs = np.concatenate([part[2] for part in parts]) if parts else np.empty((0, columns), np.uint32)
        del parts

        # Exact groups: identical normalized text. One representative per group goes to LSH.
        group_of = np.empty(n, dtype=np.int64)
        first_of_digest: dict[bytes, int] = {}
        representatives: list[int] = []
        for index, digest in enumerate(digests):
            group = first_of_digest.setdefault(digest, len(representatives))
            if group == len(representatives):
                representatives.append(index)
            group_of[index] = group
        searchable = [g for g, rep in enumerate(representatives) if not empty[rep]]
        external: dict[int, tuple[str, float]] = {}
        if lsh_storage is None:
            pairs = candidate_pairs(sigs[[representatives[g] for g in searchable]], bands, rows)
        else:
            pairs = _shared_pairs(
                items, representatives, searchable, sigs, external, lsh_storage, lsh_basename,
                threshold=threshold, num_perm=num_perm, bands=bands, rows=rows, seed=seed,
            )  # fmt: skip
        group_pairs = [(searchable[i], searchable[j]) for i, j in sorted(pairs)]
        text_pairs = [(representatives[gi], representatives[gj]) for gi, gj in group_pairs]
        if pool is not None and len(text_pairs) > 1:
            # Exact Jaccard of the candidates in the workers too: one contiguous slice of pairs per worker.
            step = -(-len(text_pairs) // workers)
            slices = [(text_pairs[lo : lo + step], ngram) for lo in range(0, len(text_pairs), step)]
            similarities = [s for part in pool.map(_forked_similarities, slices, chunksize=1) for s in part]
        else:
            similarities = _similarities(texts, text_pairs, ngram)
    finally:
        _FORKED_TEXTS = None
        if pool is not None:
            pool.terminate()

    neighbours: dict[int, list[tuple[int, float]]] = {}
    for (gi, gj), similarity in zip(group_pairs, similarities, strict=True):
        if similarity >= threshold:
            neighbours.setdefault(gi, []).append((gj, similarity))
            neighbours.setdefault(gj, []).append((gi, similarity))

    # Greedy by the keep policy: a record goes only as a duplicate of an already kept one.
    kept_in_group: dict[int, int] = {}
    removals: dict[int, Removal] = {}
    for index in sorted(range(n), key=lambda k: keep_priority(items[k], k)):
        group = int(group_of[index])
        if group in external and group not in kept_in_group:
            key, similarity = external[group]
            removals[index] = Removal(index, items[index], key, -1, round(similarity, 6), "near-shared")
            continue
        if group in kept_in_group:
            target, similarity, reason = kept_in_group[group], 1.0, "exact"
        else:
            best = max(
                ((s, -kept_in_group[g]) for g, s in neighbours.get(group, ()) if g in kept_in_group),
                default=None,
            )
            if best is None:
                kept_in_group[group] = index
                continue
            similarity, target, reason = best[0], -best[1], "near"
        removals[index] = Removal(
            index, items[index], record_key(items[target], target), target, round(similarity, 6), reason
        )
    result = DedupResult(
        kept=[items[k] for k in range(n) if k not in removals],
        removed=[removals[k] for k in sorted(removals)],
    )
    result.report = _report(
        result,
        n,
        texts,
        len(pairs),
        dict(
            field=field,
            threshold=threshold,
            ngram=ngram,
            num_perm=num_perm,
            seed=seed,
            bands=bands,
            rows=rows,
            **({"shared_index": lsh_basename} if lsh_storage else {}),
        ),
    )
    return result


def near_duplicate_pairs(
    texts: list[str], threshold: float = 0.8, ngram: int = 5, num_perm: int = 128, *, seed: int = 1
) -> list[tuple[int, int, float]]:
    """Every pair ``(i, j, similarity)`` with ``i < j`` whose normalized texts are equal (similarity 1.0) or
    whose word ``ngram`` shingle sets have exact Jaccard similarity >= ``threshold`` (LSH proposes, Jaccard
    decides). Unlike ``deduplicate`` it keeps all pairs, e.g. to find every train/test overlap."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    if not texts:
        return []
    bands, rows = band_params(threshold, num_perm)
    digests, empty, sigs = _chunk_work(texts, ngram, num_perm, seed, bands * rows)
    out: set[tuple[int, int, float]] = set()
    by_digest: dict[bytes, list[int]] = {}
    for index, digest in enumerate(digests):
        by_digest.setdefault(digest, []).append(index)
    for members in by_digest.values():
        out.update((a, b, 1.0) for k, a in enumerate(members) for b in members[k + 1 :])
    searchable = [i for i in range(len(texts)) if not empty[i]]
    text_pairs = []
    for i, j in candidate_pairs(sigs[searchable], bands, rows):
        a, b = sorted((searchable[i], searchable[j]))
        if digests[a] != digests[b]:  # equal texts are in already, at 1.0
            text_pairs.append((a, b))
    for (a, b), similarity in zip(text_pairs, _similarities(texts, text_pairs, ngram), strict=True):
        if similarity >= threshold:
            out.add((a, b, round(similarity, 6)))
    return sorted(out)


def _shared_pairs(
    items: list[Any],
    representatives: list[int],
    searchable: list[int],
    sigs: np.ndarray,
    external: dict[int, tuple[str, float]],
    url: str,
    basename: str,
    **options: Any,
) -> set[tuple[int, int]]:
    """Candidate pairs (positions in ``searchable``) through the shared Redis index; fills ``external`` with the
    groups that are near a record another worker indexed."""
    from curation.dedup.shared_index import SharedLSHIndex

    index = SharedLSHIndex(url, basename=basename, **options)
    keys = []
    for group in searchable:
        rep = representatives[group]
        key = items[rep].get("id") if isinstance(items[rep], dict) else getattr(items[rep], "id", None)
        if not isinstance(key, str) or not key:
            raise MissingFieldError(rep, "id", "is needed as the key of a shared (Redis) index")
        keys.append(key)
    batch = set(keys)
    position_of_key: dict[str, int] = {}
    pairs: set[tuple[int, int]] = set()
    for position, group in enumerate(searchable):
        key, signature = keys[position], sigs[representatives[group]]
        for other in index.query_and_insert(key, signature):
            if other in position_of_key:
                pairs.add((position_of_key[other], position))
            elif other in batch:
                continue  # indexed by an earlier run of this batch: the pair is found when `other` comes up
            else:
                similarity = index.estimated_similarity(other, signature)
                if similarity is not None and similarity >= options["threshold"]:
                    best = external.get(group)
                    if best is None or similarity > best[1]:
                        external[group] = (other, similarity)
        position_of_key[key] = position
    return pairs


def _report(result: DedupResult, n: int, texts: list[str], candidates: int, params: dict) -> dict[str, Any]:
    reasons = Counter(removal.reason for removal in result.removed)
    cluster_sizes = Counter(Counter(r.duplicate_of_index for r in result.removed).values())
    examples = [
        {
            "id": record_key(r.record, r.index),
            "duplicate_of": r.duplicate_of,
            "similarity": r.similarity,
            "reason": r.reason,
            "text": texts[r.index][:200],
            "kept_text": texts[r.duplicate_of_index][:200] if r.duplicate_of_index >= 0 else None,
        }
        for r in sorted(result.removed, key=lambda r: (r.reason != "near", r.similarity, r.index))[
            :EXAMPLES_IN_REPORT
        ]
    ]
    return {
        "params": params,
        "counts": {
            "input": n,
            "kept": len(result.kept),
            "removed_exact": reasons["exact"],
            "removed_near": reasons["near"],
            **({"removed_near_shared": reasons["near-shared"]} if params.get("shared_index") else {}),
        },
        "candidate_pairs": candidates,
        # cluster size (the kept record plus its removed duplicates) -> how many clusters have it
        "cluster_sizes": {str(size + 1): count for size, count in sorted(cluster_sizes.items())},
        "examples": examples,
    }


def deduplicate_within(
    records: Iterable[Any], group_by: str, field: str = "final", **options: Any
) -> DedupResult:
    """``deduplicate`` run separately inside each group of records sharing ``group_by`` (e.g. the traces of one
    problem: near-identical traces of the same problem are duplicates, similar traces of different problems are
    not). Kept and removed records keep their input order; indices are positions in the whole input."""
    groups: dict[Any, list[int]] = {}
    items = list(records)
    for index, record in enumerate(items):
        value = record.get(group_by) if isinstance(record, dict) else getattr(record, group_by, None)
        if value is None:
            raise MissingFieldError(index, group_by, "is missing (it is the --group-by field)")
        groups.setdefault(value, []).append(index)
    removed: list[Removal] = []
    totals: Counter = Counter()
    for members in groups.values():
        part = deduplicate([items[i] for i in members], field=field, **options)
        totals.update(part.report["counts"])
        for r in part.removed:
            removed.append(Removal(members[r.index], r.record, r.duplicate_of, members[r.duplicate_of_index],
                                   r.similarity, r.reason))  # fmt: skip
    removed.sort(key=lambda r: r.index)
    gone = {r.index for r in removed}
    result = DedupResult(kept=[items[i] for i in range(len(items)) if i not in gone], removed=removed)
    result.report = {
        "params": {
            "field": field,
            "group_by": group_by,
            **{k: v for k, v in options.items() if k != "workers"},
        },
        "counts": {
            "input": len(items),
            "kept": len(result.kept),
            "removed_exact": totals["removed_exact"],
            "removed_near": totals["removed_near"],
        },  # fmt: skip
        "groups": len(groups),
    }
    return result
