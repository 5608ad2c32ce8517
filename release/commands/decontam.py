"""Drop training problems that overlap evaluation benchmarks; write the clean problems and a report.

example:
  vqft decontam train.jsonl --against my-benchmarks.yaml -o clean.jsonl --report decontam.json \
      --removed removed.jsonl

BENCHMARKS.yaml lists the evaluation sets (see curation/decontam/benchmarks.yaml, shipped with TPBench, PHYBench,
UGPhysics, GPQA-physics, OlympiadBench-physics and our held-out test split): hub: entries need the network;
offline, point path: at local JSONL/Parquet copies. A problem is removed when its statement shares a run of
--ngram normalized words with a benchmark document (ngram), the same with numbers masked (masked_ngram), or has
MinHash similarity of at least --minhash-threshold (minhash). N-grams found in many documents of a benchmark
(common formulas) do not count. The exit status is 2 with a message naming the file when an input or a
benchmark cannot be read.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from pathlib import Path

from release.cli import CommandError

EXAMPLES_PER_BENCHMARK = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="problems (vqft JSONL or Parquet)")
    parser.add_argument("--against", type=Path, required=True, help="benchmark registry YAML")
    parser.add_argument("-o", "--output", type=Path, required=True, help="clean problems JSONL to write")
    parser.add_argument(
        "--report", type=Path, help="report JSON to write (counts by benchmark and method, examples)"
    )
    parser.add_argument("--removed", type=Path, help="JSONL of removed problems' ids and flags")
    parser.add_argument(
        "--only", help="comma-separated benchmark names from the registry to use (default: all)"
    )
    parser.add_argument("--field", default="statement", help="problem field to match (default: statement)")
    parser.add_argument("--ngram", type=int, default=8, help="words per n-gram (default: 8)")
    parser.add_argument("--no-masked", action="store_true", help="skip number-masked n-gram matching")
    parser.add_argument(
        "--minhash-threshold",
        type=float,
        default=0.7,
        help="MinHash Jaccard threshold; 0 turns it off (default 0.7)",
    )
    parser.add_argument(
        "--common-fraction",
        type=float,
        default=0.01,
        help="n-grams in more than this fraction of a benchmark's documents (and more than 3) are common formulas "
        "and do not count (default: 0.01)",
    )


def run(args: argparse.Namespace) -> int:
    from curation.decontam import BenchmarkError, BenchmarkIndex, decontaminate, load_registry
    from curation.records.io import RecordError, read_records, write_jsonl
    from curation.records.problem import Problem

    if not args.input.is_file():
        raise CommandError(f"{args.input}: no such file")
    try:
        benchmarks = load_registry(args.against)
        if args.only:
            wanted = [name.strip() for name in args.only.split(",") if name.strip()]
            names = {b.name for b in benchmarks}
            unknown = [name for name in wanted if name not in names]
            if unknown:
                raise CommandError(
                    f"--only: {', '.join(unknown)} not in {args.against}; it lists {', '.join(sorted(names))}"
                )
            benchmarks = [b for b in benchmarks if b.name in wanted]
        index = BenchmarkIndex.build(
            benchmarks,
            ngram=args.ngram,
            masked=not args.no_masked,
            minhash_threshold=args.minhash_threshold or None,
            common_fraction=args.common_fraction,
        )
    except (BenchmarkError, ValueError) as exc:
        raise CommandError(str(exc)) from None

    start = time.perf_counter()
    total = 0
    removed: list[dict] = []
    by_benchmark: Counter[str] = Counter()
    by_method: Counter[str] = Counter()
    examples: dict[str, list[dict]] = {}

    def clean():
        nonlocal total
        for problem, flags in decontaminate(read_records(args.input, Problem), index, args.field):
            total += 1
            if not flags:
                yield problem
                continue
            entry = {"id": problem.id, "flags": [flag.to_dict() for flag in flags]}
            removed.append(entry)
            for name in sorted({f.benchmark for f in flags}):
                by_benchmark[name] += 1
                shown = examples.setdefault(name, [])
                if len(shown) < EXAMPLES_PER_BENCHMARK:
                    shown.append({"id": problem.id, "statement": problem.statement[:500],
                                  "flags": [f.to_dict() for f in flags if f.benchmark == name]})  # fmt: skip
            for method in sorted({f.method for f in flags}):
                by_method[method] += 1

    try:
        kept = write_jsonl(args.output, clean())
    except RecordError as exc:
        raise CommandError(str(exc)) from None
    if args.removed:
        write_jsonl(args.removed, removed)
    report = {
        "input": str(args.input),
        "registry": str(args.against),
        "options": {"field": args.field, "ngram": args.ngram, "masked": not args.no_masked,
                    "minhash_threshold": args.minhash_threshold or None, "common_fraction": args.common_fraction},
        "benchmarks": {name: vars(stats) for name, stats in index.stats.items()},
        "total": total,
        "kept": kept,
        "removed": len(removed),
        "removed_by_benchmark": dict(sorted(by_benchmark.items())),
        "removed_by_method": dict(sorted(by_method.items())),
        "examples": examples,
    }  # fmt: skip
    if args.report:
        _write_json(args.report, report)
    print_summary(report, time.perf_counter() - start, args.output)
    return 0


def _write_json(path: Path, value: dict) -> None:
    """Write JSON atomically (temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def print_summary(report: dict, elapsed: float, output: Path) -> None:
    rows = [(f"benchmark {name}", count) for name, count in report["removed_by_benchmark"].items()]
    rows += [(f"method {name}", count) for name, count in report["removed_by_method"].items()]
    rows += [("removed", report["removed"]), ("kept", report["kept"])]
    width = max(len(label) for label, _ in rows)
    total = max(report["total"], 1)
    print(f"{'':<{width}}  {'count':>7}  {'share':>6}")
    for label, count in rows:
        print(f"{label:<{width}}  {count:>7}  {count / total:>6.1%}")
    print(f"{'total':<{width}}  {report['total']:>7}  {elapsed:.1f}s -> {output}")
