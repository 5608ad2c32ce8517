"""Small release specs for the tests: a few CAS families, a few dozen problems, built in seconds."""

from __future__ import annotations

from pathlib import Path

SMALL_SPEC = """\
name: qft-small
version: 0.0.1
repo_id: test-org/qft-small
license: apache-2.0
pretty_name: Small test release
description: A small release for the tests.
citation: "@misc{{small}}"
tokenizer: {tokenizer}
tags: [physics]
limitations: [Tiny.]
configs:
  problems:
    type: problems
    description: Problems.
    source:
      cas: {{families: [two_body_decay, colour_factor, mass_dimension, dirac_trace], n: {n}, seed: 0}}
{problem_extra}  sft:
    type: sft
    description: Chats.
    source: {{config: problems}}
{extra_configs}split:
{split}
shards:
{shards}
"""

GROUP_SPLIT = "  by: group\n  group: source.family\n  fractions: {train: 0.75, test: 0.25}\n  seed: 0"


def write_spec(
    folder: Path,
    *,
    n: int = 40,
    tokenizer: str = "pretokens:gpt2",
    split: str = GROUP_SPLIT,
    shards: str = "  max_rows: 12",
    problem_extra: str = "",
    extra_configs: str = "",
    name: str = "small.yaml",
) -> Path:
    """Write a spec into ``folder`` and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(
        SMALL_SPEC.format(
            n=n,
            tokenizer=tokenizer,
            split=split,
            shards=shards,
            problem_extra=problem_extra,
            extra_configs=extra_configs,
        )
    )
    return path
