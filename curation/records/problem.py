"""Problem: one verifiable QFT problem (DESIGN.md "Records" contract), and Source, where it came from.

``Problem.to_dict()`` writes every field (``qc``/``solver`` as null when absent) and then the keys of
``extra`` at the top level, so an unknown field read by ``Problem.from_dict`` comes back out exactly where
it was. ``from_dict`` validates as it goes and raises ``FieldError`` naming the dotted field path.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from curation.records.answer import AnswerSpec, CodeAnswer, FieldError, answer_from_dict
from curation.records.fields import check_extra, need, opt, require_object, string_list
from curation.records.ids import problem_id

SOURCE_KINDS = ("synthetic-llm", "synthetic-cas", "adapted")


@dataclass(frozen=True)
class Source:
    """Where a problem came from: ``kind`` plus free-form provenance (generator and parameters, model and
    prompt hash, arXiv id, version, URL, pages, licence...)."""

    kind: str
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in SOURCE_KINDS:
            raise FieldError(
                "kind", f"unknown source kind {self.kind!r}; use one of {', '.join(SOURCE_KINDS)}"
            )
        if "kind" in self.provenance:
            raise FieldError("kind", "is the source kind; provenance cannot have a key of that name")

    def to_dict(self) -> dict[str, Any]:
        """``{"kind": ..., **provenance}``."""
        return {"kind": self.kind, **self.provenance}

    @classmethod
    def from_dict(cls, d: Any, path: str = "source") -> Source:
        """Validate and build; every key besides ``kind`` is provenance."""
        if not isinstance(d, dict):
            raise FieldError(path, f"must be an object with a 'kind', got {type(d).__name__}")
        kind = need(d, "kind", str, path)
        try:
            return cls(kind=kind, provenance={k: v for k, v in d.items() if k != "kind"})
        except FieldError as exc:
            raise exc.under(path) from None


@dataclass(frozen=True)
class Problem:
    """One verifiable problem: a self-contained statement, an AnswerSpec to check against, and provenance.

    ``answer_requirements`` is the text a solver is shown after the statement on how to give the answer (for
    a code answer, the function skeleton to complete); ``answer_text`` is the reference answer as a human
    writes it (LaTeX). Neither enters the id, which depends on ``statement`` and ``answer`` only.

    ``code_answer`` is an optional second way to grade the same problem, in the paper's code format (CAS
    families give every symbolic answer one), and ``code_answer_requirements`` the text a solver is shown for
    it (the function skeleton, as TPBench's column of that name). Neither enters the id either;
    :meth:`code_form` turns them into a Problem graded by code.
    """

    id: str
    statement: str
    answer: AnswerSpec
    source: Source
    solution: str = ""
    topic: str = ""
    level: str = ""
    task_type: str = ""
    answer_requirements: str = ""
    answer_text: str = ""
    code_answer: CodeAnswer | None = None
    code_answer_requirements: str = ""
    qc: dict[str, Any] | None = None
    solver: dict[str, Any] | None = None
    tags: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        check_extra(self.extra, PROBLEM_KEYS, "Problem")
        if self.code_answer is not None and not isinstance(self.code_answer, CodeAnswer):
            raise FieldError("code_answer", f"must be a code answer, got {type(self.code_answer).__name__}")

    @classmethod
    def create(cls, statement: str, answer: AnswerSpec, source: Source, **fields: Any) -> Problem:
        """A Problem with its id computed from ``statement`` and ``answer``."""
        return cls(
            id=problem_id(statement, answer), statement=statement, answer=answer, source=source, **fields
        )

    def replace(self, **changes: Any) -> Problem:
        """A copy with ``changes`` applied and the id recomputed, so it stays in step with the content."""
        changed = dataclasses.replace(self, **changes)
        return dataclasses.replace(changed, id=problem_id(changed.statement, changed.answer))

    def problem_text(self) -> str:
        """What a solver is shown: the statement, then the answer requirements when there are any."""
        if not self.answer_requirements.strip():
            return self.statement
        return f"{self.statement.rstrip()}\n\n{self.answer_requirements.strip()}"

    def code_form(self) -> Problem:
        """The same problem graded by its ``code_answer`` (a new id, since the answer differs); ``ValueError``
        when it has none."""
        if self.code_answer is None:
            raise ValueError(f"problem {self.id} has no code_answer")
        return self.replace(
            answer=self.code_answer,
            answer_requirements=self.code_answer_requirements,
            code_answer=None,
            code_answer_requirements="",
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: every field, then the ``extra`` keys at the top level."""
        return {
            "id": self.id,
            "statement": self.statement,
            "answer": self.answer.to_dict(),
            "solution": self.solution,
            "topic": self.topic,
            "level": self.level,
            "task_type": self.task_type,
            "source": self.source.to_dict(),
            "answer_requirements": self.answer_requirements,
            "answer_text": self.answer_text,
            "code_answer": None if self.code_answer is None else self.code_answer.to_dict(),
            "code_answer_requirements": self.code_answer_requirements,
            "qc": self.qc,
            "solver": self.solver,
            "tags": list(self.tags),
            **self.extra,
        }

    @classmethod
    def from_dict(cls, d: Any, *, check_id: bool = True) -> Problem:
        """Validate and build. A missing id is computed; a given one must match the content unless
        ``check_id=False`` (e.g. for reading a file written under an older id scheme)."""
        d = require_object(d, "problem")
        statement = need(d, "statement", str, "")
        if not statement.strip():
            raise FieldError("statement", "is empty")
        if "answer" not in d:
            raise FieldError("answer", "is required")
        answer = answer_from_dict(d["answer"], "answer")
        if "source" not in d:
            raise FieldError("source", 'is required, e.g. {"kind": "synthetic-cas", "generator": "kallen"}')
        source = Source.from_dict(d["source"])
        code_answer = None
        if d.get("code_answer") is not None:
            code_answer = answer_from_dict(d["code_answer"], "code_answer")
            if not isinstance(code_answer, CodeAnswer):
                raise FieldError("code_answer.kind", f"must be 'code', got {code_answer.kind!r}")
        expected_id = problem_id(statement, answer)
        given_id = opt(d, "id", str, "")
        if given_id is None:
            given_id = expected_id
        elif check_id and given_id != expected_id:
            raise FieldError(
                "id",
                f"{given_id!r} does not match the content (expected {expected_id!r}): the statement or answer "
                "changed after the id was made; drop the id to recompute it, or read with check_id=False",
            )
        return cls(
            id=given_id,
            statement=statement,
            answer=answer,
            source=source,
            solution=opt(d, "solution", str, "", ""),
            topic=opt(d, "topic", str, "", ""),
            level=opt(d, "level", str, "", ""),
            task_type=opt(d, "task_type", str, "", ""),
            answer_requirements=opt(d, "answer_requirements", str, "", ""),
            answer_text=opt(d, "answer_text", str, "", ""),
            code_answer=code_answer,
            code_answer_requirements=opt(d, "code_answer_requirements", str, "", ""),
            qc=opt(d, "qc", dict, ""),
            solver=opt(d, "solver", dict, ""),
            tags=string_list(d, "tags"),
            extra={k: v for k, v in d.items() if k not in PROBLEM_KEYS},
        )


# The keys of the JSON form that are fields; every other key ("extra" included) goes to extra.
PROBLEM_KEYS = frozenset(f.name for f in dataclasses.fields(Problem)) - {"extra"}
