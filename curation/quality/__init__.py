"""Quality checks: LLM judges score each problem 0-100 with reasons, and a threshold filter keeps or sets aside.

    vqft qc problems.jsonl -o kept.jsonl --config qc.yaml

Criteria (the paper's): problem quality, solution completeness, solution quality, test-case quality, and for
problems adapted from a human-written seed, correspondence to the seed. Several judge models can score the same
problem; their scores are combined per criterion (``mean`` or ``min``) before the thresholds apply. Scores and
reasons land in ``problem.qc`` as ``{model: {criterion: {"score", "reason"}}}``; a set-aside problem keeps its
scores and gets the reasons it failed.

The judges are any objects with LLMClient's ``complete_json`` (this package imports no client itself: the CLI
passes them in), so the curation layer stays free of network code.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from curation.prompts import render, template
from curation.records.answer import CategoricalAnswer, CodeAnswer, SymbolicAnswer
from curation.records.problem import Problem

CRITERIA = ("problem_quality", "solution_completeness", "solution_quality", "test_case_quality")
SEED_CRITERION = "seed_correspondence"
DEFAULT_THRESHOLDS = dict.fromkeys((*CRITERIA, SEED_CRITERION), 70)


class Judge(Protocol):
    config: Any

    async def complete_json(
        self, messages, schema, *, stage: str, name: str, **options: Any
    ) -> tuple[Any, Any]: ...


def qc_schema(adapted: bool) -> dict[str, Any]:
    """The JSON a judge returns: a score and a reason per criterion."""
    criteria = (*CRITERIA, SEED_CRITERION) if adapted else CRITERIA
    item = {
        "type": "object",
        "required": ["score", "reason"],
        "properties": {
            "score": {"type": "integer", "minimum": 0, "maximum": 100},
            "reason": {"type": "string"},
        },
    }
    return {"type": "object", "required": list(criteria), "properties": dict.fromkeys(criteria, item)}


def answer_summary(problem: Problem) -> str:
    """The reference answer as a judge reads it."""
    answer = problem.answer
    if isinstance(answer, CodeAnswer):
        cases = [
            {"inputs": c.inputs, "expected": c.output, "rtol": c.rtol, "atol": c.atol}
            for c in answer.test_cases
        ]
        return f"```python\n{answer.reference}\n```\nTest cases: {json.dumps(cases)[:4000]}"
    if isinstance(answer, SymbolicAnswer):
        return f"{problem.answer_text} (sympy: `{answer.expr}`, symbols {answer.symbols})"
    if isinstance(answer, CategoricalAnswer):
        return f"{answer.value} (choices: {', '.join(answer.choices)})"
    return problem.answer_text or json.dumps(answer.to_dict())


def judge_messages(problem: Problem, seed_text: str | None) -> list[dict[str, str]]:

    seed_block = f"\n## The human-written seed it was adapted from\n{seed_text}\n" if seed_text else ""
    seed_criterion = (
        "\n- seed_correspondence: does the problem keep the seed's physics and answer, changing only what makes "
        "it verifiable?"
        if seed_text
        else ""
    )
    user = render(
        "qc_user",
        statement=problem.statement,
        answer_requirements=problem.answer_requirements or "(none)",
        solution=problem.solution or "(none)",
        answer_summary=answer_summary(problem),
        seed_block=seed_block,
        seed_criterion=seed_criterion,
    )
    return [{"role": "system", "content": template("qc_system")}, {"role": "user", "content": user}]


def seed_text_of(problem: Problem) -> str | None:
    """The seed problem and solution an adapted problem carries in its provenance, if any."""
    provenance = problem.source.provenance
    seed = provenance.get("seed") if problem.source.kind == "adapted" else None
    if not isinstance(seed, dict):
        return None
    return f"Problem: {seed.get('problem', '')}\n\nSolution: {seed.get('solution', '')}"


async def score(judge: Judge, problem: Problem) -> dict[str, dict[str, Any]]:
    """One judge's scores of one problem: ``{criterion: {"score", "reason"}}``."""
    seed_text = seed_text_of(problem)
    scores, _ = await judge.complete_json(
        judge_messages(problem, seed_text),
        qc_schema(seed_text is not None),
        stage="qc",
        name="scores",
        temperature=0.0,
    )
    return {name: {"score": int(v["score"]), "reason": v["reason"]} for name, v in scores.items()}


@dataclass(frozen=True)
class QCPolicy:
    """Minimum combined score per criterion, and how several judges combine (``mean`` or ``min``)."""

    thresholds: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    combine: str = "mean"

    def __post_init__(self) -> None:
        if self.combine not in ("mean", "min"):
            raise ValueError(f"qc combine must be mean or min, got {self.combine!r}")
        unknown = sorted(set(self.thresholds) - {*CRITERIA, SEED_CRITERION})
        if unknown:
            raise ValueError(
                f"qc thresholds: unknown criteria {unknown}; use {', '.join((*CRITERIA, SEED_CRITERION))}"
            )

    def decide(self, qc: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
        """Why a problem with these scores (by judge model) is set aside; empty: keep it."""
        if not qc:
            return ["no judge scored it"]
        reasons = []
        criteria = sorted({c for scores in qc.values() for c in scores})
        for criterion in criteria:
            values = [scores[criterion]["score"] for scores in qc.values() if criterion in scores]
            combined = statistics.fmean(values) if self.combine == "mean" else min(values)
            threshold = self.thresholds.get(criterion, DEFAULT_THRESHOLDS.get(criterion, 0))
            if combined < threshold:
                judged = "; ".join(f"{model}: {scores[criterion]['reason']}" for model, scores in qc.items()
                                   if criterion in scores)  # fmt: skip
                reasons.append(f"{criterion} {combined:.0f} < {threshold} ({judged})")
        return reasons


async def judge_all(judges: Sequence[Judge], problem: Problem) -> dict[str, dict[str, dict[str, Any]]]:
    """Every judge's scores of a problem, keyed by the judge's model name."""
    import asyncio

    results = await asyncio.gather(*(score(judge, problem) for judge in judges))
    return {judge.config.model: result for judge, result in zip(judges, results, strict=True)}


def _outputs(output: Path) -> tuple[Path, Path]:
    stem = output.name.removesuffix(".jsonl")
    return output.with_name(stem + ".set_aside.jsonl"), output.with_name(output.name + ".log")


async def run_qc(
    problems: Path, output: Path, judges: Sequence[Judge], policy: QCPolicy, *, concurrency: int = 16
) -> Counter:
    """Score every problem of ``problems`` not scored yet (resumable), then write the kept problems to
    ``output`` and the set-aside ones, with their reasons, next to it. Returns counts by outcome."""
    from curation.records.io import read_records, write_jsonl
    from curation.records.outcomes import OutcomeLog, partition, run_pending

    set_aside_path, log_path = _outputs(output)
    output.parent.mkdir(parents=True, exist_ok=True)

    async def work(problem: Problem) -> dict[str, Any]:
        try:
            qc = await judge_all(judges, problem)
        except Exception as exc:  # an LLMError after retries, or a judge that never produced valid JSON
            to_dict = getattr(exc, "to_dict", None)
            return {"status": "failed", "error": to_dict() if to_dict else {"message": str(exc)}}
        merged = {**(problem.qc or {}), **qc}
        reasons = policy.decide(merged)
        scored = problem.replace(qc=merged)
        return {"status": "set_aside" if reasons else "kept", "reasons": reasons, "problem": scored.to_dict()}

    with OutcomeLog(log_path) as log:
        await run_pending(read_records(problems, Problem), lambda p: p.id, work, log, concurrency=concurrency)
        counts, kept, aside = partition(read_records(problems, Problem), lambda p: p.id, log, "kept")
        write_jsonl(output, (Problem.from_dict(entry["problem"]) for entry in kept))
        write_jsonl(set_aside_path, aside)
    return counts
