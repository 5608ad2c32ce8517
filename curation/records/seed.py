"""Seed: a human-written problem/solution pair with its provenance, before adaptation into a Problem.

A seed's id is filled from its content (``seed_id``) when missing, but a given id is kept as it is: seeds are
named by the tool that ingested them and their text may later be corrected by hand (OCR, LaTeX clean-up)
without becoming a different seed.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from curation.records.answer import FieldError
from curation.records.fields import check_extra, need, opt, require_object, string_list
from curation.records.ids import seed_id

_SHA256 = re.compile(r"[0-9a-f]{64}")


def _int_list(d: dict[str, Any], key: str, path: str) -> tuple[int, ...] | None:
    value = d.get(key)
    if value is None:
        return None
    where = f"{path}.{key}"
    if not isinstance(value, list):
        raise FieldError(
            where, f"must be a list of line/page numbers, e.g. [12, 13]; got {type(value).__name__}"
        )
    for i, item in enumerate(value):
        if not isinstance(item, int) or isinstance(item, bool) or item < 1:
            raise FieldError(f"{where}.{i}", f"must be a number >= 1 (numbering starts at 1), got {item!r}")
    return tuple(value)


@dataclass(frozen=True)
class SeedSource:
    """Where a seed was found. ``pages``: the pages it spans (1-based); ``lines``: ``(first, last)`` line of the
    source file (1-based, inclusive); ``sha256``: of the source file; other keys go to ``extra``."""

    kind: str
    arxiv_id: str | None = None
    version: str | None = None
    url: str | None = None
    file: str | None = None
    sha256: str | None = None
    pages: tuple[int, ...] | None = None
    lines: tuple[int, int] | None = None
    licence: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        check_extra(self.extra, SEED_SOURCE_KEYS, "SeedSource")

    def to_dict(self) -> dict[str, Any]:
        """``{"kind": ...}`` plus the provenance fields that are set, then the ``extra`` keys."""
        out: dict[str, Any] = {"kind": self.kind}
        for name in SEED_SOURCE_KEYS[1:]:
            value = getattr(self, name)
            if value is not None:
                out[name] = list(value) if isinstance(value, tuple) else value
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, d: Any, path: str = "source") -> SeedSource:
        """Validate and build; unknown keys go to ``extra``."""
        if not isinstance(d, dict):
            raise FieldError(path, f"must be an object with a 'kind', got {type(d).__name__}")
        kind = need(d, "kind", str, path)
        if not kind.strip():
            raise FieldError(f"{path}.kind", "is empty; write e.g. arxiv, pdf, latex or textbook")
        sha256 = opt(d, "sha256", str, path)
        if sha256 is not None and not _SHA256.fullmatch(sha256):
            raise FieldError(f"{path}.sha256", f"must be 64 lowercase hex digits, got {sha256!r}")
        lines = _int_list(d, "lines", path)
        if lines is not None and (len(lines) != 2 or lines[0] > lines[1]):
            raise FieldError(f"{path}.lines", f"must be [first, last] with first <= last, got {list(lines)}")
        return cls(
            kind=kind,
            arxiv_id=opt(d, "arxiv_id", str, path),
            version=opt(d, "version", str, path),
            url=opt(d, "url", str, path),
            file=opt(d, "file", str, path),
            sha256=sha256,
            pages=_int_list(d, "pages", path),
            lines=lines,  # type: ignore[arg-type]  # length checked above
            licence=opt(d, "licence", str, path),
            extra={k: v for k, v in d.items() if k not in SEED_SOURCE_KEYS},
        )


# The keys of the JSON form that are fields, "kind" first; every other key goes to extra.
SEED_SOURCE_KEYS = tuple(f.name for f in dataclasses.fields(SeedSource) if f.name != "extra")


@dataclass(frozen=True)
class Seed:
    """A human-written problem and (possibly empty) solution, with where it came from and what looked off."""

    id: str
    problem: str
    source: SeedSource
    solution: str = ""
    warnings: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        check_extra(self.extra, SEED_KEYS, "Seed")

    @classmethod
    def create(cls, problem: str, source: SeedSource, **fields: Any) -> Seed:
        """A Seed with its id computed from its problem and solution text."""
        return cls(id=seed_id(problem, fields.get("solution", "")), problem=problem, source=source, **fields)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: every field, then the ``extra`` keys at the top level."""
        return {
            "id": self.id,
            "problem": self.problem,
            "solution": self.solution,
            "source": self.source.to_dict(),
            "warnings": list(self.warnings),
            **self.extra,
        }

    @classmethod
    def from_dict(cls, d: Any) -> Seed:
        """Validate and build; a missing id is computed from the content."""
        d = require_object(d, "seed")
        problem = need(d, "problem", str, "")
        if not problem.strip():
            raise FieldError("problem", "is empty")
        solution = opt(d, "solution", str, "", "")
        if "source" not in d:
            raise FieldError("source", 'is required, e.g. {"kind": "arxiv", "arxiv_id": "2401.01234"}')
        return cls(
            id=opt(d, "id", str, "") or seed_id(problem, solution),
            problem=problem,
            solution=solution,
            source=SeedSource.from_dict(d["source"]),
            warnings=string_list(d, "warnings"),
            extra={k: v for k, v in d.items() if k not in SEED_KEYS},
        )


# The keys of the JSON form that are fields; every other key ("extra" included) goes to extra.
SEED_KEYS = frozenset(f.name for f in dataclasses.fields(Seed)) - {"extra"}
