"""Adaptation: human-written seed problems (papers, lecture notes, textbooks) minimally rewritten by an LLM into
verifiable problems with the same physics and answer, provenance carried over.

    vqft adapt seeds/ -o adapted.jsonl --config generation/configs/adapt.yaml

Seeds come as Seed JSONL/Parquet (what ``vqft ingest`` writes) or in the paper's layout,
``seeds/<source>/<doc>/matched_pairs.yaml`` (a list of ``problem``/``solution`` mappings). Each seed goes through
the same authoring checks as synthetic problems (reference code run in the sandbox, the author's own answer graded
by the verifier, a bounded repair loop). An adapted problem's provenance holds the seed's id, its source (arXiv id,
file, pages, licence) and the seed text, so the quality check can score correspondence to the seed.

The LLM client is passed in (any object with LLMClient's ``complete_json``): this package holds no network code.
Resumable like every stage: ``<output>.log`` records each seed's outcome; a re-run adapts only what is missing.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from curation.prompts import prompt_hash, render, template
from curation.records.answer import FieldError
from curation.records.authored import ANSWER_HINTS, author_problem, problem_from_reply
from curation.records.io import read_records, write_jsonl
from curation.records.outcomes import OutcomeLog, partition, run_pending
from curation.records.problem import Problem, Source
from curation.records.seed import Seed, SeedSource


class SeedError(ValueError):
    """A seed file that cannot be read; the message names the file (and entry)."""


def read_seed_folder(folder: Path) -> Iterator[Seed]:
    """Seeds from ``<folder>/<source>/<doc>/matched_pairs.yaml`` files, in sorted path order."""
    files = sorted(folder.rglob("matched_pairs.yaml"))
    if not files:
        raise SeedError(
            f"{folder}: no matched_pairs.yaml under it (expected seeds/<source>/<doc>/matched_pairs.yaml)"
        )
    for path in files:
        try:
            entries = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise SeedError(f"{path}: cannot read ({exc})") from None
        if isinstance(entries, dict):
            entries = entries.get("pairs", entries.get("matched_pairs"))
        if not isinstance(entries, list):
            raise SeedError(f"{path}: expected a list of {{problem, solution}} mappings")
        relative = path.parent.relative_to(folder)
        source_name = relative.parts[0] if relative.parts else folder.name
        for number, entry in enumerate(entries, 1):
            if (
                not isinstance(entry, dict)
                or not isinstance(entry.get("problem"), str)
                or not entry["problem"].strip()
            ):
                raise SeedError(
                    f"{path}, entry {number}: needs a non-empty problem: (and optionally solution:)"
                )
            source = SeedSource(kind="document", file=f"{relative.as_posix()}/matched_pairs.yaml",
                                extra={"source": source_name, "entry": number})  # fmt: skip
            yield Seed.create(
                entry["problem"].strip(), source, solution=str(entry.get("solution") or "").strip()
            )


def read_seeds(path: str | os.PathLike) -> Iterator[Seed]:
    """Seeds from a Seed JSONL/Parquet file or a folder in the paper's layout."""
    path = Path(path)
    if path.is_dir():
        return read_seed_folder(path)
    if not path.is_file():
        raise SeedError(f"{path}: no such seeds file or folder")
    return read_records(path, Seed)


@dataclass(frozen=True)
class AdaptSettings:
    answer_kind: str = "code"
    temperature: float = 0.3
    max_tokens: int = 8192
    max_repairs: int = 2
    verify_timeout: float = 10.0
    topic: str = ""
    level: str = ""


def adapt_messages(seed: Seed, answer_kind: str) -> list[dict[str, str]]:

    user = render(
        "adapt_user",
        problem=seed.problem,
        solution=seed.solution or "(no solution given; derive it)",
        answer_kind_description=template(f"answer_{answer_kind}"),
        answer_schema_hint=ANSWER_HINTS[answer_kind],
    )
    return [{"role": "system", "content": template("adapt_system")}, {"role": "user", "content": user}]


def provenance_of(seed: Seed, model: str) -> dict[str, Any]:
    """An adapted problem's provenance: the seed's id and source, the seed text, and the model."""
    return {
        "seed_id": seed.id,
        "seed_source": seed.source.to_dict(),
        "licence": seed.source.licence or "unknown",
        "seed": {"problem": seed.problem, "solution": seed.solution},
        "model": model,
        "prompt_sha256": prompt_hash("adapt_system", "adapt_user", "repair"),
    }


async def adapt_seed(client: Any, seed: Seed, settings: AdaptSettings) -> dict[str, Any]:
    """The outcome of adapting one seed (see ``author_problem``)."""
    source = Source("adapted", provenance_of(seed, client.config.model))

    def build(reply: dict[str, Any], outputs: list[Any] | None) -> Problem:
        return problem_from_reply(reply, source, topic=settings.topic, level=settings.level,
                                  task_type="adapted", outputs=outputs)  # fmt: skip

    return await author_problem(
        client, adapt_messages(seed, settings.answer_kind), settings.answer_kind, build, stage="adapt",
        repair_prompt=lambda reason: render("repair", reason=reason), max_repairs=settings.max_repairs,
        verify_timeout=settings.verify_timeout, temperature=settings.temperature, max_tokens=settings.max_tokens,
    )  # fmt: skip


async def run_adapt(
    seeds: Path, output: Path, client: Any, settings: AdaptSettings, *, concurrency: int = 16
) -> Counter:
    """Adapt every seed not adapted yet (resumable); write problems to ``output`` and rejections (with reasons)
    or failures (with errors) to ``<output>.rejected.jsonl``. Returns counts by outcome."""
    output.parent.mkdir(parents=True, exist_ok=True)
    rejected_path = output.with_name(output.name.removesuffix(".jsonl") + ".rejected.jsonl")
    with OutcomeLog(output.with_name(output.name + ".log")) as log:
        await run_pending(read_seeds(seeds), lambda s: s.id, lambda s: adapt_seed(client, s, settings), log,
                          concurrency=concurrency)  # fmt: skip
        counts, accepted, rejected = partition(read_seeds(seeds), lambda s: s.id, log, "accepted")
        write_jsonl(output, (Problem.from_dict(entry["problem"]) for entry in accepted))
        write_jsonl(rejected_path, rejected)
    return counts


__all__ = ["AdaptSettings", "FieldError", "SeedError", "adapt_seed", "read_seeds", "run_adapt"]
