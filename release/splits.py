"""Assigning problems to splits: by source kind, by seeded stratified fractions, or by whole groups.

Deterministic for a policy and a set of problems, whatever their order: every choice goes through sorted keys
and SHA-256 of ``seed:id``, never through Python's ``hash`` or the input order.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Iterable

from curation.records.problem import Problem
from release.curate import field_value, is_missing
from release.spec import SplitPolicy


class SplitError(ValueError):
    """The problems cannot be split as the policy says (e.g. a source kind it does not map)."""


def _rank(seed: int, key: str) -> bytes:
    return hashlib.sha256(f"{seed}:{key}".encode()).digest()


def _key(problem: dict, dotted: str) -> str:
    value = field_value(problem, dotted)
    return "" if is_missing(value) or value is None else json.dumps(value, sort_keys=True)


def _quotas(n: int, fractions: dict[str, float]) -> dict[str, int]:
    """Largest-remainder rounding of ``n * fraction`` per split (the counts sum to ``n``)."""
    raw = {split: n * f for split, f in fractions.items()}
    counts = {split: int(value) for split, value in raw.items()}
    left = n - sum(counts.values())
    for split in sorted(raw, key=lambda s: (-(raw[s] - counts[s]), list(fractions).index(s)))[:left]:
        counts[split] += 1
    return counts


def assign_splits(policy: SplitPolicy, problems: Iterable[Problem]) -> dict[str, str]:
    """Problem id -> split name."""
    items = [(p.id, p.to_dict()) for p in problems]
    if policy.by == "source_kind":
        out = {}
        for pid, data in items:
            kind = data["source"]["kind"]
            if kind not in policy.mapping:
                raise SplitError(
                    f"problem {pid} has source kind {kind!r}, which split.mapping does not assign; add "
                    f"'{kind}: <split>' to split.mapping"
                )
            out[pid] = policy.mapping[kind]
        return out
    if policy.by == "fraction":
        strata: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for pid, data in items:
            strata[tuple(_key(data, name) for name in policy.stratify)].append(pid)
        out = {}
        for stratum in sorted(strata):
            ids = sorted(strata[stratum], key=lambda pid: _rank(policy.seed, pid))
            position = 0
            for split, count in _quotas(len(ids), policy.fractions).items():
                for pid in ids[position : position + count]:
                    out[pid] = split
                position += count
        return out
    return _by_group(policy, items)


def _by_group(policy: SplitPolicy, items: list[tuple[str, dict]]) -> dict[str, str]:
    """Whole groups to splits: a seeded shuffle of the groups, each to the split furthest below its target."""
    assert policy.group is not None
    groups: dict[str, list[str]] = defaultdict(list)
    for pid, data in items:
        groups[_key(data, policy.group)].append(pid)
    order = sorted(groups)
    random.Random(f"{policy.seed}:groups").shuffle(order)
    total = len(items)
    targets = {split: fraction * total for split, fraction in policy.fractions.items()}
    filled = dict.fromkeys(policy.fractions, 0)
    splits = list(policy.fractions)
    out = {}
    for group in order:
        split = max(splits, key=lambda s: (targets[s] - filled[s], -splits.index(s)))
        filled[split] += len(groups[group])
        for pid in groups[group]:
            out[pid] = split
    return out


def groups_per_split(
    policy: SplitPolicy, problems: Iterable[Problem], splits: dict[str, str]
) -> dict[str, list]:
    """For ``by: group``: the group values in each split (the card lists what was held out)."""
    if policy.by != "group" or policy.group is None:
        return {}
    out: dict[str, set] = defaultdict(set)
    for problem in problems:
        value = field_value(problem.to_dict(), policy.group)
        out[splits[problem.id]].add("" if is_missing(value) else str(value))
    return {split: sorted(values) for split, values in sorted(out.items())}
