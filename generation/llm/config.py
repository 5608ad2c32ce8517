"""LLMConfig: which endpoint and model a stage talks to, and how hard it pushes.

Sources, later ones winning: defaults < the ``OPENAI_BASE_URL``/``OPENAI_API_KEY`` environment < a YAML ``llm:``
block < command-line flags. The API key is read from the environment (or ``api_key_env``) only, never from a
file that could be committed, and never shown in ``repr`` or logs.

    llm:
      base_url: http://localhost:8000/v1    # a vLLM server; omit for api.openai.com
      model: Qwen/Qwen2.5-72B-Instruct
      max_concurrency: 64
      timeout: 600
      max_retries: 6
      cache: .vqft-cache/llm.sqlite
      structured_output: json_schema        # json_schema | json_object | none
      prices: {input: 0.15, output: 0.60}   # USD per million tokens, for the cost report
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

STRUCTURED_MODES = ("json_schema", "json_object", "none")
DEFAULT_CACHE = Path(".vqft-cache") / "llm.sqlite"


class ConfigError(ValueError):
    """An llm configuration that cannot work; the message names the key and the fix."""


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A stage's YAML config (its ``llm:`` block and the stage's own keys) as a dict; an empty file is ``{}``.
    ConfigError names the file when it cannot be read or is not a mapping."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the config ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config must be a YAML mapping")
    return data


@dataclass(frozen=True)
class LLMConfig:
    """Endpoint, model and client behaviour for one stage."""

    model: str = ""
    base_url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    max_concurrency: int = 32
    timeout: float = 600.0
    max_retries: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    cache: Path | None = DEFAULT_CACHE
    structured_output: str = "json_schema"
    repair_attempts: int = 2
    engine: str = "openai"  # openai | vllm (the offline engine, with the vllm extra)
    # aiohttp's connection pool costs far less per request than httpx's at high concurrency (see BENCHMARKS.md).
    http_transport: str = "aiohttp"
    prices: dict[str, float] = field(default_factory=dict)
    extra_body: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.max_concurrency < 1:
            raise ConfigError(f"llm.max_concurrency must be at least 1, got {self.max_concurrency}")
        if self.max_retries < 0:
            raise ConfigError(f"llm.max_retries must be at least 0, got {self.max_retries}")
        if self.timeout <= 0:
            raise ConfigError(f"llm.timeout must be positive, got {self.timeout}")
        if self.structured_output not in STRUCTURED_MODES:
            raise ConfigError(
                f"llm.structured_output {self.structured_output!r} is not one of {', '.join(STRUCTURED_MODES)}"
            )
        if self.http_transport not in ("aiohttp", "httpx"):
            raise ConfigError(f"llm.http_transport {self.http_transport!r} is not aiohttp or httpx")
        if self.engine not in ("openai", "vllm"):
            raise ConfigError(f"llm.engine {self.engine!r} is not openai or vllm")

    def __repr__(self) -> str:  # the key is never part of the config object, but say so plainly
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))
        return f"LLMConfig({shown})"

    @property
    def api_key(self) -> str:
        """The key from the environment; local servers (vLLM, transformers serve) accept any non-empty one."""
        return os.environ.get(self.api_key_env) or "EMPTY"

    def require_model(self) -> LLMConfig:
        """Self, or a ConfigError saying how to name the model."""
        if not self.model:
            raise ConfigError("no model given: pass --model NAME or set llm.model in the config")
        return self

    def with_overrides(self, **overrides: Any) -> LLMConfig:
        """A copy with the given non-None fields replaced (command-line flags over the YAML block)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_mapping(cls, data: dict[str, Any] | None, where: str = "llm") -> LLMConfig:
        """Build from a YAML ``llm:`` block, over the environment's ``OPENAI_BASE_URL``."""
        data = dict(data or {})
        if "api_key" in data:
            raise ConfigError(
                f"{where}: do not put the API key in a file; set OPENAI_API_KEY (or api_key_env)"
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; use {', '.join(sorted(known))}")
        if "api_key" in data:
            raise ConfigError(
                f"{where}: do not put the API key in a file; set OPENAI_API_KEY (or api_key_env)"
            )
        base = {"base_url": os.environ.get("OPENAI_BASE_URL") or None}
        if "cache" in data:
            data["cache"] = None if data["cache"] in (None, False, "none", "off") else Path(data["cache"])
        for key in ("timeout", "backoff_base", "backoff_max"):
            if key in data:
                data[key] = float(data[key])
        try:
            return cls(**{**base, **data})
        except TypeError as exc:
            raise ConfigError(f"{where}: {exc}") from None
