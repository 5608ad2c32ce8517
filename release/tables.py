"""The three kinds of release table: how a record becomes a row, which text its tokens are counted on, and
which columns the card counts by.

- ``problems``: one row per Problem, the Problem schema (``curation.records.features.PROBLEM_FEATURES``);
  tokens are counted on the statement and the worked solution.
- ``sft``: one row per problem, chat ``messages`` (optional system prompt, user = the problem and its answer
  requirements, assistant = the worked solution ending in the final answer in the form the verifier reads:
  ``\\boxed{...}`` or, with ``answer_form: code``, a fenced python block), ready for TRL's SFTTrainer; tokens are
  counted on the message contents and stored in ``num_tokens``.
- ``traces``: one row per Trace, the Trace schema; ``num_tokens`` is kept when the trace was counted by the
  release's tokenizer and recounted on the message contents otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from datasets import Features, List, Value

from curation.records.answer import CodeAnswer
from curation.records.features import PROBLEM_FEATURES, TRACE_FEATURES, problem_to_row, trace_to_row
from curation.records.problem import Problem
from curation.records.trace import Trace

_STRING = Value("string")

SFT_FEATURES = Features(
    {
        "problem_id": _STRING,
        "messages": List({"role": _STRING, "content": _STRING}),
        "topic": _STRING,
        "level": _STRING,
        "task_type": _STRING,
        "source_kind": _STRING,
        "answer_kind": _STRING,
        "num_tokens": Value("int64"),
    }
)

FEATURES: dict[str, Features] = {"problems": PROBLEM_FEATURES, "sft": SFT_FEATURES, "traces": TRACE_FEATURES}

# The columns the card counts rows by, per table kind: card label -> (column, struct field or None).
COUNTED_COLUMNS: dict[str, dict[str, tuple[str, str | None]]] = {
    "problems": {
        "topic": ("topic", None),
        "level": ("level", None),
        "source": ("source", "kind"),
        "answer kind": ("answer", "kind"),
        "task type": ("task_type", None),
    },
    "sft": {
        "topic": ("topic", None),
        "level": ("level", None),
        "source": ("source_kind", None),
        "answer kind": ("answer_kind", None),
    },
    "traces": {
        "verification": ("verification", "status"),
        "finish reason": ("finish_reason", None),
        "model": ("model", None),
    },
}


def final_answer(problem: Problem, answer_form: str) -> str:
    """The closing line of a worked solution, in the form the verifier reads for ``answer_form``."""
    if answer_form == "code":
        assert isinstance(problem.answer, CodeAnswer)
        return f"```python\n{problem.answer.reference.strip()}\n```"
    text = problem.answer_text.strip().strip("$").strip() or _plain_answer(problem)
    return f"Final answer: $\\boxed{{{text}}}$"


def _plain_answer(problem: Problem) -> str:
    answer = problem.answer.to_dict()
    if answer["kind"] == "symbolic":
        return answer["expr"]
    if answer["kind"] in ("numeric", "categorical"):
        return str(answer["value"])
    raise ValueError(
        f"problem {problem.id}: a {answer['kind']} answer needs answer_text to write the sft target; "
        "set answer_text, or use answer_form: code"
    )


def sft_messages(problem: Problem, system_prompt: str | None, answer_form: str) -> list[dict[str, str]]:
    """The chat of one sft row (see the module docstring)."""
    if answer_form == "code":
        problem = problem.code_form()
    solution = problem.solution.rstrip()
    assistant = (
        f"{solution}\n\n{final_answer(problem, answer_form)}"
        if solution
        else final_answer(problem, answer_form)
    )
    messages = [] if system_prompt is None else [{"role": "system", "content": system_prompt}]
    messages.append({"role": "user", "content": problem.problem_text()})
    messages.append({"role": "assistant", "content": assistant})
    return messages


def sft_row(problem: Problem, messages: list[dict[str, str]], num_tokens: int) -> dict[str, Any]:
    """A row of SFT_FEATURES."""
    return {
        "problem_id": problem.id,
        "messages": messages,
        "topic": problem.topic,
        "level": problem.level,
        "task_type": problem.task_type,
        "source_kind": problem.source.kind,
        "answer_kind": problem.answer.kind,
        "num_tokens": num_tokens,
    }


def problem_token_text(problem: Problem) -> str:
    """The text a problems row's tokens are counted on."""
    return f"{problem.statement}\n\n{problem.solution}"


def messages_text(messages: Sequence[dict[str, str]]) -> str:
    """The text an sft row's or a recounted trace's tokens are counted on."""
    return "\n\n".join(m["content"] for m in messages)


def problem_row(problem: Problem) -> dict[str, Any]:
    return problem_to_row(problem)


def trace_row(trace: Trace, num_tokens: int, tokenizer: str) -> dict[str, Any]:
    row = trace_to_row(trace)
    row["num_tokens"] = num_tokens
    row["tokenizer"] = tokenizer
    return row


def row_text_bytes(row: dict[str, Any]) -> int:
    """The UTF-8 size of a row's text, the measure of ``max_bytes``/``row_group_bytes`` (close to what the
    row takes in memory; counting every nested string would cost more than it tells)."""
    total = 0
    stack: list[Any] = [row]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            total += len(value.encode("utf-8")) if not value.isascii() else len(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif value is not None:
            total += 8
    return total
