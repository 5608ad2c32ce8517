"""Sample reasoning traces from a teacher model, keep the ones the verifier accepts (rejection sampling).

examples:
  vqft traces problems.jsonl -o runs/traces --model Qwen/QwQ-32B --base-url http://localhost:8000/v1 --samples 8
  vqft traces problems.jsonl -o runs/traces --model M --base-url http://gpu1:8000/v1 --base-url http://gpu2:8000/v1
      --samples 8 --target-tokens 200M --max-tokens-per-trace 16384 --tokenizer hf:Qwen/Qwen2.5-7B-Instruct
  vqft traces problems.jsonl -o runs/traces --model Qwen/QwQ-32B --engine vllm      # offline engine, local GPUs

Writes DIR/traces.jsonl (kept traces; a release spec's traces config reads it), DIR/pass_rates.jsonl,
DIR/rejected.jsonl (with reasons), DIR/summary.json, and the resume log DIR/samples.log. Kill it at any
point and run the same command again: finished samples are kept exactly once and the rest are sampled (cached
responses cost nothing).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from release.cli import CommandError
from release.commands.llm_options import add_llm_arguments, llm_config, read_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("problems", type=Path, help="problems JSONL/Parquet")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    parser.add_argument("--config", type=Path, help="YAML with an llm: block and the options below")
    parser.add_argument("--samples", type=int, default=None, help="samples per problem, K (default 4)")
    parser.add_argument("--target-tokens", default=None, help="stop at this many kept tokens, e.g. 200M")
    parser.add_argument("--max-tokens-per-trace", type=int, default=None, help="max_tokens of each sample")
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--system-prompt", type=Path, default=None, help="file with the system prompt")
    parser.add_argument("--keep", choices=("correct", "all"), default=None, help="which samples to keep")
    parser.add_argument("--per-problem-cap", type=int, default=None, help="max kept traces per problem")
    parser.add_argument(
        "--tokenizer", default=None, help="counts num_tokens: hf:NAME, file:PATH or pretokens:gpt2"
    )
    parser.add_argument("--engine", choices=("openai", "vllm"), default=None, help="vllm: the offline engine")
    add_llm_arguments(parser, several_endpoints=True)


def run(args: argparse.Namespace) -> int:
    from curation.records.tokens import TokenizerError, check_tokenizer_name
    from generation.llm import run_sync
    from generation.traces import TracesConfig, run_traces
    from release.spec import parse_count

    if not args.problems.is_file():
        raise CommandError(f"{args.problems}: no such problems file")
    data = read_config(args.config)
    urls = list(args.base_url or [])
    args.base_url = urls[0] if urls else None
    llm = llm_config(data.pop("llm", None), args, f"{args.config or 'traces'}: llm")
    if args.engine:
        llm = replace(llm, engine=args.engine)
    options = {k.replace("-", "_"): v for k, v in data.items()}
    for key in (
        "samples",
        "target_tokens",
        "max_tokens_per_trace",
        "temperature",
        "keep",
        "per_problem_cap",
        "tokenizer",
    ):
        value = getattr(args, key)
        if value is not None:
            options[key] = value
    if options.get("target_tokens") is not None:
        try:
            options["target_tokens"] = parse_count(options["target_tokens"])
        except ValueError:
            raise CommandError(
                f"--target-tokens {options['target_tokens']!r} is not a count; write e.g. 200M"
            ) from None
    if args.system_prompt is not None:
        options["system_prompt"] = args.system_prompt.read_text(encoding="utf-8")
    try:
        check_tokenizer_name(options.get("tokenizer", "pretokens:gpt2"))
        config = TracesConfig(llm=llm, output=args.output, endpoints=tuple(urls), **options)
    except (TokenizerError, ValueError, TypeError) as exc:
        raise CommandError(str(exc)) from None
    summary = run_sync(run_traces(args.problems, config))
    print(f"this run: {dict(summary.counts)}; kept tokens in all: {summary.kept_tokens:,}")
    for reason, count in summary.reasons.most_common():
        print(f"  dropped {count:>6}  {reason}")
    if summary.budget_reached:
        print(f"token budget {config.target_tokens:,} reached")
    print(f"-> {args.output / 'traces.jsonl'}")
    return 0
