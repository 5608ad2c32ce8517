"""The paper's seed layout: ``seeds/<source>/<doc>/matched_pairs.yaml``, a list of ``problem``/``solution``
mappings per document, plus ``seeds.jsonl`` beside it with the full Seed records (provenance, warnings).

``write_seed_layout`` groups seeds by source (``arxiv``, ``pdf``, ...) and document (arXiv id with version, or
the PDF's file name); ``curation.adapt.read_seeds`` reads the folder back.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import yaml

from curation.records.io import write_jsonl
from curation.records.seed import Seed

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def document_name(seed: Seed) -> tuple[str, str]:
    """(source, document) folder names of a seed."""
    source = seed.source
    if source.arxiv_id:
        return "arxiv", _UNSAFE.sub("_", f"{source.arxiv_id}{source.version or ''}")
    name = Path(source.file or "document").name
    return _UNSAFE.sub("_", source.kind or "documents"), _UNSAFE.sub("_", name)


class _Literal(str):
    """A string that YAML writes as a literal block (multi-line LaTeX stays readable)."""


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


yaml.SafeDumper.add_representer(_Literal, _literal)


def write_seed_layout(seeds: Iterable[Seed], folder: str | os.PathLike) -> dict[str, int]:
    """Write the layout (one matched_pairs.yaml per document, atomically) and ``seeds.jsonl``; returns the
    number of seeds per document folder."""
    folder = Path(folder)
    by_document: dict[tuple[str, str], list[Seed]] = defaultdict(list)
    for seed in seeds:
        by_document[document_name(seed)].append(seed)
    written = {}
    for (source, document), items in sorted(by_document.items()):
        target = folder / source / document / "matched_pairs.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        pairs = [{"problem": _Literal(s.problem), "solution": _Literal(s.solution)} for s in items]
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(
            yaml.safe_dump(pairs, sort_keys=False, allow_unicode=True, width=1000), encoding="utf-8"
        )
        tmp.replace(target)
        written[f"{source}/{document}"] = len(items)
    write_jsonl(folder / "seeds.jsonl", (s for items in by_document.values() for s in items))
    return written
