"""Remove exact and near-duplicate records (MinHash LSH, checked by exact Jaccard), keeping the best of each group.

example:
  vqft dedup problems.jsonl -o kept.jsonl --threshold 0.8 --report dedup_report.json --removed removed.jsonl

IN is Problem JSONL (or Parquet); with --type trace, Trace records (use --field final or --field reasoning).
Kept records are written in input order; each removed record goes to --removed with `duplicate_of` (the kept
record's id), `similarity` (exact Jaccard of word n-gram shingles, 1.0 for exact duplicates) and `dedup_reason`.
A record without the field stops the run with its file, line and field.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from release.cli import CommandError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="records to deduplicate (.jsonl, .jsonl.gz or .parquet)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="kept records JSONL to write")
    parser.add_argument("--type", choices=("problem", "trace"), default="problem", help="record type")
    parser.add_argument("--field", default="statement", help="text field compared (default: statement)")
    parser.add_argument("--threshold", type=float, default=0.8, help="Jaccard similarity to remove at (0.8)")
    parser.add_argument("--ngram", type=int, default=5, help="words per shingle (default: 5)")
    parser.add_argument("--num-perm", type=int, default=128, help="MinHash permutations (default: 128)")
    parser.add_argument(
        "--workers", type=int, default=None, help="processes (default: up to 2 on big inputs)"
    )
    parser.add_argument("--report", type=Path, help="write the report (counts, cluster sizes, examples) here")
    parser.add_argument("--removed", type=Path, help="write removed records with duplicate_of here")
    parser.add_argument(
        "--lsh-storage",
        default=None,
        help="redis://HOST:PORT/DB: keep the LSH index in Redis, shared by every worker using the same --lsh-name",
    )
    parser.add_argument(
        "--lsh-name", default="vqft-dedup", help="name of the shared index (default: vqft-dedup)"
    )
    parser.add_argument(
        "--group-by",
        default=None,
        help="deduplicate only within groups sharing this field, e.g. --type trace --field final --group-by problem_id",
    )


def _line_numbers(path: Path) -> list[int] | None:
    """The line number of each record of a JSONL file (blank lines are not records); None for Parquet."""
    from curation.records.io import read_json_lines

    if path.name.endswith(".parquet"):
        return None
    return [line for line, _ in read_json_lines(path)]


def run(args: argparse.Namespace) -> int:
    from curation.dedup import MissingFieldError, deduplicate, deduplicate_within
    from curation.dedup.shared_index import SharedIndexError
    from curation.records.io import RecordError, read_records, write_jsonl
    from curation.records.problem import Problem
    from curation.records.trace import Trace

    if not 0.0 < args.threshold <= 1.0:
        raise CommandError(f"--threshold must be in (0, 1], got {args.threshold}")
    if args.ngram < 1 or args.num_perm < 1:
        raise CommandError("--ngram and --num-perm must be >= 1")
    if not args.input.is_file():
        raise CommandError(f"{args.input}: no such file")
    record_type = Trace if args.type == "trace" else Problem
    start = time.perf_counter()
    if args.group_by and args.lsh_storage:
        raise CommandError("--group-by and --lsh-storage do not combine; choose one")
    try:
        if args.group_by:
            result = deduplicate_within(
                read_records(args.input, record_type),
                args.group_by,
                field=args.field,
                threshold=args.threshold,
                ngram=args.ngram,
                num_perm=args.num_perm,
                workers=1,
            )
        else:
            result = deduplicate(
                read_records(args.input, record_type),
                field=args.field,
                threshold=args.threshold,
                ngram=args.ngram,
                num_perm=args.num_perm,
                workers=args.workers,
                lsh_storage=args.lsh_storage,
                lsh_basename=args.lsh_name,
            )
    except RecordError as exc:
        raise CommandError(str(exc)) from None
    except MissingFieldError as exc:
        lines = _line_numbers(args.input)
        where = f"line {lines[exc.index]}" if lines else f"row {exc.index + 1}"
        raise CommandError(
            f"{args.input}, {where}, field {exc.field}: {exc.message}; choose the text field with --field"
        ) from None
    except SharedIndexError as exc:
        raise CommandError(str(exc)) from None
    except ValueError as exc:
        raise CommandError(f"{args.input}: {exc}") from None
    write_jsonl(args.output, result.kept)
    if args.removed:
        write_jsonl(args.removed, (removal.to_dict() for removal in result.removed))
    if args.report:
        tmp = args.report.with_name(args.report.name + ".tmp")
        args.report.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(result.report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, args.report)
    counts = result.report["counts"]
    elapsed = time.perf_counter() - start
    for name in ("input", "kept", "removed_exact", "removed_near", "removed_near_shared"):
        if name in counts:
            print(f"{name:<19} {counts[name]:>8}")
    print(f"{elapsed:.1f}s ({counts['input'] / max(elapsed, 1e-9):.0f} records/s) -> {args.output}")
    return 0
