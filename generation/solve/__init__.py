"""The independent solver: a different model solves each problem up to ``k`` times and the verifier grades each
attempt; a problem nobody can solve is set aside (its answer may be wrong, or it may be ill-posed).

    vqft solve problems.jsonl -o solved.jsonl --model Qwen/Qwen3-32B --k 4

Attempts run one after another and stop at the first correct one (``early_stop``), so easy problems cost one
request. The record on the problem (``problem.solver``): ``{"model", "k", "attempts": [{"status",
"finish_reason"}], "correct", "pass_at_k", "first_correct"}``. A truncated attempt (``finish_reason`` length) is
never counted as correct, whatever its text says.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curation.prompts import render, template
from curation.records.problem import Problem
from generation.llm import LLMClient, LLMError


@dataclass(frozen=True)
class SolveSettings:
    k: int = 4
    early_stop: bool = True
    temperature: float = 0.6
    max_tokens: int = 16384
    verify_timeout: float = 10.0


def solve_messages(problem: Problem) -> list[dict[str, str]]:
    """The solver's prompt: the problem text, then how to give the answer (box or python block)."""
    name = "solve_user_code" if problem.answer.kind == "code" else "solve_user_answer"
    return [
        {"role": "system", "content": template("solve_system")},
        {"role": "user", "content": render(name, problem=problem.problem_text())},
    ]


async def solve(client: LLMClient, problem: Problem, settings: SolveSettings) -> dict[str, Any]:
    """The solver record of ``problem`` (raises LLMError when a request fails for good)."""
    from curation.verify import averify

    attempts: list[dict[str, Any]] = []
    messages = solve_messages(problem)
    for index in range(settings.k):
        # The attempt index is in the request (as the seed), so each attempt is its own cache entry.
        completion = await client.complete(
            messages,
            stage="solve",
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            seed=index,
        )
        sample = completion.samples[0]
        if sample.truncated:
            status = "truncated"
        else:
            status = (await averify(problem, sample.text, settings.verify_timeout)).status
        attempts.append({"status": status, "finish_reason": sample.finish_reason})
        if status == "correct" and settings.early_stop:
            break
    correct = sum(a["status"] == "correct" for a in attempts)
    first = next((i for i, a in enumerate(attempts) if a["status"] == "correct"), None)
    return {
        "model": client.config.model,
        "k": settings.k,
        "attempts": attempts,
        "correct": correct,
        "pass_at_k": correct > 0,
        "first_correct": first,
    }


async def solve_outcome(client: LLMClient, problem: Problem, settings: SolveSettings) -> dict[str, Any]:
    """``solved``/``unsolved`` with the problem carrying its solver record, or ``failed`` with the error."""
    try:
        record = await solve(client, problem, settings)
    except LLMError as exc:
        return {"status": "failed", "error": exc.to_dict()}
    solvers = dict(problem.solver or {})
    solvers[record["model"]] = record
    solved = problem.replace(solver=solvers)
    return {"status": "solved" if record["pass_at_k"] else "unsolved", "problem": solved.to_dict()}


async def run_solve(
    problems: Path, output: Path, client: LLMClient, settings: SolveSettings, *, concurrency: int = 16
) -> Counter:
    """Solve every problem of ``problems`` not solved yet (resumable); write solved problems to ``output`` and
    unsolved or failed ones next to it (``<output>.unsolved.jsonl``). Returns counts by outcome."""
    from curation.records.io import read_records, write_jsonl
    from curation.records.outcomes import OutcomeLog, partition, run_pending

    output.parent.mkdir(parents=True, exist_ok=True)
    unsolved_path = output.with_name(output.name.removesuffix(".jsonl") + ".unsolved.jsonl")
    with OutcomeLog(output.with_name(output.name + ".log")) as log:
        await run_pending(
            read_records(problems, Problem),
            lambda p: p.id,
            lambda p: solve_outcome(client, p, settings),
            log,
            concurrency=concurrency,
        )
        counts, solved, unsolved = partition(read_records(problems, Problem), lambda p: p.id, log, "solved")
        write_jsonl(output, (Problem.from_dict(entry["problem"]) for entry in solved))
        write_jsonl(unsolved_path, unsolved)
    return counts
