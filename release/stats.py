"""Statistics of a release computed from its data: row counts by the card's columns, and token summaries.

``table_counts`` reads only the counted columns of the shards back from disk, so ``vqft release validate``
recomputes exactly what the build recorded and can compare the two.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from curation.records.tokens import TOKEN_BIN_EDGES
from release.tables import COUNTED_COLUMNS


def token_summary(counts: Sequence[int]) -> dict[str, Any]:
    """Total, mean and percentiles of per-row token counts, and the histogram over TOKEN_BIN_EDGES."""
    if not len(counts):
        return {"rows": 0, "total": 0, "mean": 0.0, "min": 0, "p50": 0, "p90": 0, "p99": 0, "max": 0,
                "histogram": [0] * len(TOKEN_BIN_EDGES)}  # fmt: skip
    array = np.asarray(counts, dtype=np.int64)
    # Bin i holds counts in (edge[i-1], edge[i]]; the last bin is everything above the last edge.
    bins = np.searchsorted(np.asarray(TOKEN_BIN_EDGES), array, side="left")
    histogram = np.bincount(bins, minlength=len(TOKEN_BIN_EDGES) + 1)
    histogram[len(TOKEN_BIN_EDGES) - 1] += histogram[len(TOKEN_BIN_EDGES)]
    return {
        "rows": int(array.size),
        "total": int(array.sum()),
        "mean": round(float(array.mean()), 1),
        "min": int(array.min()),
        "p50": int(np.percentile(array, 50, method="nearest")),
        "p90": int(np.percentile(array, 90, method="nearest")),
        "p99": int(np.percentile(array, 99, method="nearest")),
        "max": int(array.max()),
        "histogram": [int(x) for x in histogram[: len(TOKEN_BIN_EDGES)]],
    }


def _family(provenance_json: str | None) -> str | None:
    if not provenance_json:
        return None
    family = json.loads(provenance_json).get("family")
    return family if isinstance(family, str) else None


def _sorted(counter: Counter) -> dict:
    return dict(sorted(counter.items(), key=lambda item: (-item[1], str(item[0]))))


def table_counts(
    kind: str, shards: Iterable[Path], problem_meta: dict[str, tuple[str, str]] | None = None
) -> dict[str, Any]:
    """Rows, and rows per value of each counted column (sorted by count, then value), of a config's split.

    For sft and traces, ``problem_meta`` (problem id -> (topic, level)) adds rows and tokens per topic and level
    of the problem each row belongs to."""
    columns = COUNTED_COLUMNS[kind]
    counters: dict[str, Counter] = {label: Counter() for label in columns}
    families: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    by_topic: Counter[str] = Counter()
    by_level: Counter[str] = Counter()
    tokens_topic: Counter[str] = Counter()
    tokens_level: Counter[str] = Counter()
    rows = 0
    tokens = 0
    extra = {"problems": set(), "sft": {"num_tokens"}, "traces": {"num_tokens", "problem_id"}}[kind]
    needed = sorted({column for column, _ in columns.values()} | extra)
    for shard in shards:
        table = pq.read_table(shard, columns=needed)
        rows += table.num_rows
        for label, (column, sub) in columns.items():
            values = table.column(column).to_pylist()
            if sub is not None:
                values = [None if v is None else v.get(sub) for v in values]
            counters[label].update("(none)" if v in (None, "") else v for v in values)
        if kind != "problems":
            row_tokens = table.column("num_tokens").to_pylist()
            tokens += int(sum(row_tokens))
            if kind == "traces" and problem_meta is not None:
                ids = table.column("problem_id").to_pylist()
                for pid, count in zip(ids, row_tokens, strict=True):
                    topic, level = problem_meta.get(pid, ("(unknown)", "(unknown)"))
                    by_topic[topic] += 1
                    by_level[level] += 1
                    tokens_topic[topic] += count
                    tokens_level[level] += count
        if kind == "problems":
            provenance = table.column("source").to_pylist()  # read above: "source" is a counted column
            families.update(f for f in (_family(s.get("provenance_json")) for s in provenance) if f)
            pairs.update(f"{t}\t{lv}" for t, lv in zip(table.column("topic").to_pylist(),
                                                         table.column("level").to_pylist(), strict=True))  # fmt: skip
    out: dict[str, Any] = {"rows": rows}
    for label, counter in counters.items():
        out[label] = dict(sorted(counter.items(), key=lambda item: (-item[1], str(item[0]))))
    if families:
        out["family"] = dict(sorted(families.items(), key=lambda item: (-item[1], item[0])))
    if pairs:
        # topic and level together, "topic\tlevel" -> rows, for the card's stacked plot
        out["topic_level"] = dict(sorted(pairs.items()))
    if by_topic:
        out["topic"], out["level"] = _sorted(by_topic), _sorted(by_level)
        out["tokens by topic"], out["tokens by level"] = _sorted(tokens_topic), _sorted(tokens_level)
    if kind != "problems":
        out["num_tokens_total"] = tokens
    return out


PASS_RATE_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def pass_rate_histogram(rates: Iterable[float]) -> dict[str, int]:
    """Problems per pass-rate bin: exactly 0, (0, 0.2], ..., (0.8, 1) and exactly 1 (solved by every sample)."""
    labels = ["0", "(0, 0.2]", "(0.2, 0.4]", "(0.4, 0.6]", "(0.6, 0.8]", "(0.8, 1)", "1"]
    counts = dict.fromkeys(labels, 0)
    for rate in rates:
        if rate <= 0:
            counts["0"] += 1
        elif rate >= 1:
            counts["1"] += 1
        else:
            index = next(
                i
                for i, edge in enumerate(PASS_RATE_BINS[1:], 1)
                if rate <= edge or i == len(PASS_RATE_BINS) - 1
            )
            counts[labels[index]] += 1
    return counts
