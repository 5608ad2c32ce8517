"""Categorical answers: one label out of declared choices, matched exactly after normalization."""

from __future__ import annotations

import re

from curation.records.answer import CategoricalAnswer

_WRAPPER = re.compile(
    r"\\(?:text|mathrm|textrm|textbf|mathbf|textit|mathit|operatorname|mbox|emph)\s*\{([^{}]*)\}"
)
_SPACING = re.compile(r"\\[,;:! ]|\\quad|\\qquad|~")


def normalize_label(text: str) -> str:
    """``\\text{Axial-Vector}`` -> ``axialvector``: wrappers, case, whitespace, hyphens and underscores go."""
    previous = None
    while previous != text:
        previous = text
        text = _WRAPPER.sub(r"\1", text)
    text = _SPACING.sub("", text).replace("$", "")
    text = text.strip().rstrip(".").strip()
    return re.sub(r"[\s\-_]+", "", text.lower())


def grade_categorical_text(spec: CategoricalAnswer, text: str) -> tuple[str, dict]:
    """Exact match of the normalized label; no substring matching ("vector" is not "axial-vector")."""
    label = normalize_label(text)
    details = {"extracted": text, "normalized": label}
    if not label:
        return "no_answer", {**details, "reason": "empty answer"}
    if label == normalize_label(spec.value):
        return "correct", details
    named = [
        choice
        for choice in spec.choices
        if re.search(rf"(?<![a-z]){re.escape(normalize_label(choice))}(?![a-z])", label)
    ]
    if len(named) > 1:
        details["reason"] = f"names several choices: {', '.join(named)}"
    return "incorrect", details
