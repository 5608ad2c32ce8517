"""``validate_release``: check a built release folder the way its users will meet it.

Checks, each reported with what failed and where:

- ``manifest``: ``manifest.json`` is there and readable;
- ``checksums``: every shard in the manifest exists with its size and SHA-256, and no other shard is under ``data/``;
- ``load``: every config/split loads with ``datasets.load_dataset(DIR, config)`` with the manifest's row count and
  the table's exact features, and in streaming mode yields the same first rows;
- ``counts``: the row counts by topic/level/source/answer kind (and token totals where a column holds them)
  recomputed from the shards equal the manifest's;
- ``leakage``: no problem id in two splits, sft rows and traces in their problem's split, and no statement with
  Jaccard similarity >= the spec's threshold to a statement of another split;
- ``card``: README.md is exactly the card the manifest renders, its YAML front matter parses as a Hub dataset
  card, and its images exist.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from release.shards import file_sha256
from release.stats import table_counts
from release.tables import FEATURES

STREAMING_SAMPLE = 50  # rows compared between the streaming and the regular load
LEAK_EXAMPLES = 5


@dataclass
class Check:
    name: str
    ok: bool
    message: str


@dataclass
class ValidationReport:
    """The outcome of every check; ``ok`` only when all passed."""

    folder: Path
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def add(self, name: str, problems: list[str], success: str) -> None:
        if problems:
            shown = problems[:10] + ([f"... and {len(problems) - 10} more"] if len(problems) > 10 else [])
            self.checks.append(Check(name, False, "\n".join(shown)))
        else:
            self.checks.append(Check(name, True, success))

    def format(self) -> str:
        lines = []
        for check in self.checks:
            mark = "ok  " if check.ok else "FAIL"
            first, *rest = check.message.splitlines() or [""]
            lines.append(f"{mark} {check.name:<10} {first}")
            lines.extend(f"{'':16}{line}" for line in rest)
        return "\n".join(lines)


def validate_release(folder: str | Path, *, load: bool = True) -> ValidationReport:
    """Run every check on a release folder (``load=False`` skips the ``datasets`` loads, the slowest part)."""
    folder = Path(folder)
    report = ValidationReport(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        configs = manifest["configs"]
    except (OSError, ValueError, KeyError) as exc:
        report.add("manifest", [f"{folder / 'manifest.json'}: cannot read the manifest ({exc})"], "")
        return report
    report.add("manifest", [], f"{manifest['name']} {manifest['version']}, {len(configs)} config(s)")
    _checksums(folder, manifest, report)
    if load:
        _loads(folder, configs, report)
    _counts(folder, configs, report)
    _leakage(folder, manifest, report)
    _card(folder, manifest, report)
    return report


def _checksums(folder: Path, manifest: dict, report: ValidationReport) -> None:
    problems = []
    listed = set()
    for shard in manifest["shards"]:
        path = folder / shard["path"]
        listed.add(path.resolve())
        if not path.is_file():
            problems.append(f"{shard['path']}: missing")
            continue
        size = path.stat().st_size
        if size != shard["file_bytes"]:
            problems.append(f"{shard['path']}: {size} bytes, the manifest says {shard['file_bytes']}")
        elif file_sha256(path) != shard["sha256"]:
            problems.append(
                f"{shard['path']}: SHA-256 differs from the manifest's (the file changed after the build)"
            )
    for path in sorted((folder / "data").rglob("*.parquet")) if (folder / "data").is_dir() else []:
        if path.resolve() not in listed:
            problems.append(
                f"{path.relative_to(folder)}: not in the manifest (a leftover? delete it or rebuild)"
            )
    report.add("checksums", problems, f"{len(manifest['shards'])} shard(s) match the manifest")


def _loads(folder: Path, configs: dict, report: ValidationReport) -> None:
    import datasets
    from datasets import Features, load_dataset

    problems = []
    bars_were_on = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    cache = tempfile.mkdtemp(prefix="vqft-validate-")
    try:
        for name, config in configs.items():
            expected = FEATURES[config["type"]]
            if Features.from_dict(config["features"]) != expected:
                problems.append(f"{name}: the manifest's features are not the {config['type']} table's")
            for split, info in config["splits"].items():
                where = f"load_dataset({str(folder)!r}, {name!r}, split={split!r})"
                try:
                    dataset = load_dataset(str(folder), name, split=split, cache_dir=cache)
                except Exception as exc:  # datasets raises many kinds; each is a failed load to report
                    problems.append(f"{where}: {type(exc).__name__}: {exc}")
                    continue
                if dataset.num_rows != info["rows"]:
                    problems.append(f"{where}: {dataset.num_rows} rows, the manifest says {info['rows']}")
                if dataset.features != expected:
                    problems.append(f"{where}: features differ from the {config['type']} schema")
                try:
                    streamed = load_dataset(str(folder), name, split=split, streaming=True)
                    head = list(streamed.take(STREAMING_SAMPLE))
                except Exception as exc:
                    problems.append(f"{where.replace(')', ', streaming=True)')}: {type(exc).__name__}: {exc}")
                    continue
                if head != dataset.select(range(min(STREAMING_SAMPLE, dataset.num_rows))).to_list():
                    problems.append(f"{where}: streaming mode yields other rows than the regular load")
    finally:
        shutil.rmtree(cache, ignore_errors=True)
        if bars_were_on:
            datasets.enable_progress_bars()
    report.add(
        "load", problems, "every config/split loads (regular and streaming) with the expected features"
    )


def _problem_meta(folder: Path, configs: dict) -> dict[str, tuple[str, str]]:
    meta: dict[str, tuple[str, str]] = {}
    for config in configs.values():
        if config["type"] != "problems":
            continue
        for info in config["splits"].values():
            paths = [folder / p for p in info["shards"] if (folder / p).is_file()]
            for pid, topic, level in zip(*_columns(paths, ["id", "topic", "level"]), strict=True):
                meta[pid] = (topic, level)
    return meta


def _counts(folder: Path, configs: dict, report: ValidationReport) -> None:
    problems = []
    meta = _problem_meta(folder, configs) if any(c["type"] == "traces" for c in configs.values()) else None
    for name, config in configs.items():
        for split, info in config["splits"].items():
            paths = [folder / p for p in info["shards"]]
            if not all(p.is_file() for p in paths):
                continue  # reported by the checksums check
            recomputed = table_counts(config["type"], paths, meta if config["type"] == "traces" else None)
            if recomputed != info["counts"]:
                for key in sorted(set(recomputed) | set(info["counts"])):
                    if recomputed.get(key) != info["counts"].get(key):
                        problems.append(
                            f"{name}/{split}: counts by {key} are {recomputed.get(key)} in the data but "
                            f"{info['counts'].get(key)} in the manifest"
                        )
            if info["tokens"]["rows"] != info["rows"]:
                problems.append(
                    f"{name}/{split}: tokens counted for {info['tokens']['rows']} of {info['rows']} rows"
                )
            if "num_tokens_total" in recomputed and recomputed["num_tokens_total"] != info["tokens"]["total"]:
                problems.append(
                    f"{name}/{split}: num_tokens sums to {recomputed['num_tokens_total']} in the data but the "
                    f"manifest says {info['tokens']['total']} tokens"
                )
    report.add("counts", problems, "counts by every card column and token totals match the data")


def _columns(paths: list[Path], names: list[str]) -> list[list[Any]]:
    """The values of each named column over the shards, all read in one pass per shard."""
    values: list[list[Any]] = [[] for _ in names]
    for path in paths:
        table = pq.read_table(path, columns=names)
        for out, name in zip(values, names, strict=True):
            out.extend(table.column(name).to_pylist())
    return values


def _leakage(folder: Path, manifest: dict, report: ValidationReport) -> None:
    from curation.dedup import near_duplicate_pairs

    problems = []
    split_of: dict[str, str] = {}
    statements: list[tuple[str, str, str]] = []  # (split, id, statement)
    configs = manifest["configs"]
    for name, config in configs.items():
        if config["type"] != "problems":
            continue
        for split, info in config["splits"].items():
            paths = [folder / p for p in info["shards"] if (folder / p).is_file()]
            for pid, statement in zip(*_columns(paths, ["id", "statement"]), strict=True):
                if split_of.setdefault(pid, split) != split:
                    problems.append(f"problem {pid} is in both {split_of[pid]} and {split} ({name})")
                statements.append((split, pid, statement))
    for name, config in configs.items():
        if config["type"] == "problems":
            continue
        for split, info in config["splits"].items():
            paths = [folder / p for p in info["shards"] if (folder / p).is_file()]
            (problem_ids,) = _columns(paths, ["problem_id"])
            wrong = [pid for pid in problem_ids if split_of.get(pid) != split]
            if wrong:
                problems.append(
                    f"{name}/{split}: {len(wrong)} row(s) whose problem is not in {split}, e.g. {wrong[0]} "
                    f"(in {split_of.get(wrong[0], 'no split')})"
                )
    threshold = manifest["leakage_threshold"]
    pairs = near_duplicate_pairs([s for _, _, s in statements], threshold=threshold)
    crossing = [(i, j, sim) for i, j, sim in pairs if statements[i][0] != statements[j][0]]
    for i, j, similarity in crossing[:LEAK_EXAMPLES]:
        problems.append(
            f"near-duplicate statements across splits (Jaccard {similarity:.2f}): {statements[i][1]} in "
            f"{statements[i][0]}, {statements[j][1]} in {statements[j][0]}"
        )
    if len(crossing) > LEAK_EXAMPLES:
        problems.append(f"... {len(crossing)} cross-split near-duplicate pairs in all")
    by_split: dict[str, int] = defaultdict(int)
    for split in split_of.values():
        by_split[split] += 1
    report.add(
        "leakage",
        problems,
        f"no shared problem ids and no statement pair with Jaccard >= {threshold} across splits "
        f"({', '.join(f'{k} {v}' for k, v in sorted(by_split.items()))})",
    )


def _card(folder: Path, manifest: dict, report: ValidationReport) -> None:
    from huggingface_hub import DatasetCard

    from cards.dataset_card import card_images, render_card

    problems = []
    path = folder / "README.md"
    if not path.is_file():
        report.add("card", [f"{path}: missing"], "")
        return
    text = path.read_text(encoding="utf-8")
    images = card_images(manifest)
    expected = render_card(manifest, images)
    if text != expected:
        got, want = text.splitlines(), expected.splitlines()
        line = next(
            (k for k, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), min(len(got), len(want))
        )
        problems.append(
            f"README.md differs from the card the manifest renders, first at line {line + 1}: "
            f"{(got[line] if line < len(got) else '<end>')[:100]!r} (expected "
            f"{(want[line] if line < len(want) else '<end>')[:100]!r}); rebuild, or do not edit the card by hand"
        )
    try:
        card = DatasetCard(text)
        data = card.data.to_dict()
        configs = [c.get("config_name") for c in data.get("configs", [])]
        if configs != list(manifest["configs"]):
            problems.append(
                f"README.md front matter lists configs {configs}, the manifest {list(manifest['configs'])}"
            )
    except Exception as exc:  # huggingface_hub raises ValueError or yaml errors for a broken front matter
        problems.append(f"README.md front matter is not a valid dataset card: {exc}")
    for name, image in images.items():
        if not (folder / image).is_file():
            problems.append(f"{image}: the card shows this plot ({name}) but the file is missing")
    report.add(
        "card", problems, "README.md is the card the manifest renders; front matter and images in place"
    )
