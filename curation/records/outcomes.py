"""OutcomeLog: the append-only progress log of a resumable stage, one JSON line per finished item.

Each line has the item's ``key`` and ``status``; the last line of a key wins, so a stage that retries failed
items appends their new outcome. Lines are fsynced as they are written and a torn last line (a kill -9 mid-write)
is dropped on reopen, so after a crash every finished item is in the log exactly once and a re-run does only the
rest. A stage's output files are derived from the log at the end of each run (written atomically).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from curation.records.io import JsonlAppender


class OutcomeLog:
    """``log.status(key)``, ``log.get(key)``, ``log.append({"key": ..., "status": ..., ...})``, ``log.latest()``.

    Memory holds only each key's status and the file offset of its last line, so a log of millions of big
    outcomes (whole traces) costs a few dozen bytes a key; ``get``/``latest`` read entries back from disk.
    Lines are flushed as they are written, which is what survives a kill -9 (the OS has the bytes); ``fsync=True``
    also survives a power loss, at a few milliseconds a line.
    """

    def __init__(self, path: str | os.PathLike, *, fsync: bool = False, index_fields: tuple[str, ...] = ()):
        self.path = Path(path)
        self.index_fields = index_fields
        self._appender = JsonlAppender(self.path, fsync=fsync)  # drops a torn last line before we read
        self._index: dict[str, tuple[str, int, tuple]] = {}
        with open(self.path, "rb") as handle:
            offset = 0
            for number, raw in enumerate(handle, 1):
                if raw.strip():
                    try:
                        entry = json.loads(raw)
                    except ValueError:
                        raise ValueError(f"{self.path}, line {number}: not valid JSON") from None
                    if not isinstance(entry, dict) or "key" not in entry or "status" not in entry:
                        raise ValueError(
                            f"{self.path}, line {number}: not an outcome line (needs key and status)"
                        )
                    self._index[entry["key"]] = (entry["status"], offset, self._small(entry))
                offset += len(raw)
        self._reader = open(self.path, "rb")  # closed in close()

    def _small(self, entry: dict[str, Any]) -> tuple:
        return tuple(entry.get(name) for name in self.index_fields)

    def fields(self, key: str) -> dict[str, Any] | None:
        """The ``index_fields`` of a key's last outcome, from memory (no disk read)."""
        found = self._index.get(key)
        return None if found is None else dict(zip(self.index_fields, found[2], strict=True))

    def __len__(self) -> int:
        return len(self._index)

    def status(self, key: str) -> str | None:
        found = self._index.get(key)
        return None if found is None else found[0]

    def get(self, key: str) -> dict[str, Any] | None:
        found = self._index.get(key)
        if found is None:
            return None
        self._reader.seek(found[1])
        return json.loads(self._reader.readline())

    def append(self, entry: dict[str, Any]) -> None:
        if "key" not in entry or "status" not in entry:
            raise ValueError("an outcome needs a key and a status")
        offset = self._appender.append(entry)
        self._index[entry["key"]] = (entry["status"], offset, self._small(entry))

    def keys(self) -> Iterator[str]:
        """Every key, in the order keys were first finished."""
        return iter(list(self._index))

    def latest(self) -> Iterator[dict[str, Any]]:
        """The last outcome of every key, in the order keys were first finished (read from disk one by one)."""
        for key in list(self._index):
            entry = self.get(key)
            if entry is not None:
                yield entry

    def close(self) -> None:
        self._appender.close()
        self._reader.close()

    def __enter__(self) -> OutcomeLog:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


async def run_pending(
    items: Iterable[Any],
    key: Callable[[Any], str],
    work: Callable[[Any], Awaitable[dict[str, Any]]],
    log: OutcomeLog,
    *,
    concurrency: int,
    retry: tuple[str, ...] = ("failed",),
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> int:
    """Run ``work(item)`` for every item whose key has no outcome yet (or one in ``retry``), ``concurrency`` at a
    time, appending each outcome to the log as it finishes; returns how many ran. Memory stays flat: items are
    pulled from the iterable as workers free up."""
    import asyncio

    iterator = iter(items)
    ran = 0

    async def worker() -> None:
        nonlocal ran
        for item in iterator:  # shared iterator: each item goes to exactly one worker
            item_key = key(item)
            status = log.status(item_key)
            if status is not None and status not in retry:
                continue
            outcome = await work(item)
            entry = {"key": item_key, **outcome}
            log.append(entry)
            ran += 1
            if on_done is not None:
                on_done(entry)

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return ran


def partition(
    items: Iterable[Any], key: Callable[[Any], str], log: OutcomeLog, keep: str
) -> tuple[Counter, list[dict[str, Any]], list[dict[str, Any]]]:
    """Counts by status (``pending`` for items without an outcome), the outcomes with status ``keep`` and the
    others, in the order of ``items``: what a stage writes to its output and set-aside files."""
    counts: Counter = Counter()
    kept, others = [], []
    for item in items:
        entry = log.get(key(item))
        status = entry["status"] if entry else "pending"
        counts[status] += 1
        if entry is None:
            continue
        (kept if status == keep else others).append(entry)
    return counts, kept, others
