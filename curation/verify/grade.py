"""Grade one response against one AnswerSpec: the dispatch by answer kind that runs inside a pool worker."""

from __future__ import annotations

from typing import Any

from curation.records.answer import AnswerSpec, CodeAnswer, FieldError, answer_from_dict
from curation.verify.extract import final_segment

VERIFIER_VERSION = "0.1.0"


def grade_answer(
    answer: AnswerSpec, response: str, timeout: float = 10.0, server: Any = None
) -> tuple[str, dict[str, Any]]:
    """(status, details) for one response; never raises on hostile text. Code runs in children of ``server``
    (a ``SandboxServer``), by default this process's fork server."""
    final = final_segment(response)
    if final is None:
        return "no_answer", {"reason": "unclosed <think> block"}
    if isinstance(answer, CodeAnswer):
        from curation.verify.code import grade_code

        return grade_code(answer, final, timeout=timeout, server=server)
    from curation.verify.text import grade_text

    return grade_text(answer, final)


def grade_task(answer: dict, response: str, timeout: float = 10.0, server: Any = None) -> dict[str, Any]:
    """JSON in, JSON out: what a worker runs for one task. ``{"status": ..., "details": {...}}``."""
    try:
        spec = answer_from_dict(answer)
    except FieldError as exc:
        return {
            "status": "invalid_problem",
            "details": {"reason": str(exc), "verifier_version": VERIFIER_VERSION},
        }
    status, details = grade_answer(spec, response, timeout=timeout, server=server)
    details = dict(details)
    details["verifier_version"] = VERIFIER_VERSION
    return {"status": status, "details": details}


def grade_task_safely(
    answer: dict, response: Any, timeout: float = 10.0, server: Any = None
) -> dict[str, Any]:
    """``grade_task`` for a caller that must keep going (a worker, a pool dispatcher): a malformed task or a
    grader failure becomes ``error`` with its reason. Only a time limit's BaseException and
    ``ResultOverServerLimit`` (the check belongs elsewhere) go through."""
    from curation.verify.code import ResultOverServerLimit

    if not isinstance(response, str):
        return {"status": "error", "details": {"reason": "malformed task: needs answer and response",
                                               "verifier_version": VERIFIER_VERSION}}  # fmt: skip
    try:
        result = grade_task(answer, response, timeout, server=server)
    except ResultOverServerLimit:
        raise
    except ImportError as exc:
        result = {"status": "error", "details": {"reason": f"grader unavailable: {exc}"}}
    except Exception as exc:  # SandboxUnavailable, or a grader bug: this task's error, not the caller's end
        result = {"status": "error", "details": {"reason": f"verifier error: {type(exc).__name__}: {exc}"}}
    result["details"].setdefault("verifier_version", VERIFIER_VERSION)
    return result
