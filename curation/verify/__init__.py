"""The answer verifier: one entry point for RL rewards, rejection sampling, solver filtering and evaluation.

    >>> from curation.verify import verify_answer
    >>> verify_answer({"kind": "numeric", "value": 8.68e4, "unit": "pb"}, r"\\boxed{86.8\\,\\mathrm{nb}}").status
    'correct'

Grading runs in a pool of warm, sandboxed worker processes (see ``pool`` and ``sandbox``); the functions
here are thread-safe, so a TRL reward function may call them from many threads.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from curation.records.answer import AnswerSpec
from curation.records.result import Response, Result
from curation.verify.grade import VERIFIER_VERSION

__all__ = ["VERIFIER_VERSION", "averify", "iter_verify", "verify", "verify_answer", "verify_many"]


def _answer_dict(answer: AnswerSpec | dict) -> dict:
    return answer if isinstance(answer, dict) else answer.to_dict()


def _response_text(response: str | Response) -> str:
    return response.response if isinstance(response, Response) else response


def _pool(workers: int | None = None, timeout: float | None = None):
    from curation.verify.pool import GradingPool, default_pool

    if workers is None:
        return default_pool(), False
    return GradingPool(workers=workers, timeout=timeout or 10.0), True


def _result(problem_id: str, graded: dict[str, Any]) -> Result:
    return Result(problem_id=problem_id, status=graded["status"], details=graded.get("details", {}))


def verify_answer(
    answer: AnswerSpec | dict, response: str | Response, timeout: float | None = None
) -> Result:
    """Grade one response against an AnswerSpec (or its dict form)."""
    pool, _ = _pool()
    graded = pool.submit(_answer_dict(answer), _response_text(response), timeout).result()
    problem_id = response.problem_id if isinstance(response, Response) else ""
    return _result(problem_id, graded)


async def averify(problem: Any, response: str | Response, timeout: float | None = None) -> Result:
    """``verify`` for asyncio code: awaits the warm pool without blocking the event loop."""
    import asyncio

    pool, _ = _pool()
    graded = await asyncio.wrap_future(
        pool.submit(_answer_dict(problem.answer), _response_text(response), timeout)
    )
    return _result(problem.id, graded)


def verify(problem: Any, response: str | Response, timeout: float | None = None) -> Result:
    """Grade one response to a Problem: ``verify(problem, "... \\\\boxed{...}") -> Result``."""
    pool, _ = _pool()
    graded = pool.submit(_answer_dict(problem.answer), _response_text(response), timeout).result()
    return _result(problem.id, graded)


def iter_verify(
    pairs: Iterable[tuple[Any, str | Response]],
    workers: int | None = None,
    timeout: float | None = None,
) -> Iterator[Result]:
    """Stream Results for (problem, response) pairs, in input order, with bounded memory."""
    pool, owned = _pool(workers, timeout)
    ids: deque[str] = deque()

    def tasks():
        for problem, response in pairs:
            ids.append(problem.id)
            yield _answer_dict(problem.answer), _response_text(response)

    try:
        for graded in pool.map(tasks(), timeout=timeout):
            yield _result(ids.popleft(), graded)
    finally:
        if owned:
            pool.close()


def verify_many(
    pairs: Iterable[tuple[Any, str | Response]],
    workers: int | None = None,
    timeout: float | None = None,
    progress: bool | None = None,
) -> list[Result]:
    """Grade many (problem, response) pairs in parallel; results come back in input order.

    ``progress``: show a progress bar; by default only on a terminal (not inside a reward function's logs).
    """
    total = len(pairs) if hasattr(pairs, "__len__") else None
    results = iter_verify(pairs, workers=workers, timeout=timeout)
    if progress is None:
        progress = sys.stderr.isatty()
    if progress:
        from tqdm import tqdm

        results = tqdm(results, total=total, desc="verify", unit="answer")
    return list(results)
