"""LLMClient against the scripted OpenAI-compatible server: retries and their limits, Retry-After, the cache,
n samples with servers that ignore n, reasoning, structured output and its repair loop, usage accounting."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from generation.llm import LLMClient, LLMConfig, LLMError, StructuredOutputError
from tests.openai_server import (
    drop,
    error,
    hang,
    ignore_n,
    json_reply,
    malformed_json,
    reply,
    truncated,
    truncated_json_content,
)

USER = [{"role": "user", "content": "What is 2+2?"}]
SCHEMA = {"type": "object", "required": ["value"], "properties": {"value": {"type": "integer"}}}


def _config(server, tmp_path, **overrides) -> LLMConfig:
    options = dict(model="test-model", base_url=server.url + "/v1", cache=tmp_path / "cache.sqlite",
                   backoff_base=0.01, backoff_max=0.05, timeout=5.0, max_retries=3)  # fmt: skip
    options.update(overrides)
    return LLMConfig(**options)


def _run(config: LLMConfig, call):
    async def main():
        async with LLMClient(config) as client:
            return await call(client), client

    return asyncio.run(main())


def test_a_reply_comes_back_with_reasoning_and_usage(server, tmp_path):
    server.script(
        reply(
            "The answer is 4.", reasoning_content="2+2=4", usage={"prompt_tokens": 7, "completion_tokens": 5}
        )
    )
    completion, client = _run(_config(server, tmp_path), lambda c: c.complete(USER, stage="solve"))
    sample = completion.samples[0]
    assert (sample.text, sample.reasoning, sample.finish_reason) == ("The answer is 4.", "2+2=4", "stop")
    assert client.meter.to_dict()["solve"]["prompt_tokens"] == 7


def test_think_tags_are_split_when_the_server_sends_no_reasoning_field(server, tmp_path):
    server.script(reply("<think>add</think>\\boxed{4}"))
    completion, _ = _run(_config(server, tmp_path), lambda c: c.complete(USER))
    assert (completion.text, completion.samples[0].reasoning) == ("\\boxed{4}", "add")


def test_429_waits_for_retry_after_then_succeeds(server, tmp_path):
    server.script(error(429, "slow down", retry_after=1), reply("4"))
    start = time.monotonic()
    completion, client = _run(_config(server, tmp_path), lambda c: c.complete(USER, stage="s"))
    assert completion.text == "4"
    assert time.monotonic() - start >= 1.0
    assert client.meter.to_dict()["s"]["retries"] == 1


@pytest.mark.parametrize("fault", [error(500), error(503), drop(), truncated(), malformed_json()],
                         ids=["500", "503", "drop", "truncated", "malformed"])  # fmt: skip
def test_transient_faults_are_retried(server, tmp_path, fault):
    server.script(fault, reply("4"))
    completion, _ = _run(_config(server, tmp_path), lambda c: c.complete(USER))
    assert completion.text == "4"
    assert len(server.chat_requests) == 2


def test_a_hang_past_the_timeout_is_retried(server, tmp_path):
    server.script(hang(3), reply("4"))
    completion, _ = _run(_config(server, tmp_path, timeout=0.5), lambda c: c.complete(USER))
    assert completion.text == "4"


def test_a_request_that_keeps_failing_raises_with_its_kind_and_attempts(server, tmp_path):
    server.set_default(error(503, "down"))
    with pytest.raises(LLMError) as info:
        _run(_config(server, tmp_path, max_retries=2), lambda c: c.complete(USER, stage="gen"))
    assert (info.value.kind, info.value.attempts, info.value.stage) == ("http 503", 3, "gen")
    assert len(server.chat_requests) == 3


def test_a_bad_request_is_not_retried(server, tmp_path):
    server.script(error(400, "bad messages"))
    with pytest.raises(LLMError, match="http 400 after 1 attempt"):
        _run(_config(server, tmp_path), lambda c: c.complete(USER))
    assert len(server.chat_requests) == 1


def test_a_cached_request_costs_nothing_on_a_rerun(server, tmp_path):
    server.script(reply("4"))
    config = _config(server, tmp_path)
    _run(config, lambda c: c.complete(USER, temperature=0.0))
    completion, client = _run(config, lambda c: c.complete(USER, temperature=0.0))
    assert completion.cached and completion.text == "4"
    assert len(server.chat_requests) == 1
    assert client.meter.to_dict()["default"]["cache_hits"] == 1


def test_a_different_sampling_parameter_is_a_different_request(server, tmp_path):
    config = _config(server, tmp_path)
    _run(config, lambda c: c.complete(USER, temperature=0.0))
    _run(config, lambda c: c.complete(USER, temperature=0.7))
    assert len(server.chat_requests) == 2


def test_n_samples_come_from_one_request(server, tmp_path):
    server.script(reply(["a", "b", "c"]))
    completion, _ = _run(_config(server, tmp_path), lambda c: c.complete(USER, n=3, temperature=1.0))
    assert [s.text for s in completion.samples] == ["a", "b", "c"]
    assert server.chat_requests[0]["n"] == 3


def test_a_server_that_ignores_n_is_topped_up_with_separate_requests(server, tmp_path):
    server.script(ignore_n("a"), reply("b"), reply("c"))
    completion, _ = _run(_config(server, tmp_path), lambda c: c.complete(USER, n=3, temperature=1.0))
    assert sorted(s.text for s in completion.samples) == ["a", "b", "c"]
    assert [r.get("n", 1) for r in server.chat_requests] == [3, 1, 1]


def test_structured_output_sends_the_schema_and_validates(server, tmp_path):
    server.script(json_reply({"value": 4}))
    (value, _), _ = _run(_config(server, tmp_path), lambda c: c.complete_json(USER, SCHEMA, name="answer"))
    assert value == {"value": 4}
    sent = server.chat_requests[0]["response_format"]
    assert sent == {"type": "json_schema", "json_schema": {"name": "answer", "schema": SCHEMA}}


def test_invalid_json_gets_a_repair_request_that_shows_the_error(server, tmp_path):
    server.script(json_reply({"value": "four"}), json_reply({"value": 4}))
    (value, _), _ = _run(_config(server, tmp_path), lambda c: c.complete_json(USER, SCHEMA))
    assert value == {"value": 4}
    repair = server.chat_requests[1]["messages"][-1]["content"]
    assert repair.startswith("Your reply does not match the schema at value: 'four' is not of type 'integer'")


def test_cut_off_json_says_it_was_cut_off(server, tmp_path):
    server.script(truncated_json_content(), json_reply({"value": 4}))
    _run(_config(server, tmp_path), lambda c: c.complete_json(USER, SCHEMA))
    assert "cut off at max_tokens" in server.chat_requests[1]["messages"][-1]["content"]


def test_repairs_are_bounded(server, tmp_path):
    server.set_default(reply("not json at all"))
    with pytest.raises(StructuredOutputError, match="structured after 3 attempt"):
        _run(_config(server, tmp_path, repair_attempts=2), lambda c: c.complete_json(USER, SCHEMA))
    assert len(server.chat_requests) == 3


def test_a_server_without_json_schema_support_falls_back_to_json_mode(server, tmp_path):
    server.on(lambda body: (body.get("response_format") or {}).get("type") == "json_schema",
              error(400, "response_format json_schema is not supported"))  # fmt: skip
    server.set_default(json_reply({"value": 4}))
    (value, _), _ = _run(_config(server, tmp_path), lambda c: c.complete_json(USER, SCHEMA))
    assert value == {"value": 4}
    assert server.chat_requests[-1]["response_format"] == {"type": "json_object"}


def test_concurrency_is_limited(server, tmp_path):
    server.delay = 0.05

    async def many(client):
        return await asyncio.gather(
            *(client.complete([{"role": "user", "content": str(i)}]) for i in range(40))
        )

    _run(_config(server, tmp_path, max_concurrency=4), many)
    assert server.max_concurrency_seen <= 4


def test_the_api_key_is_sent_as_bearer_and_never_cached(server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-secret")
    _run(_config(server, tmp_path), lambda c: c.complete(USER))
    assert server.chat_requests[0]["_headers"]["authorization"] == "Bearer sk-test-secret"
    assert b"sk-test-secret" not in (tmp_path / "cache.sqlite").read_bytes()
    assert "sk-test-secret" not in json.dumps(server.chat_requests[0]["messages"])
