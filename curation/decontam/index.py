"""The benchmark index: hashed word n-grams (raw and number-masked) and MinHash signatures of every document.

An n-gram that occurs in more than ``max(common_min_docs, common_fraction * docs)`` documents of one benchmark
is a common formula or phrase of that benchmark ("in natural units, hbar = c = 1") and is dropped: it is no
evidence that a training problem was copied from any of them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from curation.decontam.normalize import mask_numbers, words
from curation.decontam.registry import Benchmark, BenchmarkDoc, load_docs

METHODS = ("ngram", "masked_ngram", "minhash")
MINHASH_SHINGLE = 3  # words per MinHash shingle


@dataclass(frozen=True)
class Flag:
    """Evidence that a record overlaps one benchmark document."""

    benchmark: str
    doc_index: int  # position of the document among the benchmark's (kept) rows
    doc_id: str
    method: str  # ngram | masked_ngram | minhash
    span: str  # the longest shared run of normalized words (for minhash: the record's first words)
    similarity: (
        float  # n-gram methods: shared n-grams / the shorter text's n-grams; minhash: estimated Jaccard
    )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass
class BenchmarkStats:
    """What indexing one benchmark found."""

    docs: int = 0
    common_ngrams: int = 0  # raw n-grams dropped as common
    common_masked_ngrams: int = 0


def _grams(tokens: Sequence[str], n: int) -> list[int]:
    return [hash(tuple(tokens[i : i + n])) for i in range(len(tokens) - n + 1)]


def _longest_run(positions: Iterable[int]) -> tuple[int, int]:
    """The (first, last) of the longest run of consecutive integers."""
    best = current = (-1, -2)
    for p in sorted(positions):
        current = (current[0], p) if p == current[1] + 1 else (p, p)
        if current[1] - current[0] > best[1] - best[0]:
            best = current
    return best


@dataclass
class BenchmarkIndex:
    """Benchmark documents indexed for overlap queries; build with ``BenchmarkIndex.build`` or ``from_docs``.

    >>> from curation.decontam.registry import BenchmarkDoc
    >>> index = BenchmarkIndex.from_docs([BenchmarkDoc("b", 0, "0", "one two three four five")], ngram=3)
    >>> [f.method for f in index.match("zero one two three six")]
    ['ngram']
    """

    ngram: int = 8
    masked: bool = True
    minhash_threshold: float | None = 0.7
    num_perm: int = 128
    common_fraction: float = 0.01
    common_min_docs: int = 3
    docs: list[BenchmarkDoc] = field(default_factory=list)
    stats: dict[str, BenchmarkStats] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ngram < 1:
            raise ValueError(f"ngram must be at least 1, got {self.ngram}")
        if self.minhash_threshold is not None and not 0.0 < self.minhash_threshold <= 1.0:
            raise ValueError(f"minhash_threshold must be in (0, 1], got {self.minhash_threshold}")
        self._postings: dict[str, dict[int, list[int]]] = {"ngram": {}, "masked_ngram": {}}
        self._gram_counts: dict[str, list[int]] = {"ngram": [], "masked_ngram": []}
        self._lsh = None
        self._minhashes: list[Any] = []
        if self.minhash_threshold is not None:
            from datasketch import MinHashLSH

            self._lsh = MinHashLSH(threshold=self.minhash_threshold, num_perm=self.num_perm)

    @classmethod
    def build(cls, benchmarks: Iterable[Benchmark], **options: Any) -> BenchmarkIndex:
        """Load every benchmark (BenchmarkError naming the one that cannot be read) and index it."""
        index = cls(**options)
        for benchmark in benchmarks:
            index.add(benchmark.name, load_docs(benchmark))
        return index

    @classmethod
    def from_docs(cls, docs: Iterable[BenchmarkDoc], **options: Any) -> BenchmarkIndex:
        """Index documents already in memory (grouped by their ``benchmark``)."""
        index = cls(**options)
        grouped: dict[str, list[BenchmarkDoc]] = defaultdict(list)
        for doc in docs:
            grouped[doc.benchmark].append(doc)
        for name, group in grouped.items():
            index.add(name, group)
        return index

    def add(self, name: str, docs: Iterable[BenchmarkDoc]) -> None:
        """Index the documents of one benchmark, dropping its common n-grams."""
        stats = self.stats.setdefault(name, BenchmarkStats())
        local: dict[str, dict[int, list[int]]] = {
            "ngram": defaultdict(list),
            "masked_ngram": defaultdict(list),
        }
        for doc in docs:
            key = len(self.docs)
            self.docs.append(doc)
            stats.docs += 1
            tokens = words(doc.text)
            for method, toks in self._variants(tokens):
                grams = set(_grams(toks, self.ngram))
                self._gram_counts[method].append(len(grams))
                for gram in grams:
                    local[method][gram].append(key)
            self._add_minhash(key, tokens)
        limit = max(self.common_min_docs, self.common_fraction * stats.docs)
        for method, grams in local.items():
            postings = self._postings[method]
            for gram, keys in grams.items():
                if len(keys) > limit:
                    if method == "ngram":
                        stats.common_ngrams += 1
                    else:
                        stats.common_masked_ngrams += 1
                    continue
                postings.setdefault(gram, []).extend(keys)

    def _variants(self, tokens: list[str]) -> Iterator[tuple[str, list[str]]]:
        yield "ngram", tokens
        if self.masked:
            yield "masked_ngram", mask_numbers(tokens)

    def _minhash(self, tokens: list[str]):
        from datasketch import MinHash

        shingles = {" ".join(tokens[i : i + MINHASH_SHINGLE]).encode() for i in range(len(tokens) - 2)}
        if not shingles:
            return None
        signature = MinHash(num_perm=self.num_perm)
        signature.update_batch(list(shingles))
        return signature

    def _add_minhash(self, key: int, tokens: list[str]) -> None:
        signature = self._minhash(tokens) if self._lsh is not None else None
        self._minhashes.append(signature)
        if signature is not None:
            self._lsh.insert(str(key), signature)

    def match(self, text: str) -> list[Flag]:
        """Every benchmark document ``text`` overlaps, one Flag per (document, method).

        A number-masked match is reported only where the raw n-grams did not already match that document.
        """
        tokens = words(text)
        flags: list[Flag] = []
        raw_hits: set[int] = set()
        for method, toks in self._variants(tokens):
            grams = _grams(toks, self.ngram)
            postings = self._postings[method]
            hits: dict[int, set[int]] = defaultdict(set)
            for position, gram in enumerate(grams):
                for key in postings.get(gram, ()):
                    hits[key].add(position)
            for key, positions in sorted(hits.items()):
                if method == "ngram":
                    raw_hits.add(key)
                elif key in raw_hits:
                    continue
                first, last = _longest_run(positions)
                shared = len({grams[p] for p in positions})
                shorter = max(1, min(len(set(grams)), self._gram_counts[method][key]))
                doc = self.docs[key]
                flags.append(Flag(doc.benchmark, doc.index, doc.id, method,
                                  " ".join(tokens[first : last + self.ngram]), round(shared / shorter, 4)))  # fmt: skip
        if self._lsh is not None:
            signature = self._minhash(tokens)
            if signature is not None:
                for key in sorted(int(k) for k in self._lsh.query(signature)):
                    similarity = signature.jaccard(self._minhashes[key])
                    if similarity >= self.minhash_threshold:
                        doc = self.docs[key]
                        flags.append(Flag(doc.benchmark, doc.index, doc.id, "minhash",
                                          " ".join(tokens[:20]), round(similarity, 4)))  # fmt: skip
        return flags
