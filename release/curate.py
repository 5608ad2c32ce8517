"""The curation stages of a release config: source -> filters -> dedup -> decontam, each counting what it drops.

Every dropped record is kept aside with its reason (``Dropped``), and the counts go to the manifest and the card.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curation.records.io import read_records
from curation.records.problem import Problem
from curation.records.trace import Trace
from release.spec import ConfigSpec, FilterSpec, SourceSpec, SpecError

_MISSING = object()


def field_value(record: dict[str, Any], dotted: str) -> Any:
    """The value at ``dotted`` (e.g. ``source.family``, ``answer.kind``) in a record's JSON form, or a
    missing-marker object when a key on the way is absent."""
    value: Any = record
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def is_missing(value: Any) -> bool:
    """Whether ``field_value`` found nothing."""
    return value is _MISSING


@dataclass(frozen=True)
class Dropped:
    """A record a stage removed, and why."""

    record: dict[str, Any]
    stage: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "reason": self.reason, "record": self.record}


def passes(spec: FilterSpec, record: dict[str, Any]) -> bool:
    """Whether a record's JSON form passes one filter (an absent field fails every test but ``not_in``)."""
    value = field_value(record, spec.field)
    if is_missing(value) or value is None:
        return spec.op == "not_in"
    if spec.op == "in":
        return value in spec.value
    if spec.op == "not_in":
        return value not in spec.value
    if spec.op == "equals":
        return value == spec.value
    if spec.op in ("min_length", "max_length"):
        length = len(value) if isinstance(value, str | list) else None
        if length is None:
            return False
        return length >= spec.value if spec.op == "min_length" else length <= spec.value
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    return value >= spec.value if spec.op == "min" else value <= spec.value


def source_records(source: SourceSpec, record_type: type) -> Iterator[Any]:
    """The records a ``path`` or ``cas`` source yields, validated (errors name the file and line)."""
    if source.kind in ("path", "traces"):
        assert source.path is not None
        if not source.path.is_file():
            raise SpecError(f"source file {source.path} does not exist")
        return read_records(source.path, record_type)
    if source.kind == "cas":
        from generation.cas import generate

        params = source.params
        return generate(params["families"], n=params["n"], seed=params["seed"], level=params.get("level"))
    raise SpecError(f"a {source.kind} source has no records of its own")


@dataclass
class CurationReport:
    """What each stage did to a config's records."""

    input: int = 0
    filters: list[dict[str, Any]] = field(default_factory=list)
    dedup: dict[str, Any] | None = None
    decontam: dict[str, Any] | None = None
    output: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "filters": self.filters,
            "dedup": self.dedup,
            "decontam": self.decontam,
            "output": self.output,
        }


def apply_filters(
    records: Iterable[Any], filters: tuple[FilterSpec, ...], report: CurationReport, on_drop: Callable
) -> Iterator[Any]:
    """The records that pass every filter; a dropped one goes to ``on_drop`` with the first filter it failed."""
    counts: Counter[int] = Counter()
    report.filters = [{"filter": f.reason, "line": f.line, "dropped": 0} for f in filters]
    if not filters:  # no JSON form needed: traces are the big table, and to_dict is not free
        for record in records:
            report.input += 1
            yield record
        return
    for record in records:
        report.input += 1
        data = record.to_dict()
        failed = next((i for i, f in enumerate(filters) if not passes(f, data)), None)
        if failed is None:
            yield record
            continue
        counts[failed] += 1
        report.filters[failed]["dropped"] = counts[failed]
        on_drop(Dropped(data, "filter", filters[failed].reason))


def curate_problems(
    config: ConfigSpec, spec_dir: Path, on_drop: Callable
) -> tuple[list[Problem], CurationReport]:
    """Run a problems config's source, filters, dedup and decontam; the kept problems in source order."""
    report = CurationReport()
    problems = list(apply_filters(source_records(config.source, Problem), config.filters, report, on_drop))
    seen: set[str] = set()
    unique = []
    for problem in problems:
        # Two sources can hold the very same problem; the id is its content, so the second copy is dropped.
        if problem.id in seen:
            on_drop(Dropped(problem.to_dict(), "dedup", f"same id as an earlier problem {problem.id}"))
            continue
        seen.add(problem.id)
        unique.append(problem)
    problems = unique
    if config.dedup is not None:
        problems = _dedup(problems, config.dedup, report, on_drop)
    if config.decontam is not None:
        problems = _decontam(problems, config.decontam, spec_dir, report, on_drop)
    report.output = len(problems)
    return problems, report


def _dedup(
    problems: list[Problem], options: dict, report: CurationReport, on_drop: Callable
) -> list[Problem]:
    from curation.dedup import deduplicate

    result = deduplicate(
        problems,
        field=options.get("field", "statement"),
        threshold=float(options.get("threshold", 0.8)),
        ngram=int(options.get("ngram", 5)),
        num_perm=int(options.get("num_perm", 128)),
    )
    for removal in result.removed:
        reason = f"{removal.reason} duplicate of {removal.duplicate_of} (similarity {removal.similarity:.3f})"
        on_drop(Dropped(removal.record.to_dict(), "dedup", reason))
    report.dedup = {k: v for k, v in result.report.items() if k != "examples"}
    return result.kept


def _decontam(
    problems: list[Problem], options: dict, spec_dir: Path, report: CurationReport, on_drop: Callable
) -> list[Problem]:
    from curation.decontam import SHIPPED_REGISTRY, BenchmarkIndex, decontaminate, load_registry

    registry = options.get("registry", "shipped")
    registry_path = Path(SHIPPED_REGISTRY) if registry == "shipped" else spec_dir / registry
    benchmarks = load_registry(registry_path)
    only = options.get("only")
    if only:
        names = [only] if isinstance(only, str) else list(only)
        unknown = sorted(set(names) - {b.name for b in benchmarks})
        if unknown:
            raise SpecError(f"decontam.only names unknown benchmarks {unknown}; {registry_path} lists "
                            f"{', '.join(b.name for b in benchmarks)}")  # fmt: skip
        benchmarks = [b for b in benchmarks if b.name in names]
    index_options = {k: options[k] for k in ("ngram", "minhash_threshold") if k in options}
    index = BenchmarkIndex.build(benchmarks, **index_options)
    kept = []
    by_benchmark: Counter[str] = Counter()
    by_method: Counter[str] = Counter()
    for problem, flags in decontaminate(problems, index, options.get("field", "statement")):
        if not flags:
            kept.append(problem)
            continue
        first = flags[0]
        by_benchmark.update({f.benchmark for f in flags})
        by_method[first.method] += 1
        on_drop(
            Dropped(
                problem.to_dict(),
                "decontam",
                f"{first.method} overlap with {first.benchmark} document {first.doc_id} "
                f"(similarity {first.similarity:.2f}): {first.span[:80]}",
            )
        )
    report.decontam = {
        "benchmarks": [b.name for b in benchmarks],
        "dropped": len(problems) - len(kept),
        "by_benchmark": dict(sorted(by_benchmark.items())),
        "by_method": dict(sorted(by_method.items())),
    }
    return kept


def trace_records(config: ConfigSpec, report: CurationReport, on_drop: Callable) -> Iterator[Trace]:
    """A traces config's traces, filtered (streaming: traces are the big table)."""
    return apply_filters(source_records(config.source, Trace), config.filters, report, on_drop)
