"""Stable record ids derived from content, so the same problem always gets the same id.

A Problem's id is ``"qft-" + sha256(canonical JSON of [normalized statement, answer])[:16]`` where the
statement is normalized by Unicode NFC and collapsing every run of whitespace to one space (so re-wrapping a
paragraph or a trailing newline never changes the id) and the answer is its validated ``to_dict()`` form with
sorted keys (so a default written out, e.g. ``"rtol": 1e-8``, gives the same id as one left out).

>>> problem_id("Compute sigma.", {"kind": "numeric", "value": 86.8, "unit": "nb"})
'qft-98dadb2d5fee36d6'
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from curation.records.answer import AnswerSpec, FieldError, answer_from_dict

PROBLEM_ID_PREFIX = "qft-"
SEED_ID_PREFIX = "seed-"
TRACE_ID_PREFIX = "trace-"
ID_HEX_DIGITS = 16

_WHITESPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """The text as ids see it: Unicode NFC, whitespace runs collapsed to one space, ends stripped."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys: the one serialization that hashes use."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def content_hash(parts: Sequence[Any], prefix: str) -> str:
    """``prefix`` + the first 16 hex digits of the sha256 of the canonical JSON of ``parts``."""
    try:
        payload = canonical_json(list(parts))
    except (TypeError, ValueError) as exc:
        raise FieldError("", f"cannot be hashed into an id: {exc}") from None
    return prefix + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:ID_HEX_DIGITS]


def problem_id(statement: str, answer: AnswerSpec | Mapping[str, Any]) -> str:
    """The id of a Problem: ``qft-`` + 16 hex digits from the normalized statement and the answer."""
    answer_dict = (
        answer_from_dict(dict(answer)).to_dict() if isinstance(answer, Mapping) else answer.to_dict()
    )
    try:
        return content_hash([normalize_text(statement), answer_dict], PROBLEM_ID_PREFIX)
    except FieldError as exc:
        raise FieldError("answer", exc.message) from None


def seed_id(problem: str, solution: str) -> str:
    """The id of a Seed: ``seed-`` + 16 hex digits from its normalized problem and solution text."""
    return content_hash([normalize_text(problem), normalize_text(solution)], SEED_ID_PREFIX)


def trace_id(problem_id: str, messages: Sequence[Mapping[str, str]], model: str) -> str:
    """The id of a Trace: ``trace-`` + 16 hex digits from its problem, chat messages and model."""
    chat = [{"role": m["role"], "content": m["content"]} for m in messages]
    return content_hash([problem_id, chat, model], TRACE_ID_PREFIX)
