"""Response (a model's text to grade) and Result (the verifier's verdict): DESIGN.md contracts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from curation.records.answer import FieldError

STATUSES = ("correct", "incorrect", "no_answer", "unparseable", "timeout", "error", "invalid_problem")


@dataclass(frozen=True)
class Response:
    """A model's full output for one problem."""

    problem_id: str
    response: str

    def to_dict(self) -> dict:
        return {"problem_id": self.problem_id, "response": self.response}

    @classmethod
    def from_dict(cls, d: Any) -> Response:
        if not isinstance(d, dict):
            raise FieldError("", f"a response must be an object, got {type(d).__name__}")
        for key in ("problem_id", "response"):
            if key not in d:
                raise FieldError(key, "is required")
            if not isinstance(d[key], str):
                raise FieldError(key, f"must be a string, got {type(d[key]).__name__}")
        return cls(problem_id=d["problem_id"], response=d["response"])


@dataclass(frozen=True)
class Result:
    """The verdict on one Response. ``details`` holds per-part / per-test-case findings and the verifier version."""

    problem_id: str
    status: str
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.status not in STATUSES:
            raise FieldError("status", f"unknown status {self.status!r}; one of {', '.join(STATUSES)}")

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def to_dict(self) -> dict:
        return {"problem_id": self.problem_id, "status": self.status, "details": self.details}

    @classmethod
    def from_dict(cls, d: Any) -> Result:
        if not isinstance(d, dict):
            raise FieldError("", f"a result must be an object, got {type(d).__name__}")
        for key in ("problem_id", "status"):
            if not isinstance(d.get(key), str):
                raise FieldError(key, "is required and must be a string")
        details = d.get("details") or {}
        if not isinstance(details, dict):
            raise FieldError("details", "must be an object")
        return cls(problem_id=d["problem_id"], status=d["status"], details=details)
