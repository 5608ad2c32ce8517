"""``vqft``: the one command-line entry point. Each subcommand lives in ``release/commands/<name>.py``."""

from __future__ import annotations

import argparse
import importlib
import sys

from release.errors import CommandError

__all__ = ["COMMANDS", "CommandError", "build_parser", "main"]

# name -> (module, one-line help). Later issues add generate, adapt, qc, solve, ingest, dedup, ...
COMMANDS: dict[str, tuple[str, str]] = {
    "verify": ("release.commands.verify", "grade model responses against problems' answers"),
    "generate": ("release.commands.generate", "generate problems (cas: computer-algebra families)"),
    "ingest": ("release.commands.ingest", "extract human-written problems (arXiv, PDF) into Seed records"),
    "adapt": ("release.commands.adapt", "rewrite human-written seed problems into verifiable ones"),
    "qc": ("release.commands.qc", "score problems with LLM judges and keep the good ones"),
    "solve": (
        "release.commands.solve",
        "solve problems with an independent model; keep the solved ones (pass@k)",
    ),
    "traces": ("release.commands.traces", "sample teacher reasoning traces and keep the verified ones"),
    "pipeline": ("release.commands.pipeline", "generate/adapt -> qc -> solve in one resumable run"),
    "dedup": ("release.commands.dedup", "remove exact and near-duplicate records (MinHash LSH)"),
    "decontam": ("release.commands.decontam", "drop problems that overlap evaluation benchmarks"),
    "release": (
        "release.commands.release",
        "build, validate and push dataset releases (Hub-ready Parquet + card)",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vqft",
        description="verifiable-qft: build, curate, verify and publish reasoning datasets for QFT.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(
            name,
            help=help_text,
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 0
    try:
        return int(args.run(args) or 0)
    except CommandError as exc:
        print(f"vqft {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"vqft {args.command}: interrupted", file=sys.stderr)
        return 130
    except ValueError as exc:
        # A bad record in an input file, wherever a command reads one: its message already names the file,
        # line and field. (Imported here so `vqft --help` does not load the record layer.)
        from curation.records.io import RecordError

        if not isinstance(exc, RecordError):
            raise
        print(f"vqft {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
