"""Score problems with LLM judges and keep those above the thresholds (the paper's quality check).

examples:
  vqft qc generated.jsonl -o kept.jsonl --model gpt-4.1
  vqft qc generated.jsonl -o kept.jsonl --config generation/configs/qc.yaml

A config may list several judges (`judges: [{model: ..., base_url: ...}, ...]`) whose scores are combined
(`combine: mean|min`) before the `thresholds:` (0-100 per criterion, default 70) apply. Kept problems go to -o
with their scores in `qc`; the others, with the reasons, to <output>.set_aside.jsonl. Re-running scores only
the problems not scored yet.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from release.cli import CommandError
from release.commands.llm_options import add_llm_arguments, llm_config, read_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("problems", type=Path, help="problems JSONL")
    parser.add_argument("-o", "--output", type=Path, required=True, help="kept problems JSONL")
    parser.add_argument("--config", type=Path, help="YAML with judges:, thresholds:, combine:")
    parser.add_argument("--threshold", type=int, default=None, help="one threshold for every criterion")
    add_llm_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from curation.quality import DEFAULT_THRESHOLDS, QCPolicy, run_qc
    from generation.llm import LLMClient, run_sync

    if not args.problems.is_file():
        raise CommandError(f"{args.problems}: no such problems file")
    data = read_config(args.config)
    blocks = data.get("judges") or [data.get("llm") or {}]
    configs = [
        llm_config(block, args, f"{args.config or 'qc'}: judges.{i}") for i, block in enumerate(blocks)
    ]
    thresholds = dict(DEFAULT_THRESHOLDS)
    thresholds.update(data.get("thresholds") or {})
    if args.threshold is not None:
        thresholds = dict.fromkeys(thresholds, args.threshold)
    try:
        policy = QCPolicy(thresholds=thresholds, combine=data.get("combine", "mean"))
    except ValueError as exc:
        raise CommandError(f"{args.config}: {exc}") from None

    async def main():
        judges = [LLMClient(config) for config in configs]
        try:
            counts = await run_qc(args.problems, args.output, judges, policy,
                                  concurrency=max(c.max_concurrency for c in configs))  # fmt: skip
        finally:
            for judge in judges:
                await judge.aclose()
        return counts, judges

    counts, judges = run_sync(main())
    for status, count in sorted(counts.items()):
        print(f"{status:<10} {count:>6}")
    for judge in judges:
        print(judge.meter.table())
    print(f"-> {args.output}")
    return 0
