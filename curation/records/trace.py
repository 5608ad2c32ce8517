"""Trace: one teacher sample for a problem, in chat format ready for TRL, with its verification.

``messages`` is what SFT trains on (``[{"role": "user", ...}, {"role": "assistant", ...}]``); ``reasoning``
and ``final`` are the assistant turn split at the last ``</think>``; ``num_tokens`` counts the completion with
the tokenizer named in ``tokenizer``. ``id`` is optional (``trace_id`` derives one from the content).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from curation.records.answer import FieldError
from curation.records.fields import check_extra, need, opt, require_object
from curation.records.result import Result

CHAT_ROLES = ("system", "user", "assistant", "tool")


@dataclass(frozen=True)
class ChatMessage:
    """One chat turn."""

    role: str
    content: str

    def to_dict(self) -> dict[str, str]:
        """``{"role": ..., "content": ...}``."""
        return {"role": self.role, "content": self.content}

    @classmethod
    def from_dict(cls, d: Any, path: str) -> ChatMessage:
        """Validate and build; only ``role`` and ``content`` are allowed, so the Parquet row holds it all."""
        if not isinstance(d, dict):
            raise FieldError(path, f"must be an object with 'role' and 'content', got {type(d).__name__}")
        role = need(d, "role", str, path)
        if role not in CHAT_ROLES:
            raise FieldError(f"{path}.role", f"unknown role {role!r}; use one of {', '.join(CHAT_ROLES)}")
        content = need(d, "content", str, path)
        unexpected = sorted(set(d) - {"role", "content"})
        if unexpected:
            raise FieldError(path, f"unexpected keys {unexpected}; a message holds only role and content")
        return cls(role=role, content=content)


@dataclass(frozen=True)
class Trace:
    """A sampled solution to one problem, kept with everything needed to reproduce and audit it."""

    problem_id: str
    messages: tuple[ChatMessage, ...]
    model: str
    verification: Result
    num_tokens: int
    tokenizer: str
    reasoning: str = ""
    final: str = ""
    sampling: dict[str, Any] = field(default_factory=dict)
    finish_reason: str | None = None
    id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        check_extra(self.extra, TRACE_KEYS, "Trace")

    def chat(self) -> list[dict[str, str]]:
        """The messages as TRL's conversational format wants them."""
        return [m.to_dict() for m in self.messages]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``id`` first when set, every other field, then the ``extra`` keys."""
        out: dict[str, Any] = {} if self.id is None else {"id": self.id}
        out.update(
            {
                "problem_id": self.problem_id,
                "messages": self.chat(),
                "reasoning": self.reasoning,
                "final": self.final,
                "model": self.model,
                "sampling": dict(self.sampling),
                "verification": self.verification.to_dict(),
                "num_tokens": self.num_tokens,
                "tokenizer": self.tokenizer,
                "finish_reason": self.finish_reason,
            }
        )
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, d: Any) -> Trace:
        """Validate and build."""
        d = require_object(d, "trace")
        raw_messages = need(d, "messages", list, "")
        if not raw_messages:
            raise FieldError("messages", "needs at least one message")
        messages = tuple(ChatMessage.from_dict(m, f"messages.{i}") for i, m in enumerate(raw_messages))
        if "verification" not in d:
            raise FieldError("verification", "is required: the verifier's Result for this trace")
        try:
            verification = Result.from_dict(d["verification"])
        except FieldError as exc:
            raise exc.under("verification") from None
        num_tokens = need(d, "num_tokens", int, "")
        if num_tokens < 0:
            raise FieldError("num_tokens", f"must be >= 0, got {num_tokens}")
        return cls(
            id=opt(d, "id", str, ""),
            problem_id=need(d, "problem_id", str, ""),
            messages=messages,
            reasoning=opt(d, "reasoning", str, "", ""),
            final=opt(d, "final", str, "", ""),
            model=need(d, "model", str, ""),
            sampling=dict(opt(d, "sampling", dict, "", {})),
            verification=verification,
            num_tokens=num_tokens,
            tokenizer=need(d, "tokenizer", str, ""),
            finish_reason=opt(d, "finish_reason", str, ""),
            extra={k: v for k, v in d.items() if k not in TRACE_KEYS},
        )


# The keys of the JSON form that are fields; every other key ("extra" included) goes to extra.
TRACE_KEYS = frozenset(f.name for f in dataclasses.fields(Trace)) - {"extra"}
