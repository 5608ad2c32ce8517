"""Grade model responses against the problems' answers; one Result per response line, in order.

example:
  vqft verify examples/problems.jsonl examples/responses.jsonl -o results.jsonl --workers 2

PROBLEMS is read in one of three layouts (--format): vqft (Problem JSONL or Parquet), tpdata (the paper's
per-problem JSON: a folder of .json files or a JSONL of them), tpbench (TPBench columns, JSONL or Parquet).
RESPONSES is JSONL of {"problem_id": ..., "response": ...}. The exit status is 0 when every line was graded,
whatever the verdicts, and 2 with a message naming the file and line when an input cannot be read.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections import Counter
from pathlib import Path

from curation.records.answer import FieldError
from curation.records.result import STATUSES, Response
from release.cli import CommandError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("problems", type=Path, help="problems file (see --format)")
    parser.add_argument("responses", type=Path, help="responses JSONL: one {problem_id, response} per line")
    parser.add_argument("-o", "--output", type=Path, required=True, help="results JSONL to write")
    parser.add_argument(
        "--workers", type=int, default=None, help="grading worker processes (default: all cores)"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per check (default: 10)")
    parser.add_argument(
        "--format",
        choices=("vqft", "tpdata", "tpbench"),
        default="vqft",
        help="layout of PROBLEMS (default: vqft)",
    )
    parser.add_argument(
        "--answer-form",
        choices=("answer", "code"),
        default="answer",
        help="grade against each problem's `answer` (default) or its alternative `code_answer` (CAS problems "
        "carry both); responses keep naming the problem's id",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def load_problems(path: Path, layout: str) -> dict:
    """Problems by id, read and validated in full before any grading starts."""
    from curation.records import interop
    from curation.records.io import RecordError, read_json_lines, read_records
    from curation.records.problem import Problem

    if not path.exists():
        raise CommandError(f"{path}: no such file or folder")
    problems = {}
    try:
        if layout == "vqft":
            records = read_records(path, Problem)
        elif layout == "tpdata":
            records = _paper_problems(path, interop, read_json_lines)
        else:
            records = (interop.problem_from_tpbench_row(row) for row in _rows(path, read_json_lines))
        for problem in records:
            problems[problem.id] = problem
    except RecordError as exc:
        raise CommandError(str(exc)) from None
    except FieldError as exc:
        raise CommandError(f"{path}: {exc}") from None
    if not problems:
        raise CommandError(f"{path}: holds no problems")
    return problems


def _paper_problems(path: Path, interop, read_json_lines):
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            try:
                data = json.loads(file.read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise CommandError(f"{file}: not valid JSON ({exc})") from None
            try:
                yield interop.problem_from_paper_json(data)
            except FieldError as exc:
                raise CommandError(f"{file}, field {exc.path}: {exc.message}") from None
        return
    for line, data in read_json_lines(path):
        try:
            yield interop.problem_from_paper_json(data)
        except FieldError as exc:
            raise CommandError(f"{path}, line {line}, field {exc.path}: {exc.message}") from None


def _rows(path: Path, read_json_lines):
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches():
            yield from batch.to_pylist()
        return
    for _, data in read_json_lines(path):
        yield data


def code_form(problem, path: Path):
    """The problem graded by its code answer, keeping its id so responses still find it."""
    if problem.code_answer is None:
        raise CommandError(f"{path}: problem {problem.id} has no code_answer; --answer-form code needs one")
    return dataclasses.replace(problem, answer=problem.code_answer)


def load_responses(path: Path) -> list[Response]:
    """Every response line, validated before grading (so a bad line 90,000 costs no grading time)."""
    from curation.records.io import RecordError, read_records

    if not path.exists():
        raise CommandError(f"{path}: no such file")
    try:
        return list(read_records(path, Response))
    except RecordError as exc:
        raise CommandError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from curation.records.io import write_jsonl
    from curation.verify import iter_verify

    problems = load_problems(args.problems, args.format)
    if args.answer_form == "code":
        problems = {problem_id: code_form(problem, args.problems) for problem_id, problem in problems.items()}
    responses = load_responses(args.responses)
    unknown = [(i + 1, r.problem_id) for i, r in enumerate(responses) if r.problem_id not in problems]
    if unknown:
        line, problem_id = unknown[0]
        raise CommandError(
            f"{args.responses}, line {line}: problem_id {problem_id!r} is not in {args.problems} "
            f"({len(unknown)} response(s) name unknown problems)"
        )
    start = time.perf_counter()
    pairs = ((problems[r.problem_id], r) for r in responses)
    results = iter_verify(pairs, workers=args.workers, timeout=args.timeout)
    if not args.quiet and sys.stderr.isatty():
        from tqdm import tqdm

        results = tqdm(results, total=len(responses), desc="verify", unit="answer")
    counts: Counter[str] = Counter()

    def counted(stream):
        for result in stream:
            counts[result.status] += 1
            yield result

    write_jsonl(args.output, counted(results))
    elapsed = time.perf_counter() - start
    print_summary(counts, len(responses), elapsed, args.output)
    return 0


def print_summary(counts: Counter, total: int, elapsed: float, output: Path) -> None:
    width = max(len(s) for s in STATUSES)
    print(f"{'status':<{width}}  {'count':>7}  {'share':>6}")
    for status in STATUSES:
        if counts[status]:
            print(f"{status:<{width}}  {counts[status]:>7}  {counts[status] / total:>6.1%}")
    print(f"{'total':<{width}}  {total:>7}  {elapsed:.1f}s ({total / max(elapsed, 1e-9):.0f}/s) -> {output}")
