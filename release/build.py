"""``build_release``: a release spec in, a folder laid out like a Hub dataset repo out.

    spec = load_spec("release/specs/demo.yaml")
    result = build_release(spec, Path("build/demo"))

The folder::

    README.md                     the dataset card (cards/), rendered from manifest.json
    manifest.json                 shards (rows, bytes, tokens, sha256), statistics, curation reports, provenance
    images/*.png                  the card's plots
    data/<config>/<split>-00000-of-0000N.parquet
    .build/                       resume state: curated problems, dropped records with reasons, progress logs

Stages are resumable: curated problems are kept under ``.build/<config>/``, each finished Parquet part is
recorded in an append-only log, and a re-run after a crash skips what is recorded. The same spec and inputs
give byte-identical shards (no timestamps or randomness in them; the build time lives in the manifest only).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from curation.records.io import JsonlAppender, read_json_lines, read_jsonl, write_jsonl
from curation.records.problem import Problem
from curation.records.tokens import TokenCounter, token_counter
from release.curate import CurationReport, Dropped, curate_problems, trace_records
from release.shards import ShardedTableWriter, part_path, publish_parts
from release.spec import ConfigSpec, ReleaseSpec
from release.splits import assign_splits, groups_per_split
from release.stats import table_counts, token_summary
from release.tables import (
    FEATURES,
    messages_text,
    problem_row,
    problem_token_text,
    row_text_bytes,
    sft_messages,
    sft_row,
    trace_row,
)

MANIFEST_FORMAT = "vqft-release/1"
STATE_DIR = ".build"
TOKEN_BATCH = 256  # rows whose tokens are counted in one batch call


class BuildError(RuntimeError):
    """The build cannot go on; the message says what to do."""


@dataclass
class BuildResult:
    """What a build did: the manifest it wrote and how many parts it wrote versus found finished."""

    out_dir: Path
    manifest: dict[str, Any]
    parts_written: int = 0
    parts_reused: int = 0
    dropped: dict[str, int] = field(default_factory=dict)


def _tool_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for dist in ("verifiable-qft", "datasets", "huggingface-hub", "pyarrow", "numpy", "sympy", "tokenizers"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _git_commit() -> str | None:
    """The commit of the verifiable-qft checkout that builds, when it is one (None for a wheel install)."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _write_json(path: Path, data: Any) -> None:
    """Atomically write JSON (keys in insertion order: configs and splits in the order of the spec)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    os.replace(tmp, path)


def _check_state(state: Path, spec: ReleaseSpec) -> None:
    """Refuse to resume a folder that another spec (or another version of this one) started."""
    state.mkdir(parents=True, exist_ok=True)
    marker = state / "spec.json"
    mine = {"spec_sha256": spec.sha256, "name": spec.name, "version": spec.version}
    if marker.exists():
        theirs = json.loads(marker.read_text())
        if theirs.get("spec_sha256") != spec.sha256:
            raise BuildError(
                f"{state.parent} holds a build of another spec (sha256 {theirs.get('spec_sha256', '?')[:12]}, "
                f"this one {spec.sha256[:12]}); build into a new folder, or pass --overwrite to start over"
            )
    else:
        _write_json(marker, mine)


def _curated(config: ConfigSpec, spec: ReleaseSpec, state: Path, log: Callable) -> tuple[list[Problem], dict]:
    """A problems config after its curation stages, from ``.build`` when an earlier run finished them."""
    folder = state / config.name
    records, report_path = folder / "curated.jsonl", folder / "curation.json"
    if records.exists() and report_path.exists():
        log(f"{config.name}: curated problems from an earlier run ({records})")
        return list(read_jsonl(records, Problem)), json.loads(report_path.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    dropped: list[Dropped] = []
    problems, report = curate_problems(config, spec.path.parent, dropped.append)
    write_jsonl(folder / "dropped.jsonl", (d.to_dict() for d in dropped))
    write_jsonl(records, problems)
    _write_json(report_path, report.to_dict())
    log(f"{config.name}: {report.input} problems in, {report.output} kept ({len(dropped)} dropped)")
    return problems, report.to_dict()


def _finished_parts(progress: Path, parts_dir: Path, data_dir: Path) -> dict[str, list[dict]]:
    """Per split, the parts a previous run recorded and whose files are still there (a contiguous prefix)."""
    parts: dict[str, dict[int, dict]] = {}
    if progress.exists():
        for _, entry in read_json_lines(progress):
            parts.setdefault(entry["split"], {})[entry["index"]] = entry
    finished: dict[str, list[dict]] = {}
    for split, by_index in parts.items():
        finished[split] = []
        for index in range(len(by_index)):
            entry = by_index.get(index)
            present = entry is not None and (
                part_path(parts_dir, split, index).exists()
                or any(data_dir.glob(f"{split}-{index:05d}-of-*.parquet"))
            )
            if not present:
                break
            finished[split].append(entry)
    return finished


def _count_tokens(counter: TokenCounter, batch: list[tuple[str, dict, str | None]]) -> list[int]:
    texts = [text for _, _, text in batch if text is not None]
    counted = iter(counter.count(texts))
    return [next(counted) if text is not None else row["num_tokens"] for _, row, text in batch]


def _write_config(
    config: ConfigSpec,
    rows: Iterator[tuple[str, dict, str | None]],
    splits: tuple[str, ...],
    spec: ReleaseSpec,
    out_dir: Path,
    counter: TokenCounter,
) -> tuple[dict[str, Any], int, int]:
    """Write one config's rows (split, row, token text or None when ``row['num_tokens']`` is already right)
    into parts, then publish them. Returns per-split shard lists and token summaries, parts written, reused."""
    state = out_dir / STATE_DIR / config.name
    parts_dir = state / "parts"
    data_dir = out_dir / "data" / config.name
    progress_path = state / "progress.jsonl"
    finished = _finished_parts(progress_path, parts_dir, data_dir)
    skip = {split: sum(p["rows"] for p in finished.get(split, [])) for split in splits}
    reused = sum(len(v) for v in finished.values())
    writers: dict[str, ShardedTableWriter] = {}
    with JsonlAppender(progress_path) as progress:
        for split in splits:
            writers[split] = ShardedTableWriter(
                parts_dir, config.name, split, FEATURES[config.type], spec.shards, progress,
                first_index=len(finished.get(split, [])),
            )  # fmt: skip
        batch: list[tuple[str, dict, str | None]] = []

        def flush() -> None:
            for (split, row, _), tokens in zip(batch, _count_tokens(counter, batch), strict=True):
                if "num_tokens" in row:
                    row["num_tokens"] = tokens
                writers[split].add(row, tokens, row_text_bytes(row))
            batch.clear()

        try:
            for split, row, text in rows:
                if skip[split]:
                    skip[split] -= 1
                    continue
                batch.append((split, row, text))
                if len(batch) >= TOKEN_BATCH:
                    flush()
            flush()
            for writer in writers.values():
                writer.close()
        except BaseException:
            for writer in writers.values():
                writer.abort()
            raise
    written = sum(w.parts_written for w in writers.values())
    # Every part of every split is on disk now; give them their final names.
    finished = _finished_parts(progress_path, parts_dir, data_dir)
    out: dict[str, Any] = {}
    for split in splits:
        parts = finished.get(split, [])
        if not parts:
            continue
        stale = {p.name for p in data_dir.glob(f"{split}-*.parquet")} - {
            f"{split}-{p['index']:05d}-of-{len(parts):05d}.parquet" for p in parts
        }
        for name in stale:
            (data_dir / name).unlink()
        shards = publish_parts(parts_dir, data_dir, split, parts)
        out[split] = {
            "shards": [{**s, "file": s["file"].relative_to(out_dir).as_posix()} for s in shards],
            "tokens": token_summary([t for p in parts for t in p["row_tokens"]]),
        }
    return out, written, reused


def _problem_rows(problems: list[Problem], splits: dict[str, str]) -> Iterator[tuple[str, dict, str]]:
    for problem in problems:
        yield splits[problem.id], problem_row(problem), problem_token_text(problem)


def _sft_rows(
    config: ConfigSpec, problems: list[Problem], splits: dict[str, str]
) -> Iterator[tuple[str, dict, str]]:
    for problem in problems:
        messages = sft_messages(problem, config.system_prompt, config.answer_form)
        yield splits[problem.id], sft_row(problem, messages, 0), messages_text(messages)


def _trace_rows(
    config: ConfigSpec, splits: dict[str, str], tokenizer: str, report: CurationReport, on_drop: Callable
) -> Iterator[tuple[str, dict, str | None]]:
    for trace in trace_records(config, report, on_drop):
        split = splits.get(trace.problem_id)
        if split is None:
            on_drop(Dropped(trace.to_dict(), "split", f"problem {trace.problem_id} is not in this release"))
            continue
        report.output += 1
        if trace.tokenizer == tokenizer:
            yield split, trace_row(trace, trace.num_tokens, tokenizer), None
        else:
            yield split, trace_row(trace, 0, tokenizer), messages_text(trace.chat())


def _sample_traces(config: ConfigSpec, spec: ReleaseSpec, state: Path, log: Callable) -> None:
    """The ``sample:`` stage of a traces config: ``vqft traces`` over the release's curated problems, into the
    config's traces folder (resumable: a re-run samples only what its log lacks; cached responses are free)."""
    from generation.llm import ConfigError, LLMConfig, run_sync
    from generation.traces import TracesConfig, run_traces

    options = dict(config.source.params["sample"])
    where = f"{spec.path}: configs.{config.name}.source.sample.llm"
    try:
        llm = LLMConfig.from_mapping(options.pop("llm"), where).require_model()
    except ConfigError as exc:
        raise BuildError(str(exc)) from None
    if "endpoints" in options:
        options["endpoints"] = tuple(options["endpoints"])
    tokenizer = spec.tokenizer
    if tokenizer.startswith("file:") and not Path(tokenizer[5:]).is_absolute():
        tokenizer = f"file:{(spec.path.parent / tokenizer[5:]).resolve()}"  # num_tokens then need no recount
    problems = state / spec.problems_config.name / "curated.jsonl"
    folder = Path(config.source.params["run"])
    run = run_sync(run_traces(problems, TracesConfig(llm=llm, output=folder, tokenizer=tokenizer, **options)))
    log(f"{config.name}: sampled traces into {folder} ({dict(run.counts)} this run)")


def traces_run_report(folder: Path, problems: dict[str, Problem]) -> dict[str, Any]:
    """What the `vqft traces` run behind a traces config did: teacher, sampling, what it dropped and why, and the
    pass rates of the release's problems."""
    from release.stats import pass_rate_histogram

    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        raise BuildError(
            f"{folder}: no summary.json; is it a `vqft traces` output folder? (or use source: {{path: ...}})"
        )
    summary = json.loads(summary_path.read_text())
    rates = []
    rates_path = folder / "pass_rates.jsonl"
    if rates_path.is_file():
        rates = [
            entry["pass_rate"] for _, entry in read_json_lines(rates_path) if entry["problem_id"] in problems
        ]
    return {
        "model": summary.get("model"),
        "sampling": summary.get("sampling"),
        "keep": summary.get("keep"),
        "samples": summary.get("samples"),
        "kept": summary.get("kept"),
        "dropped_by_reason": summary.get("dropped_by_reason", {}),
        "pass_rates": {
            "problems": len(rates),
            "mean": round(sum(rates) / len(rates), 4) if rates else None,
            "histogram": pass_rate_histogram(rates),
        },  # fmt: skip
    }


def build_release(
    spec: ReleaseSpec,
    out_dir: str | os.PathLike,
    *,
    overwrite: bool = False,
    progress: bool = False,
    log: Callable[[str], None] = lambda message: None,
) -> BuildResult:
    """Build (or finish building) the release ``spec`` describes into ``out_dir``; see the module docstring."""
    out_dir = Path(out_dir)
    state = out_dir / STATE_DIR
    if overwrite and out_dir.exists():
        for name in (STATE_DIR, "data", "images", "README.md", "manifest.json"):
            target = out_dir / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    _check_state(state, spec)
    counter = token_counter(spec.tokenizer, base=spec.path.parent)
    result = BuildResult(out_dir=out_dir, manifest={})

    curated: dict[str, list[Problem]] = {}
    curation: dict[str, dict] = {}
    for config in spec.configs.values():
        if config.type == "problems":
            curated[config.name], curation[config.name] = _curated(config, spec, state, log)
    everyone = {p.id: p for problems in curated.values() for p in problems}
    splits = assign_splits(spec.split, everyone.values())
    split_names = spec.split.splits

    configs_out: dict[str, Any] = {}
    for config in spec.configs.values():
        if config.type == "problems":
            rows = _problem_rows(curated[config.name], splits)
        elif config.type == "sft":
            source = curated[config.source.config]
            rows = _sft_rows(config, source, splits)
            curation[config.name] = {
                "input": len(source),
                "output": len(source),
                "from_config": config.source.config,
            }
        else:
            if config.source.params.get("sample"):
                _sample_traces(config, spec, state, log)
            report = CurationReport()
            dropped_path = state / config.name / "dropped.jsonl"
            dropped_path.parent.mkdir(parents=True, exist_ok=True)
            dropped_file = JsonlAppender(dropped_path.with_name("dropped.jsonl.partial"), fsync=False)
            rows = _trace_rows(config, splits, counter.name, report, dropped_file.append)
        try:
            written, parts_written, parts_reused = _write_config(
                config, rows, split_names, spec, out_dir, counter
            )
        finally:
            if config.type == "traces":
                dropped_file.close()
        if config.type == "traces":
            os.replace(dropped_path.with_name("dropped.jsonl.partial"), dropped_path)
            curation[config.name] = report.to_dict()
            if config.source.kind == "traces":
                curation[config.name]["run"] = traces_run_report(Path(config.source.params["run"]), everyone)
        result.parts_written += parts_written
        result.parts_reused += parts_reused
        configs_out[config.name] = written
        log(f"{config.name}: {parts_written} shard(s) written, {parts_reused} reused from an earlier run")

    manifest = _manifest(spec, out_dir, configs_out, curation, splits, everyone)
    _write_json(out_dir / "manifest.json", manifest)
    from cards.dataset_card import write_card

    write_card(out_dir, manifest)
    result.manifest = manifest
    return result


def _manifest(
    spec: ReleaseSpec,
    out_dir: Path,
    configs_out: dict[str, Any],
    curation: dict[str, dict],
    splits: dict[str, str],
    problems: dict[str, Problem],
) -> dict[str, Any]:
    shards = []
    configs: dict[str, Any] = {}
    meta = {pid: (p.topic, p.level) for pid, p in problems.items()}
    for config in spec.configs.values():
        written = configs_out[config.name]
        config_splits = {}
        for split, info in written.items():
            paths = [out_dir / s["file"] for s in info["shards"]]
            config_splits[split] = {
                "rows": sum(s["rows"] for s in info["shards"]),
                "file_bytes": sum(s["file_bytes"] for s in info["shards"]),
                "text_bytes": sum(s["text_bytes"] for s in info["shards"]),
                "tokens": info["tokens"],
                "counts": table_counts(config.type, paths, meta if config.type == "traces" else None),
                "shards": [s["file"] for s in info["shards"]],
            }
            shards.extend(info["shards"])
        configs[config.name] = {
            "type": config.type,
            "description": config.description,
            "source": config.source.describe(),
            "filters": [f.reason for f in config.filters],
            "dedup": config.dedup,
            "decontam": config.decontam,
            "system_prompt": config.system_prompt,
            "answer_form": config.answer_form if config.type == "sft" else None,
            "curation": curation.get(config.name),
            "features": FEATURES[config.type].to_dict(),
            "splits": config_splits,
        }
    policy = spec.split
    return {
        "format": MANIFEST_FORMAT,
        "name": spec.name,
        "version": spec.version,
        "repo_id": spec.repo_id,
        "card": {
            "pretty_name": spec.pretty_name,
            "license": spec.license,
            "description": spec.description,
            "citation": spec.citation,
            "language": list(spec.language),
            "task_categories": list(spec.task_categories),
            "tags": list(spec.tags),
            "limitations": list(spec.limitations),
        },
        "tokenizer": spec.tokenizer,
        "split_policy": {
            "by": policy.by,
            "mapping": policy.mapping or None,
            "fractions": policy.fractions if policy.by != "source_kind" else None,
            "stratify": list(policy.stratify) or None,
            "group": policy.group,
            "seed": policy.seed,
            "groups": groups_per_split(policy, problems.values(), splits),
        },
        "shard_policy": {
            "max_rows": spec.shards.max_rows,
            "max_bytes": spec.shards.max_bytes,
            "max_tokens": spec.shards.max_tokens,
            "row_group_rows": spec.shards.row_group_rows,
            "row_group_bytes": spec.shards.row_group_bytes,
        },
        "leakage_threshold": spec.leakage_threshold,
        "configs": configs,
        "shards": [{**s, "path": s.pop("file")} for s in (dict(s) for s in shards)],
        "provenance": {
            "spec": spec.path.name,
            "spec_sha256": spec.sha256,
            "git_commit": _git_commit(),
            "tools": _tool_versions(),
            "built_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        },
    }
