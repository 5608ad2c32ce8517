"""Generate problems. `vqft generate cas` writes computer-algebra problems whose answers sympy computes;
`vqft generate synthetic` has an LLM write problems from the topic taxonomy (see generation/configs/).

examples:
  vqft generate cas --list
  vqft generate cas --n 2500 --seed 0 -o cas.jsonl
  vqft generate cas --families dirac_trace,colour_factor --n 200 --level graduate -o traces.jsonl
  vqft generate synthetic --config generation/configs/synthetic-vllm.yaml --n 500 -o synthetic.jsonl

Generation is deterministic for a seed and never writes the same problem id twice; it stops before writing
anything when the chosen families cannot produce --n distinct problems (--list shows each family's capacity).
Every problem carries a symbolic answer and, in `code_answer`, the same answer in the paper's code format.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from release.cli import CommandError

SOURCES = ("cas", "synthetic")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", choices=SOURCES, help="what generates the problems (cas: computer algebra)")
    parser.add_argument(
        "--families", default="all", help="comma-separated family names, or 'all' (default); see --list"
    )
    parser.add_argument(
        "--n", type=int, default=None, help="number of problems (default: 100, or the config's)"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: 0, or the config's)")
    parser.add_argument("--level", default=None, help="keep only families at this level, e.g. graduate")
    parser.add_argument("-o", "--output", type=Path, help="problems JSONL to write")
    parser.add_argument("--list", action="store_true", help="list the families and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--config", type=Path, help="synthetic: the YAML config (llm: block, levels, answer_kinds...)"
    )
    from release.commands.llm_options import add_llm_arguments

    add_llm_arguments(parser)


def list_families() -> int:
    """Print every family with its level, topic and capacity."""
    from generation.cas import FAMILIES

    rows = [(f.name, f.level, f.topic, str(f.capacity())) for f in FAMILIES.values()]
    header = ("family", "level", "topic", "capacity")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print(
            "  ".join(
                cell.ljust(w) if i < 3 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    print(f"{len(rows)} families, {sum(f.capacity() for f in FAMILIES.values())} distinct problems in all")
    return 0


def run(args: argparse.Namespace) -> int:
    from generation.cas import CapacityError, generate, resolve_families

    if args.source == "synthetic":
        return run_synthetic_command(args)
    args.n = 100 if args.n is None else args.n
    args.seed = 0 if args.seed is None else args.seed
    if args.list:
        return list_families()
    if args.output is None:
        raise CommandError("-o/--output is required (the problems JSONL to write), e.g. -o cas.jsonl")
    if args.n < 1:
        raise CommandError(f"--n must be at least 1, got {args.n}")
    try:
        families = resolve_families(args.families, args.level)
    except KeyError as exc:
        raise CommandError(exc.args[0]) from None
    from curation.records.io import write_jsonl

    counts: Counter[str] = Counter()
    seconds: defaultdict[str, float] = defaultdict(float)
    start = time.perf_counter()

    def timed(stream):
        # Time spent inside each family's build, so problems/s is per family, not per run.
        last = time.perf_counter()
        for problem in stream:
            now = time.perf_counter()
            family = problem.source.provenance["family"]
            counts[family] += 1
            seconds[family] += now - last
            yield problem
            last = time.perf_counter()

    try:
        stream = timed(generate([f.name for f in families], n=args.n, seed=args.seed))
        if not args.quiet and sys.stderr.isatty():
            from tqdm import tqdm

            stream = tqdm(stream, total=args.n, desc="generate cas", unit="problem")
        write_jsonl(args.output, stream)
    except CapacityError as exc:
        raise CommandError(str(exc)) from None
    elapsed = time.perf_counter() - start
    print_summary(families, counts, seconds, elapsed, args.output)
    return 0


def print_summary(families, counts: Counter, seconds: dict, elapsed: float, output: Path) -> None:
    """One line per family: problems written and problems per second of that family's build time."""
    width = max(len("family"), *(len(f.name) for f in families))
    print(f"{'family':<{width}}  {'count':>6}  {'problems/s':>10}")
    for family in families:
        n = counts[family.name]
        rate = n / seconds[family.name] if seconds[family.name] > 0 else 0.0
        print(f"{family.name:<{width}}  {n:>6}  {rate:>10.0f}")
    total = sum(counts.values())
    print(
        f"{'total':<{width}}  {total:>6}  {total / max(elapsed, 1e-9):>10.0f}  ({elapsed:.1f}s) -> {output}"
    )


def run_synthetic_command(args: argparse.Namespace) -> int:
    """`vqft generate synthetic`: the LLM stage, resumable; prints counts, rejection reasons and usage."""
    from generation.llm import LLMClient, run_sync
    from generation.synthetic import SyntheticConfigError, run_synthetic, synthetic_config
    from release.commands.llm_options import llm_config, read_config

    if args.config is None:
        raise CommandError("synthetic generation needs --config CFG.yaml (see generation/configs/)")
    data = read_config(args.config)
    llm = llm_config(data.pop("llm", None), args, f"{args.config}: llm")
    flags = {"n": args.n, "seed": args.seed, "output": args.output}
    try:
        config = synthetic_config(
            {**data, **{k: v for k, v in flags.items() if v is not None}}, llm, str(args.config)
        )
    except (SyntheticConfigError, TypeError) as exc:
        raise CommandError(str(exc)) from None

    async def main():
        async with LLMClient(config.llm) as client:
            summary = await run_synthetic(config, client)
            return summary, client.meter

    summary, meter = run_sync(main())
    for status, count in sorted(summary.counts.items()):
        print(f"{status:<10} {count:>6}")
    for reason, count in summary.reasons.most_common(10):
        print(f"  {count:>5}  {reason}")
    print(meter.table())
    print(f"-> {config.output} (rejected: {config.rejected})")
    return 0
