"""Reasoning traces: a teacher model solves each problem K times, the verifier grades every sample, and the
correct ones become SFT data (the paper's ~200M tokens of QFT traces).

    vqft traces problems.jsonl -o runs/traces --model Qwen/QwQ-32B --base-url http://gpu1:8000/v1
        --base-url http://gpu2:8000/v1 --samples 8 --target-tokens 200M --tokenizer hf:Qwen/Qwen2.5-7B-Instruct

Per problem: one request for K samples (``n``; topped up when a server ignores it), each graded as it arrives;
a ``finish_reason`` of ``length`` is a truncated trace and never kept as correct. A sample is kept when it is
correct (``keep: correct``; ``all`` keeps every graded sample, with its verification), the problem is below its
cap, the token budget is not reached, and it is not a near-duplicate (Jaccard >= ``dedup_threshold`` of word
5-grams) of a trace already kept for the same problem. Every sample, kept or not (with the reason), is a line of
``<DIR>/samples.log`` keyed ``<problem id>:<sample index>``: kill -9 at any point, re-run, and the result has every
finished sample exactly once (the response cache makes the re-run free). At the end of each run the outputs are
rewritten from the log: ``traces.jsonl`` (kept Trace records, ready for a release spec's ``traces`` config),
``pass_rates.jsonl`` (correct/K per problem, for picking RL problems of useful difficulty), ``rejected.jsonl``
(dropped samples with reasons) and ``summary.json``.

Several endpoints (``--base-url`` repeated) share the work: each problem goes to the endpoint with the fewest
requests in flight; an endpoint that fails after its retries is rested for a while and the problem retried on
another, and only when every endpoint fails is the problem recorded as failed (and retried by the next run).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from curation.prompts import render, template
from curation.records.io import read_records, write_jsonl
from curation.records.outcomes import OutcomeLog
from curation.records.problem import Problem
from curation.records.result import Result
from curation.records.tokens import token_counter
from curation.records.trace import ChatMessage, Trace
from generation.llm import LLMClient, LLMConfig, LLMError

KEEP_MODES = ("correct", "all")
LOG_FIELDS = ("problem_id", "index", "tokens", "correct", "reason")  # kept in memory per sample
COOLDOWN = 30.0  # seconds an endpoint rests after failing a request for good


@dataclass(frozen=True)
class TracesConfig:
    llm: LLMConfig
    output: Path
    endpoints: tuple[str, ...] = ()
    samples: int = 4
    target_tokens: int | None = None
    max_tokens_per_trace: int = 16384
    temperature: float = 0.6
    top_p: float | None = 0.95
    system_prompt: str | None = None
    keep: str = "correct"
    per_problem_cap: int | None = None
    tokenizer: str = "pretokens:gpt2"
    dedup_threshold: float | None = 0.9
    verify_timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise ValueError(f"samples must be at least 1, got {self.samples}")
        if self.keep not in KEEP_MODES:
            raise ValueError(f"keep must be one of {', '.join(KEEP_MODES)}, got {self.keep!r}")
        if self.target_tokens is not None and self.target_tokens < 1:
            raise ValueError("target_tokens must be positive")

    @property
    def cap(self) -> int:
        return self.per_problem_cap or self.samples

    @property
    def sampling(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens_per_trace,
                "n": self.samples}  # fmt: skip


def trace_messages(problem: Problem, system_prompt: str | None) -> list[dict[str, str]]:
    """The prompt: the system prompt (default ``traces_system.txt``), then the problem and how to answer it."""
    name = "solve_user_code" if problem.answer.kind == "code" else "solve_user_answer"
    system = system_prompt if system_prompt is not None else template("traces_system")
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": render(name, problem=problem.problem_text())})
    return messages


class EndpointPool:
    """Clients for several endpoints of the same model; ``call`` sends to the least busy healthy one."""

    def __init__(self, clients: Sequence[LLMClient]):
        self.clients = list(clients)
        self.in_flight = [0] * len(self.clients)
        self.rested_until = [0.0] * len(self.clients)
        self.failures = [0] * len(self.clients)

    def _order(self) -> list[int]:
        now = time.monotonic()
        healthy = [i for i in range(len(self.clients)) if self.rested_until[i] <= now]
        resting = [i for i in range(len(self.clients)) if self.rested_until[i] > now]
        return sorted(healthy, key=lambda i: self.in_flight[i]) + sorted(
            resting, key=lambda i: self.rested_until[i]
        )

    async def complete(self, messages: list[dict[str, str]], **options: Any):
        last: LLMError | None = None
        for index in self._order():
            self.in_flight[index] += 1
            try:
                return await self.clients[index].complete(messages, **options)
            except LLMError as exc:
                if exc.kind.startswith("http 4") and exc.kind not in ("http 408", "http 429"):
                    raise  # the request is bad: another endpoint would refuse it too
                last = exc
                self.failures[index] += 1
                self.rested_until[index] = time.monotonic() + COOLDOWN
            finally:
                self.in_flight[index] -= 1
        assert last is not None
        raise last

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


@dataclass
class TraceRun:
    """What one run of the stage did (and the totals over the whole log)."""

    counts: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    kept_tokens: int = 0
    problems: int = 0
    failed_problems: int = 0
    budget_reached: bool = False


class TraceSampler:
    """Samples, grades and logs traces for problems (see the module docstring)."""

    def __init__(self, config: TracesConfig, pool: EndpointPool, log: OutcomeLog):
        self.config = config
        self.pool = pool
        self.log = log
        self.counter = token_counter(config.tokenizer)
        self.run = TraceRun()
        # Only counts live in memory; the texts of a problem's kept traces are read back when it is sampled.
        self.kept_count: Counter = Counter()
        for key in log.keys():
            small = log.fields(key)
            if log.status(key) == "kept":
                self.run.kept_tokens += small["tokens"]
                self.kept_count[small["problem_id"]] += 1

    def budget_left(self) -> bool:
        target = self.config.target_tokens
        return target is None or self.run.kept_tokens < target

    async def sample_problem(self, problem: Problem) -> None:
        config = self.config
        keys = [f"{problem.id}:{i}" for i in range(config.samples)]
        if all(self.log.status(key) in ("kept", "dropped") for key in keys):
            return
        if self.kept_count[problem.id] >= config.cap or not self.budget_left():
            return
        kept_texts = [_shingles(self.log.get(key)["trace"]) for key in keys if self.log.status(key) == "kept"]
        messages = trace_messages(problem, config.system_prompt)
        try:
            completion = await self.pool.complete(
                messages, stage="traces", n=config.samples, temperature=config.temperature, top_p=config.top_p,
                max_tokens=config.max_tokens_per_trace,
            )  # fmt: skip
        except LLMError as exc:
            self.run.failed_problems += 1
            self.run.counts["failed"] += 1
            self.log.append({"key": f"{problem.id}:failed", "status": "failed", "problem_id": problem.id,
                             "error": exc.to_dict()})  # fmt: skip
            return
        self.run.problems += 1
        graded: dict[
            Any, Result
        ] = {}  # final answer -> its grade: K samples often agree, grading once suffices
        for index, sample in enumerate(completion.samples):
            if self.log.status(keys[index]) in ("kept", "dropped"):
                continue
            await self._grade_and_log(
                problem, messages, completion.model or config.llm.model, index, sample, kept_texts, graded
            )

    async def _grade_and_log(
        self, problem: Problem, messages: list, model: str, index: int, sample, kept_texts: list, graded: dict
    ) -> None:
        from curation.verify import averify

        config = self.config
        if sample.truncated:
            result = Result(
                problem.id, "no_answer", {"reason": "truncated at max_tokens (finish_reason length)"}
            )
        else:
            key = answer_key(problem, sample.text)
            result = graded.get(key) if key is not None else None
            if result is None:
                result = await averify(problem, sample.text, config.verify_timeout)
                if key is not None and result.status not in ("timeout", "error"):
                    graded[key] = result
        assistant = (
            f"<think>\n{sample.reasoning}\n</think>\n\n{sample.text}" if sample.reasoning else sample.text
        )
        # A Rust tokenizer releases the GIL, so counting overlaps the event loop's other work.
        tokens = (await asyncio.to_thread(self.counter.count, [assistant]))[0]
        trace = Trace(
            problem_id=problem.id,
            messages=tuple(ChatMessage(m["role"], m["content"]) for m in messages)
            + (ChatMessage("assistant", assistant),),
            model=model,
            verification=result,
            num_tokens=tokens,
            tokenizer=self.counter.name,
            reasoning=sample.reasoning,
            final=sample.text,
            sampling={**config.sampling, "sample_index": index},
            finish_reason=sample.finish_reason,
        )
        shingles: list = []  # filled by _drop_reason only when the near-duplicate check runs
        reason = self._drop_reason(problem, trace, result, kept_texts, shingles)
        status = "dropped" if reason else "kept"
        entry = {"key": f"{problem.id}:{index}", "status": status, "problem_id": problem.id, "index": index,
                 "correct": result.status == "correct" and not sample.truncated, "tokens": tokens,
                 "trace": trace.to_dict()}  # fmt: skip
        if reason:
            entry["reason"] = reason
            self.run.reasons[reason.split(" (")[0]] += 1
        else:
            self.run.kept_tokens += tokens
            self.kept_count[problem.id] += 1
            kept_texts.append(shingles[0] if shingles else _shingles(trace.to_dict()))
        self.run.counts[status] += 1
        self.log.append(entry)

    def _drop_reason(
        self, problem: Problem, trace: Trace, result: Result, kept: list, shingles: list
    ) -> str | None:
        config = self.config
        if trace.finish_reason == "length":
            return "truncated (finish_reason length)"
        if config.keep == "correct" and result.status != "correct":
            return f"not correct ({result.status})"
        if self.kept_count[problem.id] >= config.cap:
            return f"problem at its cap of {config.cap} kept traces"
        if not self.budget_left():
            return f"token budget of {config.target_tokens} reached"
        if config.dedup_threshold is not None and kept:
            # Exact Jaccard against the few kept traces of this problem: cheaper than MinHash at this size.
            shingles.append(_shingles(trace.to_dict()))
            if any(_jaccard(shingles[0], other) >= config.dedup_threshold for other in kept):
                return f"near-duplicate of a kept trace of the same problem (Jaccard >= {config.dedup_threshold})"
        return None


def answer_key(problem: Problem, text: str) -> Any:
    """What the verifier would grade in ``text`` (the final python block for code answers, the answer
    candidates otherwise), so samples with the same final answer are graded once; None when there is nothing."""
    from curation.verify.extract import answer_candidates, final_segment, last_python_block

    final = final_segment(text)
    if final is None:
        return None
    if problem.answer.kind == "code":
        block = last_python_block(final)
        return None if block is None else ("code", block)
    candidates = answer_candidates(final)
    return ("answer", tuple(candidates)) if candidates else None


def _trace_text(trace: dict[str, Any]) -> str:
    return f"{trace.get('reasoning', '')}\n{trace.get('final', '')}"


_GRAM_MULTIPLIERS = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5)


def _shingles(trace: dict[str, Any]) -> Any:
    """The hashed word 5-grams of a trace's lowercased text, sorted and distinct (what the near-duplicate check
    compares). Words are hashed once with Python's hash and combined in numpy: several times cheaper than the
    dedup module's normalization for a handful of long texts, and the values only live for one run."""
    import numpy as np

    words = np.fromiter(map(hash, _trace_text(trace).lower().split()), dtype=np.int64).view(np.uint64)
    if len(words) < 5:
        return np.unique(words)
    grams = words[:-4].copy()
    for shift, k in enumerate(
        (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5), 1
    ):
        grams = grams * np.uint64(k) ^ words[shift : len(words) - 4 + shift]
    return np.unique(grams)


def _jaccard(a: Any, b: Any) -> float:
    import numpy as np

    if not len(a) and not len(b):
        return 1.0
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (len(a) + len(b) - common)


async def run_traces(
    problems_path: Path, config: TracesConfig, clients: Sequence[LLMClient] | None = None
) -> TraceRun:
    """Sample traces for every problem of ``problems_path`` that still needs them; rewrite the outputs."""
    out = config.output
    out.mkdir(parents=True, exist_ok=True)
    own = clients is None
    if clients is None:
        urls = config.endpoints or (config.llm.base_url,)
        clients = [LLMClient(replace(config.llm, base_url=url)) for url in urls]
    pool = EndpointPool(clients)
    with OutcomeLog(out / "samples.log", index_fields=LOG_FIELDS) as log:
        sampler = TraceSampler(config, pool, log)
        problems = iter(read_records(problems_path, Problem))
        workers = sum(c.config.max_concurrency for c in clients)

        async def worker() -> None:
            for problem in problems:
                if not sampler.budget_left():
                    sampler.run.budget_reached = True
                    return
                await sampler.sample_problem(problem)

        try:
            await asyncio.gather(*(worker() for _ in range(max(1, workers))))
        finally:
            if own:
                await pool.aclose()
            write_outputs(log, out, problems_path, config, sampler.run)
    return sampler.run


def write_outputs(
    log: OutcomeLog, out: Path, problems_path: Path, config: TracesConfig, run: TraceRun
) -> None:
    """Rewrite traces.jsonl, pass_rates.jsonl, rejected.jsonl and summary.json from the log, in problem order,
    streaming: only the per-sample fields the log indexes are held in memory, never the traces."""
    samples: dict[str, list[str]] = {}
    for key in log.keys():
        small = log.fields(key)
        if log.status(key) in ("kept", "dropped"):
            samples.setdefault(small["problem_id"], []).append(key)
    # problem id -> (topic, level), in the problems file's order (one read of the file)
    meta = {p.id: (p.topic, p.level) for p in read_records(problems_path, Problem) if p.id in samples}
    order = list(meta)

    def keys_of(problem_id: str) -> list[str]:
        return sorted(samples[problem_id], key=lambda key: log.fields(key)["index"])

    def kept() -> Iterator[Trace]:
        for problem_id in order:
            for key in keys_of(problem_id):
                if log.status(key) == "kept":
                    yield Trace.from_dict(log.get(key)["trace"])

    def rates() -> Iterator[dict[str, Any]]:
        for problem_id in order:
            fields = [log.fields(key) for key in keys_of(problem_id)]
            correct = sum(bool(f["correct"]) for f in fields)
            topic, level = meta[problem_id]
            yield {"problem_id": problem_id, "topic": topic, "level": level, "samples": len(fields),
                   "correct": correct, "pass_rate": round(correct / len(fields), 6)}  # fmt: skip

    def rejected() -> Iterator[dict[str, Any]]:
        for problem_id in order:
            for key in keys_of(problem_id):
                if log.status(key) == "dropped":
                    yield {"key": key, **log.fields(key)}

    write_jsonl(out / "traces.jsonl", kept())
    write_jsonl(out / "pass_rates.jsonl", rates())
    write_jsonl(out / "rejected.jsonl", rejected())
    statuses: Counter = Counter()
    reasons: Counter = Counter()
    kept_tokens = 0
    for problem_id in order:
        for key in samples[problem_id]:  # kept or dropped only
            status, small = log.status(key), log.fields(key)
            statuses[status] += 1
            if status == "kept":
                kept_tokens += small["tokens"]
            else:
                reasons[small["reason"].split(" (")[0]] += 1
    summary = {
        "model": config.llm.model,
        "tokenizer": config.tokenizer,
        "sampling": config.sampling,
        "keep": config.keep,
        "problems": len(order),
        "samples": statuses["kept"] + statuses["dropped"],
        "kept": statuses["kept"],
        "kept_tokens": kept_tokens,
        "dropped": statuses["dropped"],
        "dropped_by_reason": dict(reasons.most_common()),
        "failed_problems_this_run": run.failed_problems,
        "target_tokens": config.target_tokens,
        "budget_reached": config.target_tokens is not None and kept_tokens >= config.target_tokens,
    }
    tmp = out / "summary.json.tmp"
    tmp.write_text(json.dumps(summary, indent=2) + "\n")
    tmp.replace(out / "summary.json")
