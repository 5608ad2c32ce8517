"""Synthetic problems: an LLM writes new verifiable QFT problems from the topic taxonomy (the paper's main source).

    vqft generate synthetic --config generation/configs/synthetic-openai.yaml

The config fixes ``n`` slots; slot ``i`` gets a level (smooth weighted round-robin over the level split, so
every prefix of the plan keeps the split and raising ``n`` only adds slots), a topic of that level (round-robin
over a seeded shuffle), a task type, a difficulty and an answer kind (seeded per slot). For each slot the model
returns statement, short description, solution, final answer and an answer spec (a reference function with test
inputs, a sympy expression, or a label); expected outputs come from running the reference in the sandbox, and
``check_authored`` grades the author's own answer. A failing problem goes back to the model with the reason
(``max_repairs`` times) and is then rejected with that reason. Slots of one topic run one after another, so the
short descriptions of the topic's earlier problems are in the prompt and the model makes something different;
topics run concurrently.

Resumable: every finished slot is a line in ``<output>.log`` (accepted problem, rejection with reason, or failed
request with its error); a re-run skips accepted and rejected slots, retries failed ones, and rewrites
``<output>`` (problems in slot order) and ``<output>.rejected.jsonl`` from the log.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curation.prompts import prompt_hash, render, task_types, template
from curation.records.authored import ANSWER_HINTS, author_problem, problem_from_reply
from curation.records.io import write_jsonl
from curation.records.outcomes import OutcomeLog
from curation.records.problem import Problem, Source
from generation.llm import ConfigError, LLMClient, LLMConfig, read_config_file
from generation.topics import Taxonomy, Topic, load_taxonomy

DIFFICULTIES = ("easy", "medium", "hard")
ANSWER_KINDS = ("code", "symbolic", "categorical")
PROMPTS = ("synthetic_system", "synthetic_user", "repair")


class SyntheticConfigError(ValueError):
    """A synthetic generation config that cannot run; the message names the file and key."""


@dataclass(frozen=True)
class SyntheticConfig:
    llm: LLMConfig
    output: Path
    n: int = 100
    seed: int = 0
    taxonomy: str = "qft"
    levels: dict[str, float] = field(default_factory=dict)  # empty: every level of the taxonomy, equally
    categories: tuple[str, ...] = ()
    task_types: tuple[str, ...] = ()
    difficulties: tuple[str, ...] = DIFFICULTIES
    answer_kinds: tuple[str, ...] = ("code",)
    temperature: float = 0.8
    max_tokens: int = 8192
    max_repairs: int = 2
    earlier_in_prompt: int = 8
    verify_timeout: float = 10.0

    @property
    def rejected(self) -> Path:
        return self.output.with_name(self.output.name.removesuffix(".jsonl") + ".rejected.jsonl")

    @property
    def log(self) -> Path:
        return self.output.with_name(self.output.name + ".log")


def load_synthetic_config(path: str | Path, **overrides: Any) -> SyntheticConfig:
    """Read a YAML config (``llm:`` block plus the fields of SyntheticConfig); ``overrides`` (CLI flags) win."""
    path = Path(path)
    try:
        data = read_config_file(path)
    except ConfigError as exc:
        raise SyntheticConfigError(str(exc)) from None
    llm_overrides = {k: overrides.pop(k) for k in ("model", "base_url") if k in overrides}
    llm = LLMConfig.from_mapping(data.pop("llm", None), f"{path}: llm").with_overrides(**llm_overrides)
    data.update({k: v for k, v in overrides.items() if v is not None})
    return synthetic_config(data, llm, str(path))


def synthetic_config(data: dict[str, Any], llm: LLMConfig, where: str) -> SyntheticConfig:
    """A SyntheticConfig from the fields of a config mapping (without its ``llm:`` block), validated; errors
    name ``where``."""
    data = dict(data)
    known = set(SyntheticConfig.__dataclass_fields__) - {"llm"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SyntheticConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; use {', '.join(sorted(known))}"
        )
    if "output" not in data:
        raise SyntheticConfigError(f"{where}: output is required (the problems JSONL to write), or pass -o")
    data["output"] = Path(data["output"])
    for key in ("categories", "task_types", "difficulties", "answer_kinds"):
        if key in data:
            data[key] = tuple(data[key])
    config = SyntheticConfig(llm=llm, **data)
    _check(config, where)
    return config


def _check(config: SyntheticConfig, where: Path | str) -> None:
    if config.n < 1:
        raise SyntheticConfigError(f"{where}: n must be at least 1")
    bad = sorted(set(config.answer_kinds) - set(ANSWER_KINDS))
    if bad or not config.answer_kinds:
        raise SyntheticConfigError(
            f"{where}: answer_kinds {bad or '[]'} must be from {', '.join(ANSWER_KINDS)}"
        )
    bad = sorted(set(config.difficulties) - set(DIFFICULTIES))
    if bad or not config.difficulties:
        raise SyntheticConfigError(f"{where}: difficulties must be from {', '.join(DIFFICULTIES)}")
    bad = sorted(set(config.task_types) - set(task_types()))
    if bad:
        raise SyntheticConfigError(f"{where}: unknown task type(s) {bad}; use {', '.join(task_types())}")


@dataclass(frozen=True)
class Slot:
    """One problem to make: its place in the plan and what it is about."""

    index: int
    topic: Topic
    level: str
    task_type: str
    difficulty: str
    answer_kind: str

    @property
    def key(self) -> str:
        return f"slot-{self.index:06d}"


def plan_slots(config: SyntheticConfig, taxonomy: Taxonomy) -> list[Slot]:
    """The first ``n`` slots of the plan (prefix-stable: a larger ``n`` keeps these and adds more)."""
    topics = taxonomy.select(categories=config.categories or None)
    by_level: dict[str, list[Topic]] = defaultdict(list)
    for topic in topics:
        by_level[topic.level].append(topic)
    weights = config.levels or dict.fromkeys(by_level, 1.0)
    for level in weights:
        if not by_level.get(level):
            raise SyntheticConfigError(f"levels: no topic of level {level!r} in taxonomy {taxonomy.name}")
    for level, items in by_level.items():
        random.Random(f"{config.seed}:{level}").shuffle(items)
    kinds = config.task_types or tuple(task_types())
    credit = dict.fromkeys(weights, 0.0)
    total = sum(weights.values())
    used: Counter[str] = Counter()
    slots = []
    for index in range(config.n):
        # Smooth weighted round-robin: every prefix is as close to the split as integers allow.
        for level, weight in weights.items():
            credit[level] += weight
        level = max(weights, key=lambda name: (credit[name], -list(weights).index(name)))
        credit[level] -= total
        topic = by_level[level][used[level] % len(by_level[level])]
        used[level] += 1
        rng = random.Random(f"{config.seed}:slot:{index}")
        slots.append(
            Slot(
                index,
                topic,
                level,
                rng.choice(kinds),
                rng.choice(config.difficulties),
                rng.choice(config.answer_kinds),
            )
        )
    return slots


def _messages(slot: Slot, earlier: list[str]) -> list[dict[str, str]]:
    earlier_block = ""
    if earlier:
        listed = "\n".join(f"- {text}" for text in earlier)
        earlier_block = f"Problems already written on this topic (write something different):\n{listed}\n\n"
    user = render(
        "synthetic_user",
        level=slot.level,
        topic_id=slot.topic.id,
        category=slot.topic.category,
        topic_description=slot.topic.description,
        task_type=slot.task_type,
        task_type_description=task_types()[slot.task_type],
        difficulty=slot.difficulty,
        difficulty_description=template(f"difficulty_{slot.difficulty}"),
        answer_kind_description=template(f"answer_{slot.answer_kind}"),
        earlier_block=earlier_block,
        answer_schema_hint=ANSWER_HINTS[slot.answer_kind],
    )
    return [{"role": "system", "content": template("synthetic_system")}, {"role": "user", "content": user}]


async def make_problem(
    client: LLMClient, slot: Slot, earlier: list[str], config: SyntheticConfig, source: dict[str, Any]
) -> dict[str, Any]:
    """The outcome of one slot: ``accepted`` with the problem, ``rejected`` with the reason, or ``failed`` with
    the request error."""
    provenance = {**source, "slot": slot.key, "topic_id": slot.topic.id, "difficulty": slot.difficulty,
                  "category": slot.topic.category}  # fmt: skip

    def build(reply: dict[str, Any], outputs: list[Any] | None) -> Problem:
        return problem_from_reply(reply, Source("synthetic-llm", provenance), topic=slot.topic.id, level=slot.level,
                                  task_type=slot.task_type, outputs=outputs)  # fmt: skip

    return await author_problem(
        client, _messages(slot, earlier), slot.answer_kind, build, stage="generate",
        repair_prompt=lambda reason: render("repair", reason=reason), max_repairs=config.max_repairs,
        verify_timeout=config.verify_timeout, temperature=config.temperature, max_tokens=config.max_tokens,
    )  # fmt: skip


_ERROR_PREFIX = re.compile(r"^\w+: [\w ]+? after \d+ attempt\(s\): ")


def reason_key(reason: str) -> str:
    """A short grouping key for a rejection reason: the request-error prefix dropped, cut at the first detail."""
    text = _ERROR_PREFIX.sub("", reason)
    return re.split(r"[:(]", text, maxsplit=1)[0].strip()[:80]


@dataclass
class StageSummary:
    counts: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)


async def run_synthetic(config: SyntheticConfig, client: LLMClient | None = None) -> StageSummary:
    """Make every slot of the plan that the log does not hold yet; rewrite the output files from the log."""
    taxonomy = load_taxonomy(config.taxonomy)
    slots = plan_slots(config, taxonomy)
    config.output.parent.mkdir(parents=True, exist_ok=True)
    own_client = client is None
    client = client or LLMClient(config.llm)
    source = {"generator": "synthetic", "model": config.llm.model, "prompt_sha256": prompt_hash(*PROMPTS),
              "seed": config.seed, "taxonomy": f"{taxonomy.name} {taxonomy.version}"}  # fmt: skip
    with OutcomeLog(config.log) as log:
        by_topic: dict[str, list[Slot]] = defaultdict(list)
        for slot in slots:
            by_topic[slot.topic.id].append(slot)

        async def topic_worker(topic_slots: list[Slot]) -> None:
            earlier = [
                e["problem"].get("short_description", "")
                for e in (log.get(s.key) for s in topic_slots)
                if e and e["status"] == "accepted"
            ]
            for slot in topic_slots:
                if log.status(slot.key) in ("accepted", "rejected"):
                    continue
                outcome = await make_problem(
                    client, slot, earlier[-config.earlier_in_prompt :], config, source
                )
                log.append({"key": slot.key, "topic": slot.topic.id, **outcome})
                if outcome["status"] == "accepted":
                    earlier.append(outcome["problem"].get("short_description", ""))

        try:
            await asyncio.gather(*(topic_worker(items) for items in by_topic.values()))
        finally:
            if own_client:
                await client.aclose()
            summary = write_outputs(log, slots, config)
    return summary


def write_outputs(log: OutcomeLog, slots: list[Slot], config: SyntheticConfig) -> StageSummary:
    """Rewrite the problems and rejections files from the log (slots in plan order)."""
    summary = StageSummary()
    problems, rejected = [], []
    for slot in slots:
        entry = log.get(slot.key)
        if entry is None:
            summary.counts["pending"] += 1
            continue
        summary.counts[entry["status"]] += 1
        if entry["status"] == "accepted":
            problems.append(Problem.from_dict(entry["problem"]))
        else:
            reason = entry.get("reason") or entry.get("error", {}).get("message", "")
            summary.reasons[reason_key(reason)] += 1
            rejected.append({"slot": slot.key, "topic": slot.topic.id, "level": slot.level, **entry})
    write_jsonl(config.output, problems)
    write_jsonl(config.rejected, rejected)
    return summary
