"""LLMClient: one asynchronous client for any OpenAI-compatible chat endpoint (or the offline vLLM engine).

    client = LLMClient(LLMConfig(model="Qwen/Qwen2.5-72B-Instruct", base_url="http://localhost:8000/v1"))
    completion = await client.complete([{"role": "user", "content": "2+2?"}], stage="solve", n=4)
    data, completion = await client.complete_json(messages, schema, stage="generate")

What it adds to the ``openai`` package:

- a concurrency limit (``max_concurrency`` requests in flight; retries wait outside it);
- retries with exponential backoff and jitter on 429, 5xx, timeouts, dropped connections and malformed bodies,
  honouring ``Retry-After``; other 4xx fail at once (retrying a bad request only burns quota);
- a persistent sqlite cache keyed by the full request (model, messages, sampling parameters, ``n``, response
  format; not the URL or the key), so re-runs cost nothing and a killed run resumes;
- usage and cost per stage (``client.meter``);
- reasoning separated from the answer: the ``reasoning_content``/``reasoning`` field where the server sends one
  (vLLM, DeepSeek), else ``<think>...</think>`` in the text (an unclosed ``<think>`` means no answer yet);
- ``n`` samples per request, topped up with separate requests when a server returns fewer choices (and, once
  seen, asked for separately from the start);
- structured output: JSON schema (or JSON mode, or plain instructions, falling back when the server refuses a
  ``response_format``) validated on arrival with ``jsonschema``, and a bounded repair loop that shows the model
  its error.

A request that still fails after its retries raises ``LLMError`` with the stage, the kind of failure and the
attempts, so a stage can record it as failed instead of dropping it.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from generation.llm.cache import ResponseCache, request_key
from generation.llm.config import LLMConfig
from generation.llm.usage import UsageMeter

Message = dict[str, str]
RETRY_AFTER_CAP = 300.0  # seconds; a server asking for longer is treated as this


class LLMError(RuntimeError):
    """A request that failed for good: ``kind`` is ``http <status>``, ``timeout``, ``connection``,
    ``malformed`` or ``structured``; ``attempts`` how many tries it took."""

    def __init__(self, stage: str, kind: str, message: str, attempts: int = 1, status: int | None = None):
        self.stage = stage
        self.kind = kind
        self.attempts = attempts
        self.status = status
        super().__init__(f"{stage}: {kind} after {attempts} attempt(s): {message}")

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "kind": self.kind, "attempts": self.attempts, "message": str(self)}


@dataclass(frozen=True)
class Sample:
    """One choice: the answer text (reasoning removed), the reasoning, and why generation stopped."""

    text: str
    reasoning: str
    finish_reason: str | None

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


@dataclass(frozen=True)
class Completion:
    samples: tuple[Sample, ...]
    model: str
    prompt_tokens: int
    completion_tokens: int
    cached: bool
    key: str

    @property
    def text(self) -> str:
        """The first sample's answer text."""
        return self.samples[0].text

    def to_dict(self) -> dict[str, Any]:
        return {
            "samples": [
                {"text": s.text, "reasoning": s.reasoning, "finish_reason": s.finish_reason}
                for s in self.samples
            ],
            "model": self.model,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], key: str, cached: bool) -> Completion:
        return cls(
            samples=tuple(Sample(s["text"], s["reasoning"], s["finish_reason"]) for s in data["samples"]),
            model=data["model"],
            prompt_tokens=data["prompt_tokens"],
            completion_tokens=data["completion_tokens"],
            cached=cached,
            key=key,
        )


_THINK_OPEN = re.compile(r"<think>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think>", re.IGNORECASE)


def split_reasoning(content: str | None, reasoning: str | None = None) -> tuple[str, str]:
    """(answer text, reasoning) of a message: the server's reasoning field wins; else ``<think>`` tags, where
    everything up to the last ``</think>`` is reasoning and an unclosed ``<think>`` leaves no answer."""
    content = content or ""
    if reasoning:
        return content.strip(), reasoning.strip()
    closes = list(_THINK_CLOSE.finditer(content))
    if closes:
        last = closes[-1]
        head = content[: last.start()]
        opening = _THINK_OPEN.search(head)
        thought = head[opening.end() :] if opening else head
        return content[last.end() :].strip(), thought.strip()
    opening = _THINK_OPEN.search(content)
    if opening:
        return "", content[opening.end() :].strip()
    return content.strip(), ""


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return min(float(value) / 1000, RETRY_AFTER_CAP)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return min(max(float(value), 0.0), RETRY_AFTER_CAP)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return None if parsed is None else min(max(parsed.timestamp() - time.time(), 0.0), RETRY_AFTER_CAP)


def _status_text(exc: Exception) -> str:
    """The error's text plus the server's own explanation: the openai package keeps only an OpenAI-style
    ``error.message``, and FastAPI-based servers (vLLM, transformers serve) answer ``{"detail": ...}``."""
    text = str(exc)
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("message") or body.get("error")
        detail_text = json.dumps(detail, ensure_ascii=False) if not isinstance(detail, str) else detail
        if detail and detail_text not in text:
            text = f"{text}: {detail_text[:500]}"
    elif isinstance(body, str) and body and body not in text:
        text = f"{text}: {body[:500]}"
    return text


def _extract_json(text: str) -> Any:
    """The JSON value in a reply: the whole text, a fenced ```json block, or the outermost {...}."""
    candidates = [text.strip()]
    fence = re.search(r"```(?:json)?\s*\n(.*?)```", text, re.DOTALL)
    if fence:
        candidates.append(fence.group(1).strip())
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start : end + 1])
    error: Exception | None = None
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError as exc:
            error = exc
    assert error is not None
    raise error


class StructuredOutputError(LLMError):
    """The model did not produce valid JSON for the schema within the repair attempts."""


class LLMClient:
    """See the module docstring. One client per config; share it between the tasks of a stage."""

    def __init__(
        self,
        config: LLMConfig,
        *,
        meter: UsageMeter | None = None,
        cache: ResponseCache | None = None,
        engine: Any = None,
    ):
        self.config = config.require_model()
        self.meter = meter or UsageMeter(config.prices)
        if cache is None and config.cache is not None:
            cache = ResponseCache(config.cache)
        self.cache = cache
        self._semaphore = asyncio.Semaphore(config.max_concurrency)
        self._engine = engine
        self._client = None
        self._n_supported = True
        self._structured_mode = config.structured_output
        if engine is None and config.engine == "vllm":
            from generation.llm.vllm_engine import VLLMEngine

            self._engine = VLLMEngine(config.model, max_batch=config.max_concurrency)

    def _openai(self):
        if self._client is None:
            import openai

            http_client = None
            if self.config.http_transport == "aiohttp":
                try:
                    http_client = openai.DefaultAioHttpClient(timeout=self.config.timeout)
                except RuntimeError:  # aiohttp not installed: httpx it is
                    http_client = None
            # The openai client's own retries are off: ours honour Retry-After and count per stage.
            self._client = openai.AsyncOpenAI(
                base_url=self.config.base_url,
                api_key=self.config.api_key,
                timeout=self.config.timeout,
                max_retries=0,
                http_client=http_client,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ requests

    def _params(self, messages: Sequence[Message], n: int, options: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.config.model, "messages": [dict(m) for m in messages]}
        if n != 1:
            params["n"] = n
        for key in ("temperature", "top_p", "max_tokens", "seed", "stop", "response_format"):
            if options.get(key) is not None:
                params[key] = options[key]
        extra = {**self.config.extra_body, **(options.get("extra_body") or {})}
        if extra:
            params["extra_body"] = extra
        return params

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        stage: str = "default",
        n: int = 1,
        temperature: float | None = None,
        top_p: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
        stop: list[str] | None = None,
        response_format: dict[str, Any] | None = None,
        extra_body: dict[str, Any] | None = None,
    ) -> Completion:
        """``n`` samples for ``messages``, from the cache when this exact request was answered before."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        options = dict(temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed, stop=stop,
                       response_format=response_format, extra_body=extra_body)  # fmt: skip
        params = self._params(messages, n, options)
        key = request_key(params)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                completion = Completion.from_dict(hit, key, cached=True)
                self.meter.record(stage, 0, 0, cached=True)
                return completion
        samples: list[Sample] = []
        prompt_tokens = completion_tokens = 0
        model = self.config.model
        first_n = n if self._n_supported else 1
        # The first request asks for all n; a server that ignores n gets topped up one by one, concurrently.
        result = await self._request(self._params(messages, first_n, options), stage)
        samples.extend(result[0])
        prompt_tokens, completion_tokens, model = result[1], result[2], result[3]
        missing = n - len(samples)
        if missing > 0:
            if first_n > 1:
                self._n_supported = False
            extra_results = await asyncio.gather(
                *(self._request(self._params(messages, 1, options), stage) for _ in range(missing))
            )
            for got in extra_results:
                samples.extend(got[0])
                completion_tokens += got[2]
        completion = Completion(tuple(samples[:n]), model, prompt_tokens, completion_tokens, False, key)
        if self.cache is not None:
            self.cache.put(key, completion.to_dict())
        self.meter.record(stage, prompt_tokens, completion_tokens, cached=False)
        return completion

    def _backoff(self, attempt: int) -> float:
        delay = min(self.config.backoff_max, self.config.backoff_base * 2**attempt)
        return delay * (0.5 + random.random())

    async def _request(self, params: dict[str, Any], stage: str) -> tuple[list[Sample], int, int, str]:
        """One HTTP request (or engine call) with retries: (samples, prompt tokens, completion tokens, model)."""
        import openai

        attempts = self.config.max_retries + 1
        for attempt in range(attempts):
            try:
                async with self._semaphore:
                    if self._engine is not None:
                        return await self._engine.chat(params)
                    response = await self._openai().chat.completions.create(**params)
                return self._parse(response)
            except openai.RateLimitError as exc:
                wait = _retry_after(exc)
                failure = ("http 429", str(exc), 429)
                wait = self._backoff(attempt) if wait is None else wait
            except openai.APIStatusError as exc:
                failure = (f"http {exc.status_code}", _status_text(exc), exc.status_code)
                if exc.status_code < 500 and exc.status_code not in (408, 409):
                    self.meter.failure(stage)
                    raise LLMError(stage, failure[0], failure[1], attempt + 1, exc.status_code) from None
                retry_after = _retry_after(exc)
                wait = self._backoff(attempt) if retry_after is None else retry_after
            except openai.APITimeoutError as exc:
                failure, wait = ("timeout", str(exc) or "request timed out", None), self._backoff(attempt)
            except openai.APIConnectionError as exc:
                failure, wait = ("connection", str(exc) or "connection failed", None), self._backoff(attempt)
            except (openai.APIResponseValidationError, json.JSONDecodeError, _MalformedResponse) as exc:
                failure, wait = ("malformed", str(exc) or "malformed response", None), self._backoff(attempt)
            if attempt + 1 < attempts:
                self.meter.retry(stage)
                await asyncio.sleep(wait)
        self.meter.failure(stage)
        raise LLMError(stage, failure[0], failure[1], attempts, failure[2])

    @staticmethod
    def _parse(response: Any) -> tuple[list[Sample], int, int, str]:
        choices = getattr(response, "choices", None)
        if not choices:
            raise _MalformedResponse(f"response has no choices: {str(response)[:200]}")
        samples = []
        for choice in choices:
            message = choice.message
            if message is None:
                raise _MalformedResponse("a choice has no message")
            extra = getattr(message, "model_extra", None) or {}
            reasoning = (
                extra.get("reasoning_content")
                or extra.get("reasoning")
                or getattr(message, "reasoning", None)
            )
            text, thought = split_reasoning(
                message.content, reasoning if isinstance(reasoning, str) else None
            )
            samples.append(Sample(text, thought, choice.finish_reason))
        usage = getattr(response, "usage", None)
        prompt = getattr(usage, "prompt_tokens", 0) or 0
        completion = getattr(usage, "completion_tokens", 0) or 0
        return samples, prompt, completion, getattr(response, "model", None) or ""

    # ------------------------------------------------------------------ structured output

    @staticmethod
    def _format_for(mode: str, schema: dict[str, Any], name: str) -> dict[str, Any] | None:
        if mode == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}
        if mode == "json_object":
            return {"type": "json_object"}
        return None

    async def complete_json(
        self,
        messages: Sequence[Message],
        schema: dict[str, Any],
        *,
        stage: str = "default",
        name: str = "output",
        **options: Any,
    ) -> tuple[Any, Completion]:
        """A JSON value valid for ``schema``, with the completion it came from; ``StructuredOutputError`` when
        the model cannot produce one within ``repair_attempts`` repairs."""
        from jsonschema import Draft202012Validator

        validator = Draft202012Validator(schema)
        instruction = (
            "Reply with only a JSON object (no prose, no code fence) that follows this JSON schema:\n"
            + json.dumps(schema, ensure_ascii=False)
        )
        conversation = [*messages, {"role": "user", "content": instruction}] if messages[-1]["role"] != "user" else [
            *messages[:-1], {"role": "user", "content": messages[-1]["content"] + "\n\n" + instruction}]  # fmt: skip
        error = "no reply"
        for repair in range(self.config.repair_attempts + 1):
            completion = await self._complete_structured(conversation, schema, name, stage, options)
            text = completion.text
            try:
                value = _extract_json(text)
            except json.JSONDecodeError as exc:
                error = f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
                if completion.samples[0].truncated:
                    error += "; the reply was cut off at max_tokens, so be more concise"
            else:
                problems = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
                if not problems:
                    return value, completion
                first = problems[0]
                where = "/".join(str(p) for p in first.path) or "(top level)"
                error = f"does not match the schema at {where}: {first.message}"
            if repair == self.config.repair_attempts:
                break
            conversation = [
                *conversation,
                {"role": "assistant", "content": text[:20000]},
                {
                    "role": "user",
                    "content": f"Your reply {error}. Reply again with only the corrected JSON object.",
                },
            ]
        self.meter.failure(stage)
        raise StructuredOutputError(
            stage, "structured", f"the reply {error}", self.config.repair_attempts + 1
        )

    async def _complete_structured(
        self, conversation: list[Message], schema: dict, name: str, stage: str, options: dict[str, Any]
    ) -> Completion:
        """One completion with the strongest response_format the server accepts (json_schema, then
        json_object, then none). A weaker mode is remembered only once it worked, so a request refused for
        another reason (a wrong model name) raises its own error and leaves the client as it was."""
        mode = self._structured_mode
        first_error: LLMError | None = None
        while True:
            try:
                completion = await self.complete(
                    conversation, stage=stage, response_format=self._format_for(mode, schema, name), **options
                )
            except LLMError as exc:
                if exc.status not in (400, 422) or mode == "none":
                    raise first_error or exc from None
                first_error = first_error or exc
                mode = "json_object" if mode == "json_schema" else "none"
                continue
            self._structured_mode = mode
            return completion


class _MalformedResponse(Exception):
    """A 200 response without the shape of a chat completion."""


def run_sync(coroutine: Any) -> Any:
    """Run a coroutine from synchronous code (the CLI), in a fresh event loop."""
    return asyncio.run(coroutine)
