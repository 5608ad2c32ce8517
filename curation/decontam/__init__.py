"""Decontamination: find training problems that overlap evaluation benchmarks, and train/test leakage.

Three kinds of evidence, each a ``Flag`` naming the benchmark, the document, the method and the shared span:
``ngram`` (a shared run of ``ngram`` normalized words, LaTeX-aware), ``masked_ngram`` (the same with every number
masked: the same problem with other numbers) and ``minhash`` (estimated Jaccard similarity of word 3-grams at least
``minhash_threshold``). N-grams frequent across a benchmark itself (common formulas) are no evidence.

Example::

    index = BenchmarkIndex.build(load_registry("curation/decontam/benchmarks.yaml"), ngram=8)
    for problem, flags in decontaminate(read_records("train.jsonl", Problem), index):
        if not flags:
            keep(problem)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from curation.decontam.index import METHODS, BenchmarkIndex, BenchmarkStats, Flag
from curation.decontam.registry import (
    SHIPPED_REGISTRY,
    Benchmark,
    BenchmarkDoc,
    BenchmarkError,
    load_docs,
    load_registry,
)

__all__ = [
    "METHODS",
    "SHIPPED_REGISTRY",
    "Benchmark",
    "BenchmarkDoc",
    "BenchmarkError",
    "BenchmarkIndex",
    "BenchmarkStats",
    "Flag",
    "check_leakage",
    "decontaminate",
    "load_docs",
    "load_registry",
    "record_text",
]


def record_text(record: Any, fields: str | Sequence[str] = "statement") -> str:
    """The text of ``record`` (a Problem or a dict) to match: its ``fields`` joined by newlines."""
    names = [fields] if isinstance(fields, str) else list(fields)
    parts = []
    for name in names:
        value = record.get(name) if isinstance(record, dict) else getattr(record, name, None)
        if value is not None:
            parts.append(str(value))
    return "\n".join(parts)


def decontaminate(
    records: Iterable[Any], index: BenchmarkIndex, field: str | Sequence[str] = "statement"
) -> Iterator[tuple[Any, list[Flag]]]:
    """Each record with the flags its ``field`` text raises against ``index`` (an empty list: clean)."""
    for record in records:
        yield record, index.match(record_text(record, field))


def check_leakage(
    train_records: Iterable[Any],
    test_records: Iterable[Any],
    field: str | Sequence[str] = "statement",
    **options: Any,
) -> list[tuple[Any, list[Flag]]]:
    """The training records that overlap the test split, with their flags (the benchmark is named ``test``).

    ``options`` are BenchmarkIndex's (``ngram``, ``masked``, ``minhash_threshold``, ...); flags name test
    documents by their ``id`` when they have one.
    """
    docs = []
    for number, record in enumerate(test_records):
        doc_id = record.get("id") if isinstance(record, dict) else getattr(record, "id", None)
        docs.append(BenchmarkDoc("test", number, str(doc_id if doc_id is not None else number),
                                 record_text(record, field)))  # fmt: skip
    index = BenchmarkIndex(**options)
    index.add("test", docs)
    return [(record, flags) for record, flags in decontaminate(train_records, index, field) if flags]
