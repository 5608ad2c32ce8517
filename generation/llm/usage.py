"""Token usage and cost per stage: requests, cache hits, failures, prompt and completion tokens, USD."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass


@dataclass
class StageUsage:
    requests: int = 0
    cache_hits: int = 0
    failures: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


class UsageMeter:
    """Counts per stage; cached responses count as hits, with no tokens or cost (they were paid for once)."""

    def __init__(self, prices: dict[str, float] | None = None):
        self.prices = dict(prices or {})
        self.stages: dict[str, StageUsage] = {}
        self._lock = threading.Lock()

    def _stage(self, stage: str) -> StageUsage:
        return self.stages.setdefault(stage, StageUsage())

    def record(self, stage: str, prompt_tokens: int, completion_tokens: int, cached: bool) -> None:
        with self._lock:
            usage = self._stage(stage)
            usage.requests += 1
            if cached:
                usage.cache_hits += 1
                return
            usage.prompt_tokens += prompt_tokens
            usage.completion_tokens += completion_tokens
            usage.cost_usd += (
                prompt_tokens * self.prices.get("input", 0.0)
                + completion_tokens * self.prices.get("output", 0.0)
            ) / 1e6

    def failure(self, stage: str) -> None:
        with self._lock:
            self._stage(stage).failures += 1

    def retry(self, stage: str) -> None:
        with self._lock:
            self._stage(stage).retries += 1

    def to_dict(self) -> dict[str, dict]:
        with self._lock:
            return {name: asdict(usage) for name, usage in self.stages.items()}

    def table(self) -> str:
        """A summary table, one line per stage."""
        header = f"{'stage':<14} {'requests':>8} {'cached':>7} {'failed':>6} {'retries':>7} {'prompt tok':>11} {'output tok':>11} {'USD':>9}"
        lines = [header]
        for name, u in self.to_dict().items():
            lines.append(
                f"{name:<14} {u['requests']:>8} {u['cache_hits']:>7} {u['failures']:>6} {u['retries']:>7} "
                f"{u['prompt_tokens']:>11,} {u['completion_tokens']:>11,} {u['cost_usd']:>9.4f}"
            )
        return "\n".join(lines)
