"""Run generate/adapt -> qc -> solve from one config, like the paper's pipeline; resumable.

examples:
  vqft pipeline generation/configs/pipeline-openai.yaml
  vqft pipeline generation/configs/pipeline-vllm.yaml --skip-qc

The config has output_dir, a default llm: block, and a section per stage (generate, adapt, qc, solve); see
generation/pipeline.py and the README. Re-running the same command does only what is missing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from release.cli import CommandError
from release.commands.llm_options import read_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", type=Path, help="pipeline YAML")
    for stage in ("generate", "adapt", "qc", "solve"):
        parser.add_argument(f"--skip-{stage}", action="store_true", help=f"leave out the {stage} stage")


def run(args: argparse.Namespace) -> int:
    from curation.adapt import SeedError
    from generation.llm import ConfigError, run_sync
    from generation.pipeline import STAGES, PipelineError, run_pipeline
    from generation.synthetic import SyntheticConfigError

    data = read_config(args.config)
    skip = tuple(stage for stage in STAGES if getattr(args, f"skip_{stage}"))
    try:
        counts = run_sync(run_pipeline(data, skip, str(args.config)))
    except (PipelineError, ConfigError, SyntheticConfigError, SeedError, TypeError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    for stage, stage_counts in counts.items():
        summary = ", ".join(f"{status} {count}" for status, count in sorted(stage_counts.items()))
        print(f"{stage:<9} {summary}")
    print(f"-> {data['output_dir']}")
    return 0
