"""Command-line options shared by the commands that talk to an LLM (not a subcommand itself)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from release.errors import CommandError


def add_llm_arguments(parser: argparse.ArgumentParser, *, several_endpoints: bool = False) -> None:
    group = parser.add_argument_group(
        "LLM endpoint (over the config's llm: block and OPENAI_BASE_URL/OPENAI_API_KEY)"
    )
    group.add_argument("--model", default=None, help="model name at the endpoint")
    if several_endpoints:
        group.add_argument(
            "--base-url",
            action="append",
            default=None,
            help="OpenAI-compatible base URL; repeat it to spread the work over several servers",
        )
    else:
        group.add_argument(
            "--base-url", default=None, help="OpenAI-compatible base URL, e.g. http://localhost:8000/v1"
        )
    group.add_argument("--max-concurrency", type=int, default=None, help="requests in flight (default 32)")
    group.add_argument("--cache", default=None, help="response cache file (sqlite), or 'off'")


def read_config(path: Path | None) -> dict[str, Any]:
    """The YAML config as a dict (empty without one); a clear error for an unreadable file."""
    from generation.llm import ConfigError, read_config_file

    if path is None:
        return {}
    try:
        return read_config_file(path)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None


def llm_config(block: dict[str, Any] | None, args: argparse.Namespace, where: str):
    """LLMConfig from a YAML block, overridden by the command-line flags."""
    from generation.llm import ConfigError, LLMConfig

    try:
        config = LLMConfig.from_mapping(block, where)
        cache = None
        if args.cache is not None:
            cache = Path(args.cache) if args.cache not in ("off", "none") else None
        config = config.with_overrides(
            model=args.model, base_url=args.base_url, max_concurrency=args.max_concurrency
        )
        if args.cache is not None:
            from dataclasses import replace

            config = replace(config, cache=cache)
        return config.require_model()
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
