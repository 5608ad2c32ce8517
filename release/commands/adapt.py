"""Rewrite human-written seed problems into verifiable problems with the same physics and answer.

examples:
  vqft adapt seeds/ -o adapted.jsonl --model gpt-4.1
  vqft adapt seeds.jsonl -o adapted.jsonl --config generation/configs/adapt.yaml --answer-kind symbolic

SEEDS is a Seed JSONL/Parquet file (from `vqft ingest`) or a folder in the paper's layout,
seeds/<source>/<doc>/matched_pairs.yaml. Accepted problems go to -o; seeds the model could not make verifiable
(with the reason) and failed requests (with the error) to <output>.rejected.jsonl. Re-running adapts only the
seeds without an outcome and retries the failed ones.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from release.cli import CommandError
from release.commands.llm_options import add_llm_arguments, llm_config, read_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "seeds", type=Path, help="Seed JSONL/Parquet, or a seeds/ folder with matched_pairs.yaml"
    )
    parser.add_argument("-o", "--output", type=Path, required=True, help="adapted problems JSONL")
    parser.add_argument(
        "--config", type=Path, help="YAML with an llm: block and answer_kind, temperature, ..."
    )
    parser.add_argument("--answer-kind", choices=("code", "symbolic", "categorical"), default=None)
    add_llm_arguments(parser)


def settings_from(data: dict, args: argparse.Namespace):
    from curation.adapt import AdaptSettings

    fields = ("answer_kind", "temperature", "max_tokens", "max_repairs", "verify_timeout", "topic", "level")
    settings = AdaptSettings(**{k: data[k] for k in fields if k in data})
    return replace(settings, answer_kind=args.answer_kind) if args.answer_kind else settings


def run(args: argparse.Namespace) -> int:
    from curation.adapt import SeedError, run_adapt
    from generation.llm import LLMClient, run_sync

    data = read_config(args.config)
    config = llm_config(data.get("llm"), args, f"{args.config or 'adapt'}: llm")
    settings = settings_from(data, args)

    async def main():
        async with LLMClient(config) as client:
            counts = await run_adapt(
                args.seeds, args.output, client, settings, concurrency=config.max_concurrency
            )
            return counts, client.meter

    try:
        counts, meter = run_sync(main())
    except SeedError as exc:
        raise CommandError(str(exc)) from None
    for status, count in sorted(counts.items()):
        print(f"{status:<10} {count:>6}")
    print(meter.table())
    print(f"-> {args.output}")
    return 0
