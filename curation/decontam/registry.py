"""The registry of evaluation sets to decontaminate against, and loading their texts.

A registry is a YAML file::

    benchmarks:
      - name: tpbench                      # how flags and reports name the set
        hub: {id: ORG/NAME, config: null, split: test, columns: [problem]}
        where: {domain: physics}           # optional: keep only rows with these column values
      - name: held-out
        path: data/test.jsonl              # JSONL (.jsonl, .jsonl.gz, .json) or Parquet; relative to this file
        columns: [statement]
        id_column: id                      # optional: names documents in flags (default: the row number)

``hub`` entries are loaded with ``datasets.load_dataset`` and need the network (or a warm Hugging Face cache);
offline, point ``path:`` at a local copy instead. Problems in the file are reported with its name and line,
e.g. ``benchmarks.yaml, line 7: benchmark 'gpqa': needs either hub: or path:``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SHIPPED_REGISTRY = Path(__file__).with_name("benchmarks.yaml")
_HUB_KEYS = {"id", "config", "split", "columns"}
_ENTRY_KEYS = {"name", "hub", "path", "columns", "id_column", "where", "note"}


class BenchmarkError(ValueError):
    """A registry that cannot be read or a benchmark that cannot be loaded; the message names which."""


@dataclass(frozen=True)
class Benchmark:
    """One evaluation set: where its rows come from and which columns hold the text to match."""

    name: str
    columns: tuple[str, ...]
    path: Path | None = None
    hub_id: str | None = None
    hub_config: str | None = None
    hub_split: str = "test"
    id_column: str | None = None
    where: dict[str, Any] = field(default_factory=dict)
    origin: str = ""  # "registry.yaml, line 4", for error messages

    @property
    def source(self) -> str:
        """Where the rows come from, for messages: the path, or ``hf:ID[/CONFIG]:SPLIT``."""
        if self.path is not None:
            return str(self.path)
        config = f"/{self.hub_config}" if self.hub_config else ""
        return f"hf:{self.hub_id}{config}:{self.hub_split}"


@dataclass(frozen=True)
class BenchmarkDoc:
    """One document of a benchmark: its text and how to name it in a flag."""

    benchmark: str
    index: int
    id: str
    text: str


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that remembers the 1-based line where each mapping starts, under ``__line__``."""

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def load_registry(path: str | os.PathLike) -> list[Benchmark]:
    """The benchmarks listed in a registry YAML file, validated; relative ``path:`` entries resolve to its folder."""
    path = Path(path)
    if not path.is_file():
        raise BenchmarkError(f"{path}: no such registry file")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}" if mark else str(path)
        raise BenchmarkError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    except UnicodeDecodeError as exc:
        raise BenchmarkError(f"{path}: not valid UTF-8 ({exc.reason})") from None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        raise BenchmarkError(f"{path}: expected a mapping with a list under 'benchmarks:'")
    benchmarks: list[Benchmark] = []
    for entry in data["benchmarks"]:
        benchmark = _benchmark(entry, path)
        if any(b.name == benchmark.name for b in benchmarks):
            raise BenchmarkError(f"{benchmark.origin}: benchmark name {benchmark.name!r} is used twice")
        benchmarks.append(benchmark)
    if not benchmarks:
        raise BenchmarkError(f"{path}: lists no benchmarks")
    return benchmarks


def _columns(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(c, str) and c for c in value):
        raise BenchmarkError(f"{where}: columns must be a non-empty list of column names, e.g. [problem]")
    return tuple(value)


def _benchmark(entry: Any, registry: Path) -> Benchmark:
    if not isinstance(entry, dict):
        raise BenchmarkError(f"{registry}: each benchmark must be a mapping with name: and hub: or path:")
    origin = f"{registry}, line {entry.get('__line__', '?')}"
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise BenchmarkError(f"{origin}: benchmark needs a name: (a non-empty string)")
    where = f"{origin}: benchmark {name!r}"
    unknown = sorted(set(entry) - _ENTRY_KEYS - {"__line__"})
    if unknown:
        raise BenchmarkError(
            f"{where}: unknown key(s) {', '.join(unknown)}; use {', '.join(sorted(_ENTRY_KEYS))}"
        )
    filters = entry.get("where") or {}
    if not isinstance(filters, dict):
        raise BenchmarkError(f"{where}: where: must map column names to values, e.g. {{domain: physics}}")
    filters = {k: v for k, v in filters.items() if k != "__line__"}
    id_column = entry.get("id_column")
    if id_column is not None and not isinstance(id_column, str):
        raise BenchmarkError(f"{where}: id_column must be a column name")
    hub, local = entry.get("hub"), entry.get("path")
    if (hub is None) == (local is None):
        raise BenchmarkError(
            f"{where}: needs either hub: {{id, split, columns}} or path: + columns:, not both"
        )
    if local is not None:
        if not isinstance(local, str) or not local:
            raise BenchmarkError(f"{where}: path must be a file path")
        file = Path(os.path.expanduser(local))
        if not file.is_absolute():
            file = Path(os.path.normpath(registry.resolve().parent / file))
        return Benchmark(name, _columns(entry.get("columns"), where), path=file, id_column=id_column,
                         where=filters, origin=origin)  # fmt: skip
    if not isinstance(hub, dict) or not isinstance(hub.get("id"), str):
        raise BenchmarkError(f"{where}: hub must be a mapping with id: ORG/NAME, split:, columns:")
    unknown = sorted(set(hub) - _HUB_KEYS - {"__line__"})
    if unknown:
        raise BenchmarkError(
            f"{where}: unknown hub key(s) {', '.join(unknown)}; use {', '.join(sorted(_HUB_KEYS))}"
        )
    config = hub.get("config")
    columns = _columns(hub.get("columns", entry.get("columns")), where)
    return Benchmark(name, columns, hub_id=hub["id"], hub_config=None if config is None else str(config),
                     hub_split=str(hub.get("split", "test")), id_column=id_column, where=filters,
                     origin=origin)  # fmt: skip


def load_docs(benchmark: Benchmark) -> Iterator[BenchmarkDoc]:
    """The documents of ``benchmark`` (the text columns of each kept row, joined); BenchmarkError if unreadable."""
    rows = _local_rows(benchmark) if benchmark.path is not None else _hub_rows(benchmark)
    kept = 0
    for number, row in enumerate(rows):
        if not isinstance(row, dict):
            raise BenchmarkError(
                f"benchmark {benchmark.name!r} ({benchmark.source}), row {number + 1}: not an object"
            )
        if any(row.get(column) != value for column, value in benchmark.where.items()):
            continue
        missing = [c for c in benchmark.columns if c not in row]
        if missing:
            raise BenchmarkError(
                f"benchmark {benchmark.name!r} ({benchmark.source}), row {number + 1}: has no column(s) "
                f"{', '.join(missing)}; it has {', '.join(sorted(row))} (fix columns: in {benchmark.origin})"
            )
        text = "\n".join(str(row[c]) for c in benchmark.columns if row[c] is not None)
        doc_id = str(row.get(benchmark.id_column, number)) if benchmark.id_column else str(number)
        yield BenchmarkDoc(benchmark.name, kept, doc_id, text)
        kept += 1


def _local_rows(benchmark: Benchmark) -> Iterator[Any]:
    from curation.records.io import RecordError, read_json_lines

    path = benchmark.path
    assert path is not None
    label = f"benchmark {benchmark.name!r}: {path}"
    if not path.is_file():
        raise BenchmarkError(f"{label}: no such file (fix path: in {benchmark.origin})")
    try:
        if path.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            try:
                for batch in pq.ParquetFile(path).iter_batches():
                    yield from batch.to_pylist()
            except (pa.ArrowException, OSError) as exc:
                raise BenchmarkError(f"{label}: cannot be read as Parquet ({exc})") from None
        else:
            yield from (value for _, value in read_json_lines(path))
    except RecordError as exc:
        raise BenchmarkError(f"benchmark {benchmark.name!r}: {exc}") from None
    except OSError as exc:
        raise BenchmarkError(f"{label}: cannot be read ({exc})") from None


def _hub_rows(benchmark: Benchmark) -> Iterator[Any]:
    try:
        import datasets

        dataset = datasets.load_dataset(benchmark.hub_id, benchmark.hub_config, split=benchmark.hub_split)
    except Exception as exc:  # noqa: BLE001 (offline, gated, renamed: all mean the same to the user)
        raise BenchmarkError(
            f"benchmark {benchmark.name!r}: could not load {benchmark.source} from the Hugging Face Hub "
            f"({type(exc).__name__}: {exc}). Offline or gated? Download it once and point path: at a local "
            f"JSONL/Parquet copy in the registry ({benchmark.origin})"
        ) from None
    yield from dataset
