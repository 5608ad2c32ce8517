"""Grading of the text answer kinds (symbolic, numeric, categorical, tuple): extraction then comparison."""

from __future__ import annotations

from curation.records.answer import AnswerSpec, CategoricalAnswer, NumericAnswer, SymbolicAnswer, TupleAnswer
from curation.verify.categorical import grade_categorical_text
from curation.verify.extract import (
    after_last_relation,
    answer_candidates,
    drop_order_term,
    split_top_level_commas,
)
from curation.verify.numeric import grade_numeric_text
from curation.verify.symbolic import grade_symbolic_text

# When parts disagree, the verdict is the first of these that any part has.
_TUPLE_PRECEDENCE = ("invalid_problem", "incorrect", "unparseable", "no_answer")


def clean_answer_text(text: str) -> str:
    """Box content -> the expression to read: drop ``$``, ``\\displaystyle``, a trailing period, lhs, O-terms."""
    text = text.strip().strip("$").strip()
    text = text.replace("\\displaystyle", " ").strip()
    while text.endswith((".", ",", ";")) and not text.endswith(".."):
        text = text[:-1].rstrip()
    return drop_order_term(after_last_relation(text)).strip()


def grade_item(spec: AnswerSpec, text: str) -> tuple[str, dict]:
    """Grade one extracted answer string against a non-tuple spec."""
    if isinstance(spec, CategoricalAnswer):
        return grade_categorical_text(spec, text)
    cleaned = clean_answer_text(text)
    if not cleaned:
        return "no_answer", {"extracted": text, "reason": "empty answer"}
    if isinstance(spec, SymbolicAnswer):
        return grade_symbolic_text(spec, cleaned)
    if isinstance(spec, NumericAnswer):
        return grade_numeric_text(spec, cleaned)
    raise TypeError(f"not a text answer kind: {type(spec).__name__}")


def grade_text(answer: AnswerSpec, final_text: str) -> tuple[str, dict]:
    """(status, details) for the text after the last ``</think>``."""
    candidates = answer_candidates(final_text)
    if not candidates:
        return "no_answer", {"reason": "no \\boxed{} and no 'Final answer:' line"}
    if not isinstance(answer, TupleAnswer):
        status, details = grade_item(answer, candidates[-1])
        return status, {"kind": answer.kind, **details}
    expected = len(answer.items)
    parts = split_top_level_commas(candidates[-1])
    if len(parts) != expected:
        # `(a, b) = (1, 2)`: the tuple after the relation is the answer.
        parts = split_top_level_commas(after_last_relation(candidates[-1]))
    if len(parts) == 1 and expected > 1:
        # One item per box: the last N boxes are the answer.
        parts = candidates[-expected:] if len(candidates) >= expected else candidates
    if len(parts) != expected:
        return "incorrect", {"kind": "tuple", "reason": f"expected {expected} items, found {len(parts)}"}
    results = [grade_item(spec, part) for spec, part in zip(answer.items, parts, strict=True)]
    statuses = [status for status, _ in results]
    details = {"kind": "tuple", "parts": [{"status": s, **d} for s, d in results]}
    if all(s == "correct" for s in statuses):
        return "correct", details
    for status in _TUPLE_PRECEDENCE:
        if status in statuses:
            return status, details
    return statuses[0], details
