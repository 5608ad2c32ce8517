"""DESIGN.md's layering: `training`, `release` -> `generation` -> `curation`; `cards` serves `release` and
`training`; `curation` imports none of the others. Read from the source (every import statement, lazy ones too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("curation", "generation", "training", "release", "cards")
MAY_IMPORT = {
    "curation": set(),
    "generation": {"curation"},
    "cards": {"curation"},
    "release": {"curation", "generation", "cards"},
    "training": {"curation", "generation", "cards"},
}


def imported_packages(path: Path) -> dict[str, int]:
    """Our top-level packages that ``path`` imports -> the first line that does."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in PACKAGES:
                found.setdefault(top, node.lineno)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_point_one_way(package):
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {other}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for other, line in imported_packages(path).items()
        if other != package and other not in MAY_IMPORT[package]
    ]
    assert wrong == []
