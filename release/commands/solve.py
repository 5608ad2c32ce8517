"""Have an independent model solve each problem up to k times; keep the problems it solves.

examples:
  vqft solve kept.jsonl -o verified.jsonl --model Qwen/Qwen3-32B --base-url http://localhost:8000/v1 --k 4

Each attempt is graded by the verifier; the pass@k record goes on the problem (`solver`). Unsolved problems,
and problems whose requests failed for good (with the error), go to <output>.unsolved.jsonl. Re-running solves
only what is missing and retries the failed ones.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from release.cli import CommandError
from release.commands.llm_options import add_llm_arguments, llm_config, read_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("problems", type=Path, help="problems JSONL")
    parser.add_argument("-o", "--output", type=Path, required=True, help="solved problems JSONL")
    parser.add_argument("--config", type=Path, help="YAML with an llm: block and k, temperature, max_tokens")
    parser.add_argument("--k", type=int, default=None, help="attempts per problem (default 4)")
    parser.add_argument(
        "--no-early-stop", action="store_true", help="make all k attempts even after a correct one"
    )
    add_llm_arguments(parser)


def settings_from(data: dict, args: argparse.Namespace):
    from generation.solve import SolveSettings

    options = {k: data[k] for k in ("k", "temperature", "max_tokens", "verify_timeout") if k in data}
    if args.k is not None:
        options["k"] = args.k
    if args.no_early_stop:
        options["early_stop"] = False
    settings = SolveSettings(**options)
    if settings.k < 1:
        raise CommandError(f"k must be at least 1, got {settings.k}")
    return settings


def run(args: argparse.Namespace) -> int:
    from generation.llm import LLMClient, run_sync
    from generation.solve import run_solve

    if not args.problems.is_file():
        raise CommandError(f"{args.problems}: no such problems file")
    data = read_config(args.config)
    config = llm_config(data.get("llm"), args, f"{args.config or 'solve'}: llm")
    settings = settings_from(data, args)

    async def main():
        async with LLMClient(config) as client:
            return await run_solve(args.problems, args.output, client, settings,
                                   concurrency=config.max_concurrency), client.meter  # fmt: skip

    counts, meter = run_sync(main())
    for status, count in sorted(counts.items()):
        print(f"{status:<10} {count:>6}")
    print(meter.table())
    print(f"-> {args.output}")
    return 0
