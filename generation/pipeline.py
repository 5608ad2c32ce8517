"""``vqft pipeline``: the paper's chain in one resumable run: generate (and/or adapt) -> qc -> solve.

    output_dir: runs/qft-v1
    llm: {model: gpt-4.1}                 # every stage's default endpoint
    generate: {n: 200, answer_kinds: [code]}
    adapt: {seeds: seeds/, answer_kind: code}
    qc: {judges: [{model: gpt-4.1}, {model: o4-mini}], thresholds: {problem_quality: 75}, combine: mean}
    solve: {llm: {model: Qwen/Qwen3-32B, base_url: "http://localhost:8000/v1"}, k: 4}

Files in ``output_dir``: ``generated.jsonl``, ``adapted.jsonl``, ``candidates.jsonl`` (both, by id),
``qc.jsonl`` (kept by the judges), ``verified.jsonl`` (solved by the independent solver), each with its
``.log`` and its set-aside file. Every stage skips what its log already holds, so re-running the same command
after a crash (or with a larger ``generate.n``) does only the missing work. ``skip`` names stages to leave out:
a skipped stage's input passes through to the next.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from curation.records.io import read_records, write_jsonl
from curation.records.problem import Problem
from generation.llm import LLMClient, LLMConfig

STAGES = ("generate", "adapt", "qc", "solve")


class PipelineError(ValueError):
    """A pipeline config that cannot run; the message names the key."""


def _llm(default: dict[str, Any], block: dict[str, Any] | None, where: str) -> LLMConfig:
    return LLMConfig.from_mapping({**default, **(block or {})}, where).require_model()


async def run_pipeline(
    data: dict[str, Any], skip: tuple[str, ...] = (), where: str = "pipeline"
) -> dict[str, Counter]:
    """Run the stages the config has (minus ``skip``); returns counts per stage."""
    from curation.adapt import AdaptSettings, run_adapt
    from curation.quality import DEFAULT_THRESHOLDS, QCPolicy, run_qc
    from generation.solve import SolveSettings, run_solve
    from generation.synthetic import run_synthetic, synthetic_config

    unknown = sorted(set(data) - {"output_dir", "llm", *STAGES})
    if unknown:
        raise PipelineError(
            f"{where}: unknown key(s) {', '.join(unknown)}; use output_dir, llm, {', '.join(STAGES)}"
        )
    if "output_dir" not in data:
        raise PipelineError(f"{where}: output_dir is required")
    out = Path(data["output_dir"])
    out.mkdir(parents=True, exist_ok=True)
    default = dict(data.get("llm") or {})
    counts: dict[str, Counter] = {}
    candidates: list[Problem] = []

    if "generate" in data and "generate" not in skip:
        block = dict(data["generate"])
        llm = _llm(default, block.pop("llm", None), f"{where}: generate.llm")
        config = synthetic_config({**block, "output": out / "generated.jsonl"}, llm, f"{where}: generate")
        async with LLMClient(config.llm) as client:
            counts["generate"] = (await run_synthetic(config, client)).counts
    if (out / "generated.jsonl").exists() and "generate" in data:
        candidates.extend(read_records(out / "generated.jsonl", Problem))

    if "adapt" in data and "adapt" not in skip:
        block = dict(data["adapt"])
        seeds = block.pop("seeds", None)
        if seeds is None:
            raise PipelineError(f"{where}: adapt.seeds is required (a seeds folder or Seed JSONL)")
        llm = _llm(default, block.pop("llm", None), f"{where}: adapt.llm")
        async with LLMClient(llm) as client:
            counts["adapt"] = await run_adapt(Path(seeds), out / "adapted.jsonl", client, AdaptSettings(**block),
                                              concurrency=llm.max_concurrency)  # fmt: skip
    if (out / "adapted.jsonl").exists() and "adapt" in data:
        candidates.extend(read_records(out / "adapted.jsonl", Problem))

    unique = list({p.id: p for p in candidates}.values())
    write_jsonl(out / "candidates.jsonl", unique)
    current = out / "candidates.jsonl"

    if "qc" in data and "qc" not in skip:
        block = dict(data["qc"] or {})
        judges_blocks = block.pop("judges", None) or [{}]
        thresholds = {**DEFAULT_THRESHOLDS, **(block.pop("thresholds", None) or {})}
        policy = QCPolicy(thresholds=thresholds, combine=block.pop("combine", "mean"))
        judges = [LLMClient(_llm(default, b, f"{where}: qc.judges.{i}")) for i, b in enumerate(judges_blocks)]
        try:
            counts["qc"] = await run_qc(current, out / "qc.jsonl", judges, policy,
                                        concurrency=max(j.config.max_concurrency for j in judges))  # fmt: skip
        finally:
            for judge in judges:
                await judge.aclose()
        current = out / "qc.jsonl"

    if "solve" in data and "solve" not in skip:
        block = dict(data["solve"] or {})
        llm = _llm(default, block.pop("llm", None), f"{where}: solve.llm")
        async with LLMClient(llm) as client:
            counts["solve"] = await run_solve(current, out / "verified.jsonl", client, SolveSettings(**block),
                                              concurrency=llm.max_concurrency)  # fmt: skip
    return counts


__all__ = ["STAGES", "PipelineError", "run_pipeline"]
