"""Topic taxonomies: what synthetic problems are about, as data.

A taxonomy is a YAML file with a fixed top level::

    area: qft                       # short name of the field; stamped on every topic
    name: Quantum field theory
    version: "1.0"                  # a string: quote it
    categories:
      - id: qed-processes
        description: Tree and one-loop processes of quantum electrodynamics.
    topics:
      - id: qed-compton-scattering  # kebab-case, unique in the file
        category: qed-processes     # one of the declared categories
        level: graduate             # one of generation.cas.family.LEVELS
        description: >-
          Tree-level unpolarized Compton cross section in the electron rest frame (Klein-Nishina), limits at low
          and high photon energy.
        answer_kinds: [symbolic, numeric]   # optional: AnswerSpec kinds that fit
        keywords: [compton, klein-nishina]  # optional

Two taxonomies ship with the package (:data:`SHIPPED`): ``qft``, the one the datasets are built from, and
``cosmology``, a smaller one for generalization sets. ``load_taxonomy`` takes either name or the path of a user's
own file, and reports every problem with the file and line, e.g.
``generation/topics/qft.yaml, line 120: topic 'x': level 'grad' is not one of advanced undergraduate, ...``.

Example::

    >>> qft = load_taxonomy("qft")
    >>> [t.id for t in qft.select(levels="graduate", categories="qed-processes")][:2]
    ['qed-compton-scattering', 'bhabha-and-moller-scattering']
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from generation.cas.family import LEVELS

SHIPPED = ("qft", "cosmology")
TAXONOMY_DIR = Path(__file__).parent
ANSWER_KINDS = ("symbolic", "numeric", "categorical", "code", "tuple")

_TOP_KEYS = ("area", "name", "version", "categories", "topics")
_CATEGORY_KEYS = ("id", "description")
_TOPIC_REQUIRED = ("id", "category", "level", "description")
_TOPIC_KEYS = (*_TOPIC_REQUIRED, "answer_kinds", "keywords")
_KEBAB = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# Keys the line-tracking loader adds to every mapping.
_LINE, _KEY_LINES = "__line__", "__key_lines__"


class TaxonomyError(ValueError):
    """A taxonomy file that cannot be used, or a lookup that names nothing in it; the message says where and why."""


@dataclass(frozen=True)
class Topic:
    """One topic: what a problem on it computes, at which level, in which category."""

    id: str
    category: str
    level: str
    description: str
    answer_kinds: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    area: str = "qft"


@dataclass(frozen=True)
class Category:
    """A declared category of a taxonomy."""

    id: str
    description: str


@dataclass(frozen=True)
class Taxonomy:
    """The topics of one area, in file order, with lookups by id, level and category."""

    area: str
    name: str
    version: str
    topics: tuple[Topic, ...]
    declared_categories: tuple[Category, ...] = ()

    def __iter__(self) -> Iterator[Topic]:
        return iter(self.topics)

    def __len__(self) -> int:
        return len(self.topics)

    @property
    def categories(self) -> tuple[str, ...]:
        """Category ids in declaration order (or first-use order when none were declared)."""
        if self.declared_categories:
            return tuple(c.id for c in self.declared_categories)
        return tuple(dict.fromkeys(t.category for t in self.topics))

    def category_description(self, category: str) -> str:
        """The declared description of ``category``; TaxonomyError if it is not one of this taxonomy's."""
        self._check("category", [category], self.categories)
        return next((c.description for c in self.declared_categories if c.id == category), "")

    def by_level(self, level: str) -> list[Topic]:
        """The topics at ``level`` (one of LEVELS), in file order."""
        return self.select(levels=[level])

    def get(self, topic_id: str) -> Topic:
        """The topic with this id; TaxonomyError (with close matches) if there is none."""
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        self._check("topic", [topic_id], [t.id for t in self.topics])
        raise AssertionError("unreachable")  # pragma: no cover

    def select(
        self,
        levels: str | Iterable[str] | None = None,
        categories: str | Iterable[str] | None = None,
        ids: str | Iterable[str] | None = None,
    ) -> list[Topic]:
        """Topics matching all given filters (each a name or a collection of names; None means any), in file order.

        Every name must exist: a misspelt level, category or id raises TaxonomyError instead of selecting nothing.

        >>> load_taxonomy("qft").select(levels=["graduate"], categories=["qed-processes"])[0].id
        'qed-compton-scattering'
        """
        wanted_levels = self._check("level", _names(levels), LEVELS)
        wanted_categories = self._check("category", _names(categories), self.categories)
        wanted_ids = self._check("topic", _names(ids), [t.id for t in self.topics])
        return [
            t
            for t in self.topics
            if (wanted_levels is None or t.level in wanted_levels)
            and (wanted_categories is None or t.category in wanted_categories)
            and (wanted_ids is None or t.id in wanted_ids)
        ]

    def _check(self, what: str, names: list[str] | None, known: Iterable[str]) -> set[str] | None:
        if names is None:
            return None
        known = list(known)
        for name in names:
            if name not in known:
                close = [k for k in known if str(name) in k][:3] or difflib.get_close_matches(
                    str(name), known, n=3
                )
                if close:
                    hint = f"; did you mean {', '.join(close)}?"
                elif len(known) <= 20:
                    hint = f"; use one of {', '.join(known)}"
                else:
                    hint = f" among its {len(known)} {what}s"
                raise TaxonomyError(f"{self.area} taxonomy: no {what} {name!r}{hint}")
        return set(names)


def _names(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that records where each mapping starts (``__line__``) and where each of its keys is
    (``__key_lines__``), and refuses a key given twice in one mapping (plain YAML keeps the last silently)."""

    def construct_mapping(self, node, deep=False):
        key_lines: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str) and key in key_lines:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
                )
            if isinstance(key, str):
                key_lines[key] = key_node.start_mark.line + 1
        mapping = super().construct_mapping(node, deep=deep)
        mapping[_LINE] = node.start_mark.line + 1
        mapping[_KEY_LINES] = key_lines
        return mapping


def taxonomy_path(name_or_path: str | os.PathLike) -> Path:
    """The file behind a shipped name (``"qft"``) or a user's path; TaxonomyError if there is none."""
    if isinstance(name_or_path, str) and name_or_path in SHIPPED:
        return TAXONOMY_DIR / f"{name_or_path}.yaml"
    path = Path(os.path.expanduser(os.fspath(name_or_path)))
    if not path.is_file():
        raise TaxonomyError(
            f"{name_or_path}: neither a shipped taxonomy ({', '.join(SHIPPED)}) nor a taxonomy YAML file"
        )
    return path


def load_taxonomy(name_or_path: str | os.PathLike) -> Taxonomy:
    """A validated taxonomy: ``"qft"``, ``"cosmology"`` (see SHIPPED) or the path of a YAML file.

    >>> len(load_taxonomy("qft").by_level("post-graduate")) >= 15
    True
    """
    path = taxonomy_path(name_or_path)
    label = _label(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{label}, line {mark.line + 1}" if mark else label
        raise TaxonomyError(f"{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    except UnicodeDecodeError as exc:
        raise TaxonomyError(f"{label}: not valid UTF-8 ({exc.reason})") from None
    except OSError as exc:
        raise TaxonomyError(f"{label}: cannot be read ({exc.strerror or exc})") from None
    return _taxonomy(data, label)


def _label(path: Path) -> str:
    """How messages name the file: shipped files by their place in the repository, others as given."""
    try:
        if path.resolve().parent == TAXONOMY_DIR.resolve():
            return f"generation/topics/{path.name}"
    except OSError:  # pragma: no cover (resolve on an odd filesystem)
        pass
    return str(path)


def _at(label: str, mapping: dict, key: str | None = None) -> str:
    """``file, line N`` for a key of a mapping (its own line when known, else the mapping's)."""
    line = mapping.get(_KEY_LINES, {}).get(key) if key else None
    return f"{label}, line {line or mapping.get(_LINE, '?')}"


def _unknown_keys(mapping: dict, allowed: tuple[str, ...], where: str, label: str) -> None:
    unknown = [k for k in mapping if k not in allowed and k not in (_LINE, _KEY_LINES)]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise TaxonomyError(
            f"{_at(label, mapping, str(key))}: {where}unknown key {key!r}{hint}; allowed keys are "
            f"{', '.join(allowed)}"
        )


def _text(mapping: dict, key: str, where: str, label: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str) or not value.strip():
        got = "is empty" if value is None or (isinstance(value, str) and not value.strip()) else "is not text"
        if isinstance(value, int | float) and not isinstance(value, bool) and key == "version":
            got = f'is a number; quote it, e.g. version: "{value}"'
        raise TaxonomyError(f"{_at(label, mapping, key)}: {where}{key} {got}")
    return " ".join(value.split())


def _identifier(mapping: dict, key: str, where: str, label: str) -> str:
    value = _text(mapping, key, where, label)
    if not _KEBAB.fullmatch(value):
        raise TaxonomyError(
            f"{_at(label, mapping, key)}: {where}{key} {value!r} is not kebab-case; use lowercase letters, digits "
            f"and single hyphens, e.g. qed-compton-scattering"
        )
    return value


def _string_list(mapping: dict, key: str, where: str, label: str) -> tuple[str, ...]:
    value = mapping.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise TaxonomyError(f"{_at(label, mapping, key)}: {where}{key} must be a list of words, e.g. [a, b]")
    return tuple(v.strip() for v in value)


def _taxonomy(data: Any, label: str) -> Taxonomy:
    if not isinstance(data, dict):
        raise TaxonomyError(f"{label}: expected a mapping with the keys {', '.join(_TOP_KEYS)}")
    _unknown_keys(data, _TOP_KEYS, "", label)
    missing = [k for k in _TOP_KEYS if k not in data]
    if missing:
        raise TaxonomyError(f"{label}: missing top-level key(s) {', '.join(missing)}")
    area = _identifier(data, "area", "", label)
    name = _text(data, "name", "", label)
    version = _text(data, "version", "", label)
    categories = _categories(data, label)
    topics_data = data["topics"]
    if not isinstance(topics_data, list) or not topics_data:
        raise TaxonomyError(
            f"{_at(label, data, 'topics')}: topics must be a non-empty list of topic mappings"
        )
    topics: list[Topic] = []
    first_line: dict[str, Any] = {}
    for entry in topics_data:
        topic = _topic(entry, area, categories, label, data)
        if topic.id in first_line:
            raise TaxonomyError(
                f"{_at(label, entry, 'id')}: topic id {topic.id!r} is already used on line {first_line[topic.id]}; "
                f"topic ids must be unique"
            )
        first_line[topic.id] = entry.get(_KEY_LINES, {}).get("id", entry.get(_LINE, "?"))
        topics.append(topic)
    return Taxonomy(area, name, version, tuple(topics), tuple(categories))


def _categories(data: dict, label: str) -> list[Category]:
    entries = data["categories"]
    if not isinstance(entries, list) or not entries:
        raise TaxonomyError(
            f"{_at(label, data, 'categories')}: categories must be a non-empty list of {{id, description}} mappings"
        )
    categories: list[Category] = []
    lines: dict[str, Any] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            raise TaxonomyError(
                f"{_at(label, data, 'categories')}: each category must be a mapping with id, description"
            )
        _unknown_keys(entry, _CATEGORY_KEYS, "category: ", label)
        category_id = _identifier(entry, "id", "category ", label)
        where = f"category {category_id!r}: "
        if category_id in lines:
            raise TaxonomyError(
                f"{_at(label, entry, 'id')}: {where}already declared on line {lines[category_id]}"
            )
        lines[category_id] = entry.get(_KEY_LINES, {}).get("id", entry.get(_LINE, "?"))
        categories.append(Category(category_id, _text(entry, "description", where, label)))
    return categories


def _topic(entry: Any, area: str, categories: list[Category], label: str, data: dict) -> Topic:
    if not isinstance(entry, dict):
        raise TaxonomyError(
            f"{_at(label, data, 'topics')}: each topic must be a mapping with {', '.join(_TOPIC_REQUIRED)}"
        )
    raw_id = entry.get("id")
    where = f"topic {raw_id!r}: " if isinstance(raw_id, str) and raw_id else "topic: "
    _unknown_keys(entry, _TOPIC_KEYS, where, label)
    missing = [k for k in _TOPIC_REQUIRED if k not in entry]
    if missing:
        raise TaxonomyError(f"{_at(label, entry)}: {where}missing key(s) {', '.join(missing)}")
    topic_id = _identifier(entry, "id", "topic ", label)
    category = _text(entry, "category", where, label)
    known = [c.id for c in categories]
    if category not in known:
        raise TaxonomyError(
            f"{_at(label, entry, 'category')}: {where}category {category!r} is not declared under categories:; "
            f"use one of {', '.join(known)} or declare it"
        )
    level = _text(entry, "level", where, label)
    if level not in LEVELS:
        raise TaxonomyError(
            f"{_at(label, entry, 'level')}: {where}level {level!r} is not one of {', '.join(LEVELS)}"
        )
    description = _text(entry, "description", where, label)
    answer_kinds = _string_list(entry, "answer_kinds", where, label)
    bad = [k for k in answer_kinds if k not in ANSWER_KINDS]
    if bad:
        raise TaxonomyError(
            f"{_at(label, entry, 'answer_kinds')}: {where}answer kind {bad[0]!r} is not one of {', '.join(ANSWER_KINDS)}"
        )
    if len(set(answer_kinds)) != len(answer_kinds):
        raise TaxonomyError(f"{_at(label, entry, 'answer_kinds')}: {where}answer_kinds lists a kind twice")
    keywords = _string_list(entry, "keywords", where, label)
    return Topic(topic_id, category, level, description, answer_kinds, keywords, area)
