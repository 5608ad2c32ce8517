"""tests.openai_server.ScriptedOpenAIServer driven by the real ``openai`` client (sync and async).

These tests also pin how the installed client reacts to each scripted fault (exception class, retry),
which the module docstring of ``tests/openai_server.py`` documents.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time

import openai
import pytest

from tests.openai_server import (
    ScriptedOpenAIServer,
    drop,
    error,
    hang,
    ignore_n,
    json_reply,
    malformed_json,
    raw,
    reply,
    truncated,
    truncated_json_content,
)

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "say something nice"}]


@pytest.fixture
def server():
    with ScriptedOpenAIServer(model="test-model") as srv:
        yield srv
        assert srv.errors == []


def sync_client(server: ScriptedOpenAIServer, **kwargs) -> openai.OpenAI:
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("timeout", 10)
    return openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", **kwargs)


def async_client(server: ScriptedOpenAIServer, **kwargs) -> openai.AsyncOpenAI:
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("timeout", 10)
    return openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="sk-test", **kwargs)


def ask(client: openai.OpenAI, content: str = "say something nice", **kwargs):
    return client.chat.completions.create(
        model="test-model", messages=[{"role": "user", "content": content}], **kwargs
    )


# ------------------------------------------------------------------------------------------ replies


def test_reply_content_finish_reason_usage_and_reasoning(server):
    server.script(reply("hello there world", reasoning_content="let me think", finish_reason="stop"))
    with sync_client(server) as client:
        resp = client.chat.completions.create(model="test-model", messages=MESSAGES)
    choice = resp.choices[0]
    assert choice.message.content == "hello there world"
    assert choice.message.role == "assistant"
    assert choice.finish_reason == "stop"
    assert resp.model == "test-model"
    assert resp.object == "chat.completion"
    # usage: rough word counts (prompt: "be brief" + "say something nice"; completion: content + reasoning)
    assert resp.usage is not None
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens, resp.usage.total_tokens) == (5, 6, 11)
    # reasoning_content is not a declared field, but the client keeps extra fields:
    assert choice.message.reasoning_content == "let me think"
    assert choice.message.model_extra == {"reasoning_content": "let me think"}
    assert choice.message.model_dump()["reasoning_content"] == "let me think"


def test_reply_explicit_usage_and_no_reasoning(server):
    usage = {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}
    server.script(reply("x", usage=usage, finish_reason="length"), reply("y", usage=False))
    with sync_client(server) as client:
        first, second = ask(client), ask(client)
    assert first.usage.total_tokens == 10 and first.choices[0].finish_reason == "length"
    assert "reasoning_content" not in (first.choices[0].message.model_extra or {})
    assert second.usage is None


def test_async_reply(server):
    server.script(reply("async hi", reasoning_content="r"))

    async def main():
        async with async_client(server) as client:
            return await client.chat.completions.create(model="test-model", messages=MESSAGES)

    resp = asyncio.run(main())
    assert resp.choices[0].message.content == "async hi"
    assert resp.choices[0].message.model_extra["reasoning_content"] == "r"


def test_n_choices_and_ignore_n(server):
    server.script(
        reply("same"), reply(["a", "b", "c"], reasoning_content=["ra", "rb", "rc"]), ignore_n("only")
    )
    with sync_client(server) as client:
        same = ask(client, n=3)
        different = ask(client, n=3)
        ignored = ask(client, n=3)
    assert [c.message.content for c in same.choices] == ["same"] * 3
    assert [c.index for c in same.choices] == [0, 1, 2]
    assert [c.message.content for c in different.choices] == ["a", "b", "c"]
    assert [c.message.reasoning_content for c in different.choices] == ["ra", "rb", "rc"]
    assert [c.message.content for c in ignored.choices] == ["only"]
    assert [r["n"] for r in server.chat_requests] == [3, 3, 3]


def test_json_helpers_and_response_format_recorded(server):
    server.script(json_reply({"statement": "abc", "ok": True}), truncated_json_content())
    with sync_client(server) as client:
        full = ask(client, response_format={"type": "json_object"})
        cut = ask(client, response_format={"type": "json_object"})
    assert json.loads(full.choices[0].message.content) == {"statement": "abc", "ok": True}
    assert cut.choices[0].finish_reason == "length"
    assert cut.choices[0].message.content == '{"statement": "abc'
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.choices[0].message.content)
    assert [r["response_format"] for r in server.requests] == [{"type": "json_object"}] * 2


def test_default_responder_and_recording(server):
    with sync_client(server) as client:
        assert ask(client).choices[0].message.content == "ok"
        server.set_default(lambda body: reply("echo: " + body["messages"][-1]["content"]))
        assert ask(client, "ping").choices[0].message.content == "echo: ping"
        models = client.models.list()
    assert [m.id for m in models.data] == ["test-model"]
    assert [r["_path"] for r in server.requests] == ["/v1/chat/completions"] * 2 + ["/v1/models"]
    first = server.requests[0]
    assert first["model"] == "test-model" and first["_method"] == "POST"
    assert first["_headers"]["authorization"] == "Bearer sk-test"
    assert first["_headers"]["x-stainless-retry-count"] == "0"
    assert server.counters["total"] == 3
    assert server.counters["/v1/chat/completions"] == 2
    assert server.counters["reply"] == 2


def test_legacy_completions(server):
    server.script(reply("completed text"))
    with sync_client(server) as client:
        resp = client.completions.create(model="test-model", prompt="one two")
    assert resp.choices[0].text == "completed text"
    assert resp.usage.prompt_tokens == 2


def test_stream_is_rejected_without_consuming_the_script(server):
    server.script(reply("kept"))
    with sync_client(server) as client:
        with pytest.raises(openai.BadRequestError, match="streaming is not supported"):
            ask(client, stream=True)
        assert ask(client).choices[0].message.content == "kept"
    assert server.counters["stream_rejected"] == 1


# ----------------------------------------------------------------------------------- status errors


def test_status_errors_map_to_client_exceptions(server):
    server.script(
        error(429, "slow down", retry_after=2, code="rate_limit_exceeded"),
        error(500, "boom"),
        error(503, "unavailable"),
        error(400, "bad prompt", code="invalid_prompt"),
    )
    with sync_client(server) as client:
        with pytest.raises(openai.RateLimitError) as rate:
            ask(client)
        with pytest.raises(openai.InternalServerError) as internal:
            ask(client)
        with pytest.raises(openai.InternalServerError) as unavailable:
            ask(client)
        with pytest.raises(openai.BadRequestError) as bad:
            ask(client)
    assert rate.value.status_code == 429
    assert rate.value.response.headers["retry-after"] == "2"
    assert rate.value.code == "rate_limit_exceeded" and rate.value.type == "rate_limit_error"
    assert rate.value.body == {
        "message": "slow down",
        "type": "rate_limit_error",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert "slow down" in str(rate.value)
    assert internal.value.status_code == 500 and "retry-after" not in internal.value.response.headers
    assert unavailable.value.status_code == 503
    assert bad.value.status_code == 400 and bad.value.code == "invalid_prompt"
    assert server.counters["error"] == 4


def test_default_retries_honour_retry_after(server):
    """With the client's default max_retries (2), 429 / 5xx are retried, sleeping Retry-After."""
    server.script(
        error(429, retry_after=0.05), error(503, headers={"retry-after-ms": "10"}), reply("finally")
    )
    with openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", timeout=10) as client:
        assert client.max_retries == 2
        resp = ask(client)
    assert resp.choices[0].message.content == "finally"
    assert [r["_headers"]["x-stainless-retry-count"] for r in server.requests] == ["0", "1", "2"]


def test_default_retries_skip_400_and_malformed_json(server):
    server.script(error(400), malformed_json(), reply("unused"))
    with openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", timeout=10) as client:
        with pytest.raises(openai.BadRequestError):
            ask(client)
        with pytest.raises(json.JSONDecodeError):
            ask(client)
    assert server.remaining_script == 1


# --------------------------------------------------------------------------------- transport faults


def test_hang_times_out_while_other_requests_are_served(server):
    server.on(lambda b: b["messages"][-1]["content"] == "slow", hang(5))

    async def main():
        async with async_client(server, timeout=0.5) as client:

            async def normal():
                t0 = time.perf_counter()
                resp = await client.chat.completions.create(
                    model="test-model", messages=[{"role": "user", "content": "fast"}]
                )
                return resp, time.perf_counter() - t0

            async def slow():
                await client.chat.completions.create(
                    model="test-model", messages=[{"role": "user", "content": "slow"}]
                )

            slow_task = asyncio.create_task(slow())
            for _ in range(500):  # wait until the server is hanging on the slow request
                if server.counters["hang"]:
                    break
                await asyncio.sleep(0.01)
            resp, elapsed = await normal()
            with pytest.raises(openai.APITimeoutError):
                await slow_task
            return resp, elapsed

    resp, elapsed = asyncio.run(main())
    assert resp.choices[0].message.content == "ok"
    assert elapsed < 0.5
    assert server.counters["hang"] == 1
    assert server.max_concurrency_seen == 2


def test_sync_hang_timeout_is_a_connection_error_subclass(server):
    server.script(hang(5))
    with sync_client(server, timeout=0.3) as client:
        with pytest.raises(openai.APITimeoutError) as exc:
            ask(client)
    assert isinstance(exc.value, openai.APIConnectionError)


def test_hang_then_answers_late(server):
    server.script(hang(0.1, then="late"))
    with sync_client(server) as client:
        assert ask(client).choices[0].message.content == "late"


def test_drop_and_truncated_are_connection_errors(server):
    server.script(drop(), truncated(), reply("still alive"))
    with sync_client(server) as client:
        with pytest.raises(openai.APIConnectionError) as dropped:
            ask(client)
        with pytest.raises(openai.APIConnectionError) as cut:
            ask(client)
        assert ask(client).choices[0].message.content == "still alive"
    assert not isinstance(dropped.value, openai.APITimeoutError)
    assert "without sending a response" in str(dropped.value.__cause__)
    assert "without sending complete message body" in str(cut.value.__cause__)


def test_async_drop_and_truncated(server):
    server.script(drop(), truncated())

    async def main():
        async with async_client(server) as client:
            for _ in range(2):
                with pytest.raises(openai.APIConnectionError):
                    await client.chat.completions.create(model="test-model", messages=MESSAGES)

    asyncio.run(main())


def test_default_retries_recover_from_drop_and_truncated(server):
    server.script(drop(), truncated(), reply("recovered"))
    with openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test", timeout=10) as client:
        assert ask(client).choices[0].message.content == "recovered"
    assert server.counters["total"] == 3


def test_malformed_json_and_non_json_bodies(server):
    server.script(
        malformed_json(), raw(200, "plain words", {"content-type": "text/plain"}), raw(418, {"x": 1})
    )
    with sync_client(server) as client:
        # a 200 application/json body that does not parse escapes as a bare JSONDecodeError
        with pytest.raises(json.JSONDecodeError) as exc:
            ask(client)
        assert not isinstance(exc.value, openai.OpenAIError)
        # a non-JSON content type comes back as a plain str from create()
        assert ask(client) == "plain words"
        with pytest.raises(openai.APIStatusError) as teapot:
            ask(client)
    assert teapot.value.status_code == 418 and teapot.value.body == {"x": 1}


# -------------------------------------------------------------------------------------- routing


def test_routes_take_precedence_over_the_fifo_script(server):
    server.on(lambda b: "alpha" in b["messages"][-1]["content"], lambda b: reply("routed " + b["model"]))
    server.script(reply("first"), reply("second"))
    with sync_client(server) as client:
        out = [ask(client, text).choices[0].message.content for text in ["x", "alpha 1", "y", "alpha 2", "z"]]
    assert out == ["first", "routed test-model", "second", "routed test-model", "ok"]
    assert server.remaining_script == 0


def test_responder_exception_becomes_500_and_is_recorded():
    with ScriptedOpenAIServer() as srv:
        srv.script(lambda body: body["no-such-key"])
        with sync_client(srv) as client:
            with pytest.raises(openai.InternalServerError):
                ask(client)
        assert len(srv.errors) == 1 and "KeyError" in srv.errors[0]


# ---------------------------------------------------------------------------------- raw protocol


def _raw_exchange(server: ScriptedOpenAIServer, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(payload)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_keep_alive_pipelined_requests_and_connection_close(server):
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
    one = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    last = b"GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    data = _raw_exchange(server, one + one + last)  # returns once the server closes
    assert data.count(b"HTTP/1.1 200 OK") == 3
    assert data.count(b"Connection: keep-alive") == 2 and data.count(b"Connection: close") == 1
    assert data.endswith(b'"owned_by": "scripted"}]}')


def test_bad_requests(server):
    assert _raw_exchange(server, b"nonsense\r\n\r\n").startswith(b"HTTP/1.1 400")
    chunked = b"POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    assert _raw_exchange(server, chunked).startswith(b"HTTP/1.1 501")
    not_json = b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
    assert _raw_exchange(server, not_json).startswith(b"HTTP/1.1 400")
    unknown = b"GET /v2/nothing HTTP/1.1\r\nConnection: close\r\n\r\n"
    assert _raw_exchange(server, unknown).startswith(b"HTTP/1.1 404")


def test_delay_keeps_requests_concurrent():
    with ScriptedOpenAIServer(delay=0.5) as srv:

        async def main():
            async with async_client(srv) as client:
                t0 = time.perf_counter()
                await asyncio.gather(
                    *(
                        client.chat.completions.create(model="test-model", messages=MESSAGES)
                        for _ in range(20)
                    )
                )
                return time.perf_counter() - t0

        elapsed = asyncio.run(main())
        assert elapsed < 4  # 20 sequential requests would take 10 s
        assert srv.max_concurrency_seen >= 8
        assert srv.counters["reply"] == 20
        assert srv.in_flight == 0


# ------------------------------------------------------------------------------------ throughput


def test_throughput_smoke(server):
    total, concurrency = 2000, 128

    async def main():
        sem = asyncio.Semaphore(concurrency)
        async with async_client(server) as client:

            async def one(i: int):
                async with sem:
                    resp = await client.chat.completions.create(
                        model="test-model", messages=[{"role": "user", "content": f"q{i}"}]
                    )
                    return resp.choices[0].message.content

            t0 = time.perf_counter()
            out = await asyncio.gather(*(one(i) for i in range(total)))
            return out, time.perf_counter() - t0

    out, elapsed = asyncio.run(main())
    assert out == ["ok"] * total
    assert server.counters["reply"] == total
    print(
        f"\nScriptedOpenAIServer throughput: {total} requests in {elapsed:.2f} s = {total / elapsed:.0f} req/s "
        f"(concurrency {concurrency}, max seen {server.max_concurrency_seen})"
    )
