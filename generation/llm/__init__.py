"""The LLM client every generation stage uses: OpenAI-compatible endpoints (OpenAI, vLLM servers, providers) or
the offline vLLM engine, with concurrency limits, retries, a response cache, usage accounting and validated
structured output. See ``generation.llm.client`` for the details."""

from generation.llm.cache import ResponseCache, request_key
from generation.llm.client import (
    Completion,
    LLMClient,
    LLMError,
    Sample,
    StructuredOutputError,
    run_sync,
    split_reasoning,
)
from generation.llm.config import ConfigError, LLMConfig, read_config_file
from generation.llm.usage import UsageMeter

__all__ = [
    "Completion",
    "ConfigError",
    "read_config_file",
    "LLMClient",
    "LLMConfig",
    "LLMError",
    "ResponseCache",
    "Sample",
    "StructuredOutputError",
    "UsageMeter",
    "request_key",
    "run_sync",
    "split_reasoning",
]
