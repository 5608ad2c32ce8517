"""OutcomeLog: the append-only progress log of a resumable stage, one JSON line per finished item.

Each line has the item's ``key`` and ``status``; the last line of a key wins, so a stage that retries failed
items appends their new outcome. Lines are fsynced as they are written and a torn last line (a kill -9 mid-write)
is dropped on reopen, so after a crash every finished item is in the log exactly once and a re-run does only the
rest. A stage's output files are derived from the log at the end of each run (written atomically).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from curation.records.io import JsonlAppender, read_json_lines


class OutcomeLog:
    """``log.status(key)``, ``log.append({"key": ..., "status": ..., ...})``, ``log.latest()``."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._appender = JsonlAppender(self.path)  # drops a torn last line before we read
        self._latest: dict[str, dict[str, Any]] = {}
        for number, entry in read_json_lines(self.path):
            if not isinstance(entry, dict) or "key" not in entry or "status" not in entry:
                raise ValueError(f"{self.path}, line {number}: not an outcome line (needs key and status)")
            self._latest[entry["key"]] = entry

    def status(self, key: str) -> str | None:
        entry = self._latest.get(key)
        return None if entry is None else entry["status"]

    def get(self, key: str) -> dict[str, Any] | None:
        return self._latest.get(key)

    def append(self, entry: dict[str, Any]) -> None:
        if "key" not in entry or "status" not in entry:
            raise ValueError("an outcome needs a key and a status")
        self._appender.append(entry)
        self._latest[entry["key"]] = entry

    def latest(self) -> Iterator[dict[str, Any]]:
        """The last outcome of every key, in the order keys were first finished."""
        return iter(self._latest.values())

    def close(self) -> None:
        self._appender.close()

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
