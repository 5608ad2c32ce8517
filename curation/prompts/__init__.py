"""Prompt templates as files: ``<name>.txt`` rendered with ``str.format`` fields, ``task_types.yaml``. They live
in ``curation``, the layer every other package may import, because both generation (synthetic problems, solving,
traces) and curation (QC judging, adaptation) render them.

Templates are data so a user can read and change them without touching code; their SHA-256 goes into each
generated problem's provenance (``prompt_sha256``), so a changed template is visible in the data.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import yaml

PROMPT_DIR = Path(__file__).parent


@cache
def template(name: str) -> str:
    """The text of ``<name>.txt`` (stripped of one trailing newline)."""
    path = PROMPT_DIR / f"{name}.txt"
    if not path.is_file():
        raise FileNotFoundError(f"no prompt template {path}")
    return path.read_text(encoding="utf-8").rstrip("\n")


def render(name: str, **fields: object) -> str:
    """``template(name).format(**fields)``; a KeyError names the template and the missing field."""
    try:
        return template(name).format(**fields)
    except KeyError as exc:
        raise KeyError(f"prompt template {name}.txt needs the field {exc.args[0]!r}") from None


@cache
def task_types() -> dict[str, str]:
    """Task type -> the description shown to the model."""
    return yaml.safe_load((PROMPT_DIR / "task_types.yaml").read_text(encoding="utf-8"))


def prompt_hash(*names: str) -> str:
    """SHA-256 (first 16 hex digits) of the named templates, for provenance."""
    digest = hashlib.sha256()
    for name in names:
        digest.update(template(name).encode("utf-8") + b"\0")
    return digest.hexdigest()[:16]
