"""The LLM pipeline against a real OpenAI-compatible server: ``transformers serve`` (the ``transformers[serving]``
extra) serving a tiny Qwen2 model built offline by ``tests.llm.tiny_model``.

What transformers serve (5.x) does with the requests our client sends, as these tests pin it:

- the model is pinned with the positional ``FORCE_MODEL`` argument (a local folder); requests must name it
  exactly (or not at all), any other name is a 400;
- ``n`` and ``response_format`` are accepted and ignored (one choice, no constrained decoding, a warning in the
  server log), so the client tops ``n`` up with single requests and the structured-output repair loop meets
  free text; unknown body fields are a 422;
- ``usage`` is reported (prompt and completion tokens), ``finish_reason`` is ``length`` at ``max_tokens`` else
  ``stop``; ``temperature`` only matters when the model's generation config samples (this one is greedy);
- Qwen-type models get their ``<think>...</think>`` split off into ``message.reasoning_content``.

The model writes nonsense, so every stage must end with its "no" outcome (rejected, unsolved) with reasons,
never hang or crash.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("fastapi", reason="transformers serve needs the transformers[serving] extra")
pytest.importorskip("uvicorn", reason="transformers serve needs the transformers[serving] extra")

from generation.llm import LLMClient, LLMConfig, StructuredOutputError  # noqa: E402
from tests.llm.tiny_model import REASONING_QUESTION, build_tiny_qwen2  # noqa: E402

STARTUP_TIMEOUT = 120.0  # seconds for the server to load the model and answer /v1/models
MESSAGES = [{"role": "user", "content": "What is the Dirac equation?"}]
CHAT_POST = re.compile(r'"POST /v1/chat/completions HTTP/1\.1" (\d{3})')
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 never goes through a proxy


@dataclass
class RealServer:
    """A running ``transformers serve``: its address, the model name it answers to, and its log."""

    process: subprocess.Popen
    port: int
    model: str
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def chat_statuses(self) -> list[int]:
        """The HTTP status of every chat completion request so far (uvicorn's access log, in order)."""
        return [
            int(code) for code in CHAT_POST.findall(self.log.read_text(encoding="utf-8", errors="replace"))
        ]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def tiny_qwen2(tmp_path_factory) -> Path:
    """The tiny model, built once per session (about 10-20 s on two CPU cores)."""
    return build_tiny_qwen2(tmp_path_factory.mktemp("tiny-qwen2") / "model")


@pytest.fixture(scope="session")
def real_server(tiny_qwen2, tmp_path_factory):
    """``transformers serve <model folder>`` on a free port, offline; stopped at the end of the session."""
    port = _free_port()
    log = tmp_path_factory.mktemp("transformers-serve") / "server.log"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "PYTHONUNBUFFERED": "1",  # the access log is read back to count requests
        "OMP_NUM_THREADS": "1",  # a 2-layer model is faster on one thread than on contended cores
    }
    # `python -m transformers.cli.transformers` is the `transformers` console script, from this interpreter.
    command = [sys.executable, "-m", "transformers.cli.transformers", "serve", str(tiny_qwen2),
               "--host", "127.0.0.1", "--port", str(port), "--device", "cpu", "--dtype", "float32"]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    server = RealServer(process, port, str(tiny_qwen2), log)
    try:
        _wait_until_up(server)
        yield server
    finally:
        _stop(process)


def _wait_until_up(server: RealServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"transformers serve exited with code {server.process.returncode} before answering; "
                f"its log ends:\n{server.log_tail()}"
            )
        try:
            with DIRECT.open(f"{server.base_url}/models", timeout=2) as response:
                listed = json.load(response)
            if any(entry.get("id") == server.model for entry in listed.get("data", [])):
                return
            last_error = f"/v1/models does not list {server.model}: {listed}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            last_error = str(exc)
        time.sleep(0.25)
    _stop(server.process)
    pytest.fail(
        f"transformers serve did not answer GET /v1/models within {STARTUP_TIMEOUT:.0f} s ({last_error}); "
        f"its log ends:\n{server.log_tail()}"
    )


def _llm(server: RealServer, tmp_path: Path, **overrides) -> LLMConfig:
    options = dict(model=server.model, base_url=server.base_url, cache=tmp_path / "c.sqlite", timeout=60.0,
                   max_retries=1, backoff_base=0.01, backoff_max=0.05, repair_attempts=1)  # fmt: skip
    return LLMConfig(**{**options, **overrides})


def _run(coroutine, timeout: float = 60.0):
    """Run with a deadline: a stage that hangs against the real server is a failure, not a stuck test run."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def test_a_chat_completes_with_usage_and_the_repeat_comes_from_the_cache(real_server, tmp_path):
    async def run():
        async with LLMClient(_llm(real_server, tmp_path)) as client:
            first = await client.complete(MESSAGES, stage="chat", max_tokens=16)
            requests = len(real_server.chat_statuses())
            second = await client.complete(MESSAGES, stage="chat", max_tokens=16)
            return first, second, requests, client.meter.to_dict()["chat"]

    first, second, requests, usage = _run(run())
    assert first.text and not first.cached and first.model == real_server.model
    assert first.samples[0].finish_reason in ("length", "stop")
    assert 0 < first.completion_tokens <= 16 and first.prompt_tokens > 0  # the server reports usage
    assert (usage["requests"], usage["cache_hits"], usage["failures"]) == (2, 1, 0)
    assert (usage["prompt_tokens"], usage["completion_tokens"]) == (
        first.prompt_tokens,
        first.completion_tokens,
    )
    assert second.cached and second.samples == first.samples
    assert len(real_server.chat_statuses()) == requests  # the cache hit sent nothing


def test_the_server_ignores_n_and_the_client_tops_up_with_single_requests(real_server, tmp_path):
    async def run():
        async with LLMClient(_llm(real_server, tmp_path)) as client:
            return await client.complete(MESSAGES, stage="chat", n=2, max_tokens=8)

    before = len(real_server.chat_statuses())
    completion = _run(run())
    assert len(completion.samples) == 2 and all(sample.text for sample in completion.samples)
    assert real_server.chat_statuses()[before:] == [200, 200]  # n=2 answered with one choice, then one more


def test_structured_output_on_nonsense_ends_in_structured_output_error_without_fallback(
    real_server, tmp_path
):
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}

    async def run():
        async with LLMClient(_llm(real_server, tmp_path)) as client:
            with pytest.raises(StructuredOutputError) as caught:
                await client.complete_json(MESSAGES, schema, stage="json", max_tokens=16)
            return caught.value, client.meter.to_dict()["json"]

    before = len(real_server.chat_statuses())
    error, usage = _run(run())
    assert error.kind == "structured" and error.attempts == 2 and "the reply" in str(error)
    # response_format json_schema is accepted (and ignored): one request per attempt, no 400/422, no fallback.
    assert real_server.chat_statuses()[before:] == [200, 200]
    assert usage["failures"] == 1


def test_reasoning_comes_as_reasoning_content_and_is_split_off_the_answer(real_server, tmp_path):
    messages = [{"role": "user", "content": REASONING_QUESTION}]  # the model learnt a <think> reply to it
    body = json.dumps({"model": real_server.model, "messages": messages, "max_tokens": 64}).encode()
    request = urllib.request.Request(
        f"{real_server.base_url}/chat/completions", data=body, headers={"Content-Type": "application/json"}
    )
    with DIRECT.open(request, timeout=60) as response:
        raw = json.load(response)["choices"][0]["message"]

    async def run():
        async with LLMClient(_llm(real_server, tmp_path)) as client:
            return await client.complete(messages, max_tokens=64)

    sample = _run(run()).samples[0]
    assert "p_mu = m^2" in raw["reasoning_content"] and "<think>" not in raw["content"]  # the server splits
    assert (sample.text, sample.reasoning) == (raw["content"].strip(), raw["reasoning_content"].strip())
    assert sample.text.startswith("E = sqrt(p^2 + m^2)")


def test_a_rejected_request_fails_at_once_and_says_why(real_server, tmp_path):
    from generation.llm import LLMError

    async def run():
        async with LLMClient(_llm(real_server, tmp_path, model="not-the-served-model")) as client:
            with pytest.raises(LLMError) as caught:
                await client.complete(MESSAGES, max_tokens=8)
            return caught.value

    before = len(real_server.chat_statuses())
    error = _run(run())
    assert (error.kind, error.status, error.attempts) == ("http 400", 400, 1)
    assert real_server.chat_statuses()[before:] == [400]  # no retries for a bad request
    assert "pinned" in str(error)  # the server's reason: "Server is pinned to '<model>'; requested '...'"


def test_a_bad_request_unrelated_to_response_format_does_not_downgrade_structured_output(
    real_server, tmp_path
):
    from generation.llm import LLMError

    async def run():
        async with LLMClient(_llm(real_server, tmp_path, model="not-the-served-model")) as client:
            with pytest.raises(LLMError) as caught:
                await client.complete_json(MESSAGES, {"type": "object"}, max_tokens=8)
            return caught.value, client._structured_mode

    error, mode = _run(run())
    assert error.status == 400 and not isinstance(error, StructuredOutputError)
    assert mode == "json_schema"


def test_synthetic_generation_rejects_every_slot_with_a_reason(real_server, tmp_path):
    from generation.synthetic import SyntheticConfig, run_synthetic

    config = SyntheticConfig(llm=_llm(real_server, tmp_path), output=tmp_path / "s.jsonl", n=2,
                             levels={"graduate": 1.0}, categories=("qed-processes",), max_repairs=0,
                             max_tokens=32)  # fmt: skip
    summary = _run(run_synthetic(config))
    assert dict(summary.counts) == {"rejected": 2}
    assert (tmp_path / "s.jsonl").read_text() == ""
    rejected = [json.loads(line) for line in config.rejected.read_text().splitlines()]
    assert [entry["slot"] for entry in rejected] == ["slot-000000", "slot-000001"]
    assert all(entry["status"] == "rejected" for entry in rejected)
    # The reason is the StructuredOutputError: no JSON (or no JSON of the schema) within the repairs.
    assert all(
        re.search(r"structured after 2 attempt.*(not valid JSON|does not match)", e["reason"])
        for e in rejected
    )


def test_the_solver_leaves_a_problem_unsolved(real_server, tmp_path):
    from curation.records.authored import problem_from_reply
    from curation.records.io import write_jsonl
    from curation.records.problem import Source
    from generation.solve import SolveSettings, run_solve
    from tests.llm import scripted_models

    problem = problem_from_reply(scripted_models.code_problem("p0"), Source("synthetic-llm", {}), topic="t",
                                 level="graduate", task_type="direct-calculation",
                                 outputs=[2**0.5, 5.0, 4.25**0.5])  # fmt: skip
    write_jsonl(tmp_path / "problems.jsonl", [problem])

    async def run():
        async with LLMClient(_llm(real_server, tmp_path)) as client:
            settings = SolveSettings(k=2, max_tokens=32)
            return await run_solve(tmp_path / "problems.jsonl", tmp_path / "solved.jsonl", client, settings)

    assert dict(_run(run())) == {"unsolved": 1}
    assert (tmp_path / "solved.jsonl").read_text() == ""
    unsolved = json.loads((tmp_path / "solved.unsolved.jsonl").read_text())
    record = unsolved["problem"]["solver"][real_server.model]
    assert len(record["attempts"]) == 2 and not record["pass_at_k"]
    assert all(attempt["status"] != "correct" for attempt in record["attempts"])


def test_traces_from_a_nonsense_teacher_are_all_dropped_with_reasons(real_server, tmp_path):
    from generation.traces import TracesConfig, run_traces
    from tests.llm.test_stages import _problems

    problems = _problems(tmp_path, 2)
    config = TracesConfig(llm=_llm(real_server, tmp_path), output=tmp_path / "traces", samples=2,
                          max_tokens_per_trace=24, dedup_threshold=None)  # fmt: skip
    run = _run(run_traces(problems, config), timeout=120)
    assert dict(run.counts) == {"dropped": 4}
    rejected = [
        json.loads(line)["reason"]
        for line in (tmp_path / "traces" / "rejected.jsonl").read_text().splitlines()
    ]
    assert len(rejected) == 4 and all(r.startswith(("not correct", "truncated")) for r in rejected)
    assert (tmp_path / "traces" / "traces.jsonl").read_text() == ""
