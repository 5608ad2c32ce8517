"""Validation helpers shared by the record types, on top of answer.py's ``_need``/``_opt``."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from curation.records.answer import FieldError, _need, _opt

__all__ = ["check_extra", "need", "opt", "require_object", "string_list"]

need = _need
opt = _opt


def require_object(d: Any, what: str) -> dict[str, Any]:
    """``d`` itself when it is a JSON object; otherwise a FieldError saying a ``what`` must be one."""
    if not isinstance(d, dict):
        raise FieldError("", f"a {what} must be a JSON object, got {type(d).__name__}")
    return d


def string_list(d: Mapping[str, Any], key: str, path: str = "") -> tuple[str, ...]:
    """``d[key]`` as a tuple of strings; missing or null means empty."""
    value = d.get(key)
    where = f"{path}.{key}" if path else key
    if value is None:
        return ()
    if not isinstance(value, list):
        raise FieldError(where, f"must be a list of strings, got {type(value).__name__}")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise FieldError(f"{where}.{i}", f"must be a string, got {type(item).__name__}")
    return tuple(value)


def check_extra(extra: Mapping[str, Any], keys: Collection[str], record: str) -> None:
    """Refuse an ``extra`` that would shadow one of the record's own keys when merged into its JSON form."""
    clashes = sorted(set(extra) & set(keys))
    if clashes:
        raise FieldError("extra", f"holds unknown keys only; {', '.join(clashes)} are {record} fields")
