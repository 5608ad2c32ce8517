"""A small, scripted OpenAI-compatible HTTP server for tests.

The real ``openai`` client talks to it with ``base_url=server.url + "/v1"`` (any ``api_key``)::

    with ScriptedOpenAIServer() as server:
        server.script(reply("first"), error(429, retry_after=2), hang(5))
        client = OpenAI(base_url=server.url + "/v1", api_key="x", max_retries=0)

The server is ``asyncio.start_server`` plus a minimal HTTP/1.1 parser (keep-alive, ``Content-Length``
request bodies, ``Connection: close``; chunked request bodies answer 501), running on its own event loop
in a daemon thread, so a slow step (``hang``, ``delay``) never blocks other requests, and hundreds of
concurrent keep-alive connections are served cheaply (the listen backlog is 4096, so a burst of 256
connects does not overflow it and stall on SYN retransmits).

Endpoints:
  POST /v1/chat/completions   non-streaming; ``"stream": true`` answers 400 (streaming is unsupported)
                              without consuming a script step
  POST /v1/completions        legacy text completions, same responders (``reply`` fills ``choices[].text``)
  GET  /v1/models[/{id}]      the configured model name(s)
  anything else               404 (or 405 for a wrong method), OpenAI-style error body

Choosing the step for a POST (at arrival, before ``delay``):
  1. routes added with ``on(predicate, responder)``, in the order added; the first whose
     ``predicate(body)`` is true answers with ``responder(body)`` (a route never consumes the script);
  2. else the FIFO script (``script(*steps)``), one step per request, in arrival order;
  3. else the default responder (``set_default``); initially ``reply("ok")``.
A responder is a ``Step``, a ``str`` (shorthand for ``reply(str)``) or a callable ``body -> Step | str``;
the same goes for script entries.  If a predicate or responder raises, the request gets a 500 and the
traceback is appended to ``server.errors`` (assert it is empty to catch bugs in test responders).

Steps (module-level factories below): ``reply``, ``ignore_n``, ``json_reply``,
``truncated_json_content``, ``error``, ``hang``, ``drop``, ``truncated``, ``malformed_json``, ``raw``.

Recording:
  ``requests``      every request, in arrival order: the parsed JSON body (``{}`` for GET) plus
                    ``"_headers"`` (lower-cased names), ``"_method"`` and ``"_path"``.
                    ``chat_requests`` filters to ``/v1/chat/completions``.  ``response_format``, ``n``,
                    ``temperature``... are only recorded, never honoured (except ``n``, see ``reply``).
  ``counters``      a ``Counter``: ``"total"``, one key per path (``"/v1/chat/completions"``), one per step
                    kind that answered (``"reply"``, ``"error"``, ``"hang"``, ...; ``"stream_rejected"``,
                    ``"responder_error"``, ``"bad_request"``, ``"not_found"`` for the server's own answers).
  ``max_concurrency_seen``  peak number of requests being handled at once (``in_flight`` = now).
  ``delay``         fixed latency (seconds) added to every request (settable at any time).
An instant answer is parsed, built and written without yielding to the event loop, so without
``delay``/``hang`` ``max_concurrency_seen`` stays 1 however many connections are open.

Throughput (2-core VM, same process): ~10,000 requests/s from a bare asyncio HTTP client over 256
keep-alive connections.  Driven by ``AsyncOpenAI`` the client is the bottleneck: ~200 requests/s at
128-256 concurrent requests with its default pool, because httpcore2 polls every pooled connection
(``has_expired``: ``getpeername`` + ``poll``) each time it assigns a request; capping the pool
(``http_client=openai.DefaultAsyncHttpxClient(limits=httpx2.Limits(max_connections=16..32))``)
gives ~400-500 requests/s.

How the installed client (openai 3.57 over httpx2 2.16; ``DEFAULT_MAX_RETRIES = 2``) sees each fault,
pinned by ``tests/llm/test_openai_server.py``:
  * ``error(400)`` -> ``BadRequestError`` (not retried); 401/403/404/409/422 map to their classes.
  * ``error(429)`` -> ``RateLimitError``; ``error(500)``/``error(503)`` -> ``InternalServerError``
    (every status >= 500).  408, 409, 429 and >= 500 are retried by default, sleeping ``Retry-After``
    (or ``retry-after-ms``) when it is in (0, 120] s, else exponential backoff from 0.5 s; a
    ``Retry-After`` above 120 s disables the retry.  The header is readable as
    ``exc.response.headers["retry-after"]`` (a string, e.g. ``"2"``); ``exc.body`` is the parsed
    JSON body, so ``exc.code`` / ``exc.type`` / ``exc.message`` carry the error fields.
    ``x-should-retry: true|false`` (pass it in ``headers=``) overrides the decision.
  * ``hang(s)`` longer than the client timeout -> ``APITimeoutError`` (a subclass of
    ``APIConnectionError``), retried by default.
  * ``drop()`` -> ``APIConnectionError`` (httpx2 ``RemoteProtocolError``: server disconnected without
    sending a response), retried by default.
  * ``truncated()`` -> ``APIConnectionError`` too (the client reads non-streamed bodies inside the send,
    so the incomplete body surfaces as ``RemoteProtocolError``), retried by default.
  * ``malformed_json()`` (200, ``application/json``) -> the client raises a bare
    ``json.JSONDecodeError`` from ``create()``: not an ``OpenAIError``, never retried.  With a
    non-JSON content type (``raw(200, b"...", {"content-type": "text/plain"})``) it instead returns
    the body as a plain ``str`` from ``create()`` (``APIResponseValidationError`` only with
    ``_strict_response_validation=True``).
  * ``reasoning_content`` is not a declared field of ``ChatCompletionMessage``, but the client's models
    keep unknown fields: ``message.reasoning_content`` works (typed as ``Any``) and it is also in
    ``message.model_extra["reasoning_content"]``.
"""

from __future__ import annotations

import asyncio
import collections
import http
import itertools
import json
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ScriptedOpenAIServer",
    "Step",
    "drop",
    "error",
    "hang",
    "ignore_n",
    "json_reply",
    "malformed_json",
    "raw",
    "reply",
    "truncated",
    "truncated_json_content",
]

CHAT_PATH = "/v1/chat/completions"
COMPLETIONS_PATH = "/v1/completions"
MODELS_PATH = "/v1/models"

_MAX_HEADER_BYTES = 64 * 1024
_MAX_BODY_BYTES = 64 * 1024 * 1024


# --------------------------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class Step:
    """What the server does with one request.  Build it with the factory functions below."""

    kind: str
    content: str | list[str] | None = None
    reasoning_content: str | list[str] | None = None
    finish_reason: str = "stop"
    n: int | None = None
    usage: dict[str, int] | bool | None = None
    message_extra: dict[str, Any] | None = None
    status: int = 200
    message: str = ""
    error_type: str | None = None
    code: str | None = None
    retry_after: float | str | None = None
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0
    then: Step | None = None


def reply(
    content: str | list[str] = "ok",
    *,
    reasoning_content: str | list[str] | None = None,
    finish_reason: str = "stop",
    n: int | None = None,
    usage: dict[str, int] | bool | None = None,
    message_extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Step:
    """A normal 200 completion.

    The number of choices is ``n`` if given, else the request's ``n`` (default 1).  ``content`` (and
    ``reasoning_content``) may be a list: choice ``i`` gets ``content[i % len(content)]``; a string is
    repeated.  ``reasoning_content`` goes into ``message.reasoning_content`` (vLLM / DeepSeek style)
    and is omitted when None.  ``usage``: None computes rough word counts, a dict is sent as is,
    False omits the field.  ``message_extra`` is merged into every ``message`` (e.g. ``tool_calls``,
    or ``{"reasoning": ...}`` for newer vLLM).
    """
    return Step(
        "reply",
        content=content,
        reasoning_content=reasoning_content,
        finish_reason=finish_reason,
        n=n,
        usage=usage,
        message_extra=message_extra,
        headers=_header_tuple(headers),
    )


def ignore_n(content: str = "ok", **kwargs: Any) -> Step:
    """A reply with exactly one choice whatever the request's ``n`` (a server that ignores ``n``)."""
    return reply(content, n=1, **kwargs)


def json_reply(obj: Any, **kwargs: Any) -> Step:
    """A reply whose content is ``json.dumps(obj)``."""
    return reply(json.dumps(obj), **kwargs)


def truncated_json_content(text: str = '{"statement": "abc', **kwargs: Any) -> Step:
    """A reply whose *content* is cut-off JSON text, with ``finish_reason="length"``."""
    kwargs.setdefault("finish_reason", "length")
    return reply(text, **kwargs)


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    409: "conflict_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "server_error",
    502: "server_error",
    503: "service_unavailable_error",
    504: "server_error",
}


def error(
    status: int,
    message: str = "scripted error",
    *,
    retry_after: float | str | None = None,
    code: str | None = None,
    error_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> Step:
    """An OpenAI-style error: ``{"error": {"message", "type", "code", "param"}}`` with ``status``.

    ``retry_after`` (seconds; an int-valued float is sent as ``"2"``, a str verbatim) sets the
    ``Retry-After`` header.  ``error_type`` defaults from the status (e.g. 429 ->
    ``rate_limit_error``).
    """
    return Step(
        "error",
        status=status,
        message=message,
        code=code,
        error_type=error_type,
        retry_after=retry_after,
        headers=_header_tuple(headers),
    )


def hang(seconds: float, then: Step | str | None = None) -> Step:
    """Wait ``seconds`` (without blocking other requests), then answer with ``then`` (default: the
    default responder).  If the client gave up meanwhile the late answer is silently discarded."""
    return Step("hang", seconds=seconds, then=_as_step(then) if then is not None else None)


def drop() -> Step:
    """Close the connection without sending anything."""
    return Step("drop")


def truncated() -> Step:
    """Send a 200 whose ``Content-Length`` exceeds the bytes sent, then close the connection."""
    body = b'{"id": "chatcmpl-truncated", "object": "chat.completion", "choices": [{"index": 0, "mess'
    return Step("truncated", status=200, body=body)


def malformed_json() -> Step:
    """A 200 ``application/json`` response whose body is not valid JSON."""
    return Step("malformed_json", status=200, body=b'{"id": "chatcmpl-malformed", "choices": [{"index": 0,,}')


def raw(status: int, body: bytes | str | dict | list = b"", headers: dict[str, str] | None = None) -> Step:
    """Anything else: ``body`` as given (str is UTF-8 encoded, dict/list JSON-encoded).  The
    ``Content-Type`` defaults to ``application/json`` unless ``headers`` name one."""
    if isinstance(body, dict | list):
        body = json.dumps(body).encode()
    elif isinstance(body, str):
        body = body.encode()
    return Step("raw", status=status, body=body, headers=_header_tuple(headers))


def _header_tuple(headers: dict[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in (headers or {}).items())


def _as_step(value: Any) -> Step:
    if isinstance(value, Step):
        return value
    if isinstance(value, str):
        return reply(value)
    raise TypeError(f"a responder must produce a Step or a str, got {type(value).__name__}")


Responder = Step | str | Callable[[dict[str, Any]], "Step | str"]


def _resolve(responder: Responder, body: dict[str, Any]) -> Step:
    if isinstance(responder, Step | str):
        return _as_step(responder)
    return _as_step(responder(body))


# ------------------------------------------------------------------------------------- usage helpers


def _words(text: Any) -> int:
    if isinstance(text, str):
        return len(text.split())
    if isinstance(text, list):  # content parts
        return sum(_words(p.get("text")) for p in text if isinstance(p, dict))
    return 0


def _prompt_words(body: dict[str, Any]) -> int:
    messages = body.get("messages")
    if isinstance(messages, list):
        return sum(_words(m.get("content")) for m in messages if isinstance(m, dict))
    prompt = body.get("prompt")
    if isinstance(prompt, list):
        return sum(_words(p) for p in prompt)
    return _words(prompt)


def _pick(value: str | list[str] | None, i: int) -> str | None:
    if isinstance(value, list):
        return value[i % len(value)] if value else None
    return value


def _format_retry_after(value: float | str) -> str:
    if isinstance(value, str):
        return value
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


# -------------------------------------------------------------------------------------------- server


@dataclass
class _Route:
    predicate: Callable[[dict[str, Any]], bool]
    responder: Responder


@dataclass
class _Answer:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
    keep_alive: bool = True


class ScriptedOpenAIServer:
    """See the module docstring.  Use as a context manager or call ``start()`` / ``stop()``."""

    def __init__(
        self,
        model: str = "test-model",
        *,
        models: list[str] | None = None,
        delay: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.model = model
        self.models = list(models) if models else [model]
        if model not in self.models:
            self.models.insert(0, model)
        self.delay = delay
        self.host = host
        self.port = port
        self.url = ""
        self.requests: list[dict[str, Any]] = []
        self.counters: collections.Counter[str] = collections.Counter()
        self.errors: list[str] = []
        self.max_concurrency_seen = 0
        self.in_flight = 0
        self._lock = threading.Lock()
        self._queue: collections.deque[Responder] = collections.deque()
        self._routes: list[_Route] = []
        self._default: Responder = reply("ok")
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop_event: asyncio.Event | None = None
        self._conn_tasks: set[asyncio.Task[None]] = set()

    # ----------------------------------------------------------------------------------- scripting

    def script(self, *steps: Responder) -> None:
        """Append steps to the FIFO script (one consumed per request not taken by a route)."""
        with self._lock:
            self._queue.extend(steps)

    def set_default(self, responder: Responder) -> None:
        """Answer requests that no route takes once the script is empty."""
        with self._lock:
            self._default = responder

    def on(self, predicate: Callable[[dict[str, Any]], bool], responder: Responder) -> None:
        """Route requests whose body satisfies ``predicate`` to ``responder`` (checked before the
        script, in the order added; routes are permanent)."""
        with self._lock:
            self._routes.append(_Route(predicate, responder))

    def clear(self) -> None:
        """Forget routes, the remaining script, the default responder and all recordings."""
        with self._lock:
            self._queue.clear()
            self._routes.clear()
            self._default = reply("ok")
            self.requests.clear()
            self.counters.clear()
            self.errors.clear()
            self.max_concurrency_seen = self.in_flight

    @property
    def remaining_script(self) -> int:
        """Number of script steps not consumed yet."""
        return len(self._queue)

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r.get("_path") == CHAT_PATH]

    def _choose(self, body: dict[str, Any]) -> tuple[Responder, bool]:
        with self._lock:
            for route in self._routes:
                if route.predicate(body):
                    return route.responder, True
            if self._queue:
                return self._queue.popleft(), True
            return self._default, False

    # ----------------------------------------------------------------------------------- lifecycle

    def start(self) -> ScriptedOpenAIServer:
        if self._thread is not None:
            raise RuntimeError("server already started")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve(ready))
            except BaseException as exc:  # pragma: no cover - startup failure
                failure.append(exc)
                ready.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="scripted-openai-server", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise RuntimeError("scripted OpenAI server failed to start") from failure[0]
        if not self.url:
            raise RuntimeError("scripted OpenAI server did not start within 10 s")
        return self

    def stop(self) -> None:
        thread, loop, stop_event = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and stop_event is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop_event.set)
            except RuntimeError:  # loop already closed
                pass
        thread.join(10)
        self._thread = None

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    async def _serve(self, ready: threading.Event) -> None:
        self._stop_event = asyncio.Event()
        server = await asyncio.start_server(
            self._handle_connection,
            self.host,
            self.port,
            backlog=4096,
            limit=_MAX_HEADER_BYTES,
            reuse_address=True,
        )
        port = server.sockets[0].getsockname()[1]
        self.port = port
        self.url = f"http://{self.host}:{port}"
        ready.set()
        try:
            await self._stop_event.wait()
        finally:
            server.close()
            for task in list(self._conn_tasks):
                task.cancel()
            if self._conn_tasks:
                await asyncio.gather(*self._conn_tasks, return_exceptions=True)
            await server.wait_closed()

    # ------------------------------------------------------------------------------------ protocol

    async def _handle_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._conn_tasks.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return  # client closed (between requests, or mid-headers)
                except asyncio.LimitOverrunError:
                    await self._write(writer, self._plain_error(431, "request headers too large", False))
                    return
                head = head.lstrip(b"\r\n")
                if not head:
                    continue
                parsed = self._parse_head(head)
                if isinstance(parsed, _Answer):
                    await self._write(writer, parsed)
                    return
                method, target, version, headers = parsed
                if "transfer-encoding" in headers:
                    await self._write(
                        writer, self._plain_error(501, "chunked request bodies are unsupported", False)
                    )
                    return
                try:
                    length = int(headers.get("content-length", "0") or "0")
                    if length < 0 or length > _MAX_BODY_BYTES:
                        raise ValueError
                except ValueError:
                    await self._write(writer, self._plain_error(400, "bad Content-Length", False))
                    return
                raw_body = await reader.readexactly(length) if length else b""
                connection = headers.get("connection", "").lower()
                if version == "HTTP/1.0":
                    keep_alive = "keep-alive" in connection
                else:
                    keep_alive = "close" not in connection
                if not await self._handle_request(writer, method, target, headers, raw_body, keep_alive):
                    return
        except (ConnectionError, asyncio.IncompleteReadError, OSError):
            return
        except asyncio.CancelledError:
            return
        finally:
            self._conn_tasks.discard(task)
            try:
                writer.close()
            except Exception:  # pragma: no cover
                pass

    @staticmethod
    def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]] | _Answer:
        lines = head[:-4].split(b"\r\n")
        parts = lines[0].decode("latin-1").split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return ScriptedOpenAIServer._plain_error(400, "bad request line", False)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                return ScriptedOpenAIServer._plain_error(400, "bad header line", False)
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        return parts[0].upper(), parts[1], parts[2], headers

    async def _handle_request(
        self,
        writer: asyncio.StreamWriter,
        method: str,
        target: str,
        headers: dict[str, str],
        raw_body: bytes,
        keep_alive: bool,
    ) -> bool:
        """Answer one request; returns whether the connection stays open."""
        path = target.split("?", 1)[0]
        if len(path) > 1:
            path = path.rstrip("/")
        self.in_flight += 1
        self.max_concurrency_seen = max(self.max_concurrency_seen, self.in_flight)
        try:
            self.counters["total"] += 1
            self.counters[path] += 1
            body: dict[str, Any] = {}
            bad_json = False
            if raw_body:
                try:
                    loaded = json.loads(raw_body)
                except ValueError:
                    bad_json = True
                    loaded = {"_raw": raw_body.decode("utf-8", "replace")}
                body = loaded if isinstance(loaded, dict) else {"_json": loaded}
            record = dict(body)
            record["_headers"] = headers
            record["_method"] = method
            record["_path"] = path
            self.requests.append(record)

            answer: _Answer | Step
            if path in (CHAT_PATH, COMPLETIONS_PATH):
                if method != "POST":
                    answer = self._api_error(405, f"method {method} not allowed", "bad_request")
                elif bad_json or not isinstance(body, dict):
                    answer = self._api_error(400, "request body is not a JSON object", "bad_request")
                elif body.get("stream"):
                    answer = self._api_error(
                        400,
                        "streaming is not supported by ScriptedOpenAIServer (send stream=false)",
                        "stream_rejected",
                    )
                else:
                    try:
                        responder, _ = self._choose(body)
                        answer = _resolve(responder, body)
                    except Exception:
                        self.errors.append(traceback.format_exc())
                        answer = self._api_error(500, "scripted responder raised", "responder_error")
            elif path == MODELS_PATH or path.startswith(MODELS_PATH + "/"):
                answer = self._models_answer(method, path)
            else:
                answer = self._api_error(404, f"unknown path {path}", "not_found")

            if self.delay > 0:
                await asyncio.sleep(self.delay)
            return await self._execute(writer, answer, body, path, keep_alive)
        finally:
            self.in_flight -= 1

    async def _execute(
        self,
        writer: asyncio.StreamWriter,
        answer: _Answer | Step,
        body: dict[str, Any],
        path: str,
        keep_alive: bool,
    ) -> bool:
        if isinstance(answer, _Answer):
            answer.keep_alive = answer.keep_alive and keep_alive
            await self._write(writer, answer)
            return answer.keep_alive
        step = answer
        self.counters[step.kind] += 1
        if step.kind == "hang":
            await asyncio.sleep(step.seconds)
            if writer.is_closing():
                return False
            try:
                then = step.then if step.then is not None else _resolve(self._default, body)
            except Exception:
                self.errors.append(traceback.format_exc())
                then = None
            if then is None:
                return await self._execute(
                    writer,
                    self._api_error(500, "scripted responder raised", "responder_error"),
                    body,
                    path,
                    keep_alive,
                )
            return await self._execute(writer, then, body, path, keep_alive)
        if step.kind == "drop":
            writer.close()
            return False
        if step.kind == "truncated":
            extra = [("Content-Type", "application/json")]
            await self._write(
                writer, _Answer(step.status, step.body, extra, False), content_length=len(step.body) + 100
            )
            return False
        if step.kind == "malformed_json":
            await self._write(
                writer, _Answer(step.status, step.body, [("Content-Type", "application/json")], keep_alive)
            )
            return keep_alive
        if step.kind == "raw":
            await self._write(writer, _Answer(step.status, step.body, list(step.headers), keep_alive))
            return keep_alive
        if step.kind == "error":
            err = {
                "message": step.message,
                "type": step.error_type or _ERROR_TYPES.get(step.status, "api_error"),
                "param": None,
                "code": step.code,
            }
            headers = list(step.headers)
            if step.retry_after is not None:
                headers.append(("Retry-After", _format_retry_after(step.retry_after)))
            await self._write(
                writer, _Answer(step.status, json.dumps({"error": err}).encode(), headers, keep_alive)
            )
            return keep_alive
        if step.kind == "reply":
            payload = self._completion(step, body, path)
            await self._write(
                writer, _Answer(200, json.dumps(payload).encode(), list(step.headers), keep_alive)
            )
            return keep_alive
        raise AssertionError(f"unknown step kind {step.kind!r}")

    def _completion(self, step: Step, body: dict[str, Any], path: str) -> dict[str, Any]:
        n = step.n if step.n is not None else body.get("n") or 1
        if not isinstance(n, int) or n < 1:
            n = 1
        choices: list[dict[str, Any]] = []
        completion_words = 0
        for i in range(n):
            content = _pick(step.content, i)
            reasoning = _pick(step.reasoning_content, i)
            completion_words += _words(content) + _words(reasoning)
            if path == COMPLETIONS_PATH:
                choices.append(
                    {"index": i, "text": content or "", "finish_reason": step.finish_reason, "logprobs": None}
                )
                continue
            message: dict[str, Any] = {"role": "assistant", "content": content}
            if reasoning is not None:
                message["reasoning_content"] = reasoning
            if step.message_extra:
                message.update(step.message_extra)
            choices.append(
                {"index": i, "message": message, "finish_reason": step.finish_reason, "logprobs": None}
            )
        seq = next(self._ids)
        payload: dict[str, Any] = {
            "id": f"{'cmpl' if path == COMPLETIONS_PATH else 'chatcmpl'}-scripted-{seq}",
            "object": "text_completion" if path == COMPLETIONS_PATH else "chat.completion",
            "created": int(time.time()),
            "model": body.get("model") or self.model,
            "choices": choices,
        }
        if step.usage is None or step.usage is True:
            prompt = _prompt_words(body)
            payload["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": completion_words,
                "total_tokens": prompt + completion_words,
            }
        elif isinstance(step.usage, dict):
            payload["usage"] = dict(step.usage)
        return payload

    def _models_answer(self, method: str, path: str) -> _Answer:
        if method != "GET":
            return self._api_error(405, f"method {method} not allowed", "bad_request")

        def card(name: str) -> dict[str, Any]:
            return {"id": name, "object": "model", "created": 0, "owned_by": "scripted"}

        if path == MODELS_PATH:
            data = {"object": "list", "data": [card(m) for m in self.models]}
            return _Answer(200, json.dumps(data).encode())
        name = path[len(MODELS_PATH) + 1 :]
        if name in self.models:
            return _Answer(200, json.dumps(card(name)).encode())
        return self._api_error(404, f"model {name!r} not found", "not_found", code="model_not_found")

    def _api_error(self, status: int, message: str, counter: str, code: str | None = None) -> _Answer:
        self.counters[counter] += 1
        err = {"message": message, "type": _ERROR_TYPES.get(status, "api_error"), "param": None, "code": code}
        return _Answer(status, json.dumps({"error": err}).encode())

    @staticmethod
    def _plain_error(status: int, message: str, keep_alive: bool) -> _Answer:
        err = {"message": message, "type": _ERROR_TYPES.get(status, "api_error"), "param": None, "code": None}
        return _Answer(status, json.dumps({"error": err}).encode(), keep_alive=keep_alive)

    async def _write(
        self, writer: asyncio.StreamWriter, answer: _Answer, content_length: int | None = None
    ) -> None:
        if writer.is_closing():
            return
        try:
            reason = http.HTTPStatus(answer.status).phrase
        except ValueError:
            reason = "Unknown"
        names = {k.lower() for k, _ in answer.headers}
        lines = [f"HTTP/1.1 {answer.status} {reason}"]
        if "content-type" not in names:
            lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(answer.body) if content_length is None else content_length}")
        lines.append("Connection: " + ("keep-alive" if answer.keep_alive else "close"))
        lines.extend(f"{k}: {v}" for k, v in answer.headers)
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            writer.write(head + answer.body)
            await writer.drain()
        except (ConnectionError, OSError):
            writer.close()
