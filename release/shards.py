"""Writing one config/split as numbered Parquet parts, cut by the shard policy, resumable part by part.

A part is written to a temporary name, fsynced, hashed and renamed, and only then recorded in the config's
append-only progress log; so after a crash every recorded part is complete, and a re-run skips the rows of the
recorded parts and goes on with the next one. Parts get their final Hub names (``train-00000-of-00004``) once
the number of parts is known (``publish_parts``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from datasets import Features

from curation.records.io import JsonlAppender
from release.spec import ShardPolicy

HASH_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def part_path(parts_dir: Path, split: str, index: int) -> Path:
    return parts_dir / f"{split}-{index:05d}.parquet"


def shard_name(split: str, index: int, count: int) -> str:
    """The Hub's shard naming, which ``datasets`` and the viewer understand."""
    return f"{split}-{index:05d}-of-{count:05d}.parquet"


class ShardedTableWriter:
    """Rows of one config/split into parts of at most ``policy``'s rows/bytes/tokens (a part holds at least
    one row, so one huge row makes a part of its own)."""

    def __init__(
        self,
        parts_dir: Path,
        config: str,
        split: str,
        features: Features,
        policy: ShardPolicy,
        progress: JsonlAppender,
        first_index: int = 0,
    ):
        self.parts_dir = parts_dir
        self.config = config
        self.split = split
        self.schema = features.arrow_schema
        self.policy = policy
        self.progress = progress
        self.index = first_index
        self.parts_written = 0
        self._writer: pq.ParquetWriter | None = None
        self._tmp: Path | None = None
        self._buffer: list[dict[str, Any]] = []
        self._buffer_bytes = 0
        self._rows = 0
        self._bytes = 0
        self._tokens = 0
        self._row_tokens: list[int] = []

    def add(self, row: dict[str, Any], num_tokens: int, num_bytes: int) -> None:
        """Append one row; starts a new part first when this row would push the current one past a limit."""
        policy = self.policy
        if self._rows and (
            (policy.max_rows is not None and self._rows + 1 > policy.max_rows)
            or (policy.max_bytes is not None and self._bytes + num_bytes > policy.max_bytes)
            or (policy.max_tokens is not None and self._tokens + num_tokens > policy.max_tokens)
        ):
            self._finish_part()
        self._buffer.append(row)
        self._buffer_bytes += num_bytes
        self._rows += 1
        self._bytes += num_bytes
        self._tokens += num_tokens
        self._row_tokens.append(num_tokens)
        if len(self._buffer) >= policy.row_group_rows or self._buffer_bytes >= policy.row_group_bytes:
            self._flush_row_group()

    def close(self) -> None:
        """Finish the last part (if it has rows)."""
        if self._rows:
            self._finish_part()

    def abort(self) -> None:
        """Drop the part in progress (its temporary file), keeping the finished ones."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)

    def _flush_row_group(self) -> None:
        if not self._buffer:
            return
        if self._writer is None:
            self.parts_dir.mkdir(parents=True, exist_ok=True)
            self._tmp = part_path(self.parts_dir, self.split, self.index).with_suffix(".parquet.tmp")
            # Statistics and the page index help readers skip row groups; dictionary pages help repeated
            # labels (topic, level) and are harmless for long text.
            self._writer = pq.ParquetWriter(
                self._tmp, self.schema, compression="zstd", write_page_index=True, store_schema=True
            )
        try:
            table = pa.Table.from_pylist(self._buffer, schema=self.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise ValueError(
                f"config {self.config}, split {self.split}: a row does not fit the table's schema ({exc})"
            ) from exc
        self._writer.write_table(table, row_group_size=len(self._buffer))
        self._buffer.clear()
        self._buffer_bytes = 0

    def _finish_part(self) -> None:
        self._flush_row_group()
        assert self._writer is not None and self._tmp is not None
        self._writer.close()
        self._writer = None
        with open(self._tmp, "rb") as handle:
            os.fsync(handle.fileno())
        final = part_path(self.parts_dir, self.split, self.index)
        sha256 = file_sha256(self._tmp)
        size = self._tmp.stat().st_size
        os.replace(self._tmp, final)
        self.progress.append(
            {
                "config": self.config,
                "split": self.split,
                "index": self.index,
                "rows": self._rows,
                "text_bytes": self._bytes,
                "tokens": self._tokens,
                "file_bytes": size,
                "sha256": sha256,
                "row_tokens": self._row_tokens,
            }
        )
        self.index += 1
        self.parts_written += 1
        self._tmp = None
        self._rows = self._bytes = self._tokens = 0
        self._row_tokens = []


def publish_parts(
    parts_dir: Path, data_dir: Path, split: str, parts: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Move a split's parts to their final names under ``data_dir``; idempotent (a part already moved is left
    alone). Returns the shard entries for the manifest, with their paths."""
    data_dir.mkdir(parents=True, exist_ok=True)
    count = len(parts)
    shards = []
    for part in parts:
        source = part_path(parts_dir, split, part["index"])
        target = data_dir / shard_name(split, part["index"], count)
        if source.exists():
            os.replace(source, target)
        elif not target.exists():
            raise FileNotFoundError(f"{source}: the part is recorded as written but is gone; delete {parts_dir.parent} "
                                    "and build again")  # fmt: skip
        shards.append({**{k: v for k, v in part.items() if k != "row_tokens"}, "file": target})
    return shards
