"""Release specs: one YAML file says what a dataset release holds and how it is built.

    spec = load_spec("release/specs/demo.yaml")
    spec.configs["problems"].source.kind  # "cas"

Every error names the file, the line and the key, and says what to write instead, e.g.
``release/specs/qft-v1.yaml, line 12: shards.max_bytes '10XB' is not a size; write e.g. 500MB``.
The layout of a spec is documented field by field in ``release/specs/demo.yaml`` and the README.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONFIG_TYPES = ("problems", "sft", "traces")
SPLIT_POLICIES = ("source_kind", "fraction", "group")
FILTER_OPS = ("in", "not_in", "equals", "min_length", "max_length", "min", "max")
SPLIT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
CONFIG_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B)?\s*$", re.IGNORECASE)
_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_UNITS.update({"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40})
_COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKMG]?)\s*$")


class SpecError(ValueError):
    """A release spec that cannot be built; the message names the file, line and key."""


class _Mapping(dict):
    """A YAML mapping that remembers the line of each of its keys (and its own first line)."""

    line: int = 0
    key_lines: dict[str, int]


class _SpecLoader(yaml.SafeLoader):
    def construct_mapping(self, node, deep=False):
        mapping = _Mapping(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {
            key_node.value: key_node.start_mark.line + 1
            for key_node, _ in node.value
            if isinstance(key_node, yaml.ScalarNode)
        }
        return mapping


_SpecLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _SpecLoader.construct_mapping)


@dataclass(frozen=True)
class _Where:
    """Turns a key path into a located error message."""

    path: Path

    def error(self, mapping: Any, key: str | None, dotted: str, message: str) -> SpecError:
        line = None
        if isinstance(mapping, _Mapping):
            line = mapping.key_lines.get(key, mapping.line) if key is not None else mapping.line
        where = f"{self.path}, line {line}" if line else str(self.path)
        return SpecError(f"{where}: {dotted}{' ' if dotted else ''}{message}")


def parse_size(text: Any) -> int:
    """``"500MB"`` -> 500_000_000, ``"64MiB"`` -> 67_108_864, ``1000`` -> 1000 bytes; ValueError otherwise."""
    if isinstance(text, bool):
        raise ValueError(text)
    if isinstance(text, int):
        return text
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError(text)
    number, unit = match.groups()
    return int(float(number) * _UNITS[(unit or "B").upper()])


def parse_count(text: Any) -> int:
    """``"2M"`` -> 2_000_000, ``"200k"`` -> 200_000, ``5000`` -> 5000; ValueError otherwise."""
    if isinstance(text, bool):
        raise ValueError(text)
    if isinstance(text, int):
        return text
    match = _COUNT.match(str(text))
    if not match:
        raise ValueError(text)
    number, unit = match.groups()
    return int(float(number) * {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9}[unit])


@dataclass(frozen=True)
class ShardPolicy:
    """When a shard is full (whichever limit comes first) and how big its row groups are.

    ``max_bytes`` and ``row_group_bytes`` bound the uncompressed UTF-8 text of the rows, which is what a
    reader holds in memory; the zstd-compressed files are several times smaller.
    """

    max_rows: int | None = None
    max_bytes: int | None = 500 * 10**6
    max_tokens: int | None = None
    row_group_rows: int = 1000
    # 16 MiB keeps peak memory flat from 2M to 200M-token releases (benchmarks/release_bench.py).
    row_group_bytes: int = 16 * 2**20


@dataclass(frozen=True)
class SplitPolicy:
    """How problems are assigned to splits; sft rows and traces follow their problem.

    - ``source_kind``: ``mapping`` from a source kind (``synthetic-cas``, ``synthetic-llm``, ``adapted``) to a
      split, as in the paper (synthetic -> train, human-adapted -> test).
    - ``fraction``: seeded ``fractions`` per split, exact within each stratum of the ``stratify`` fields.
    - ``group``: whole groups (the ``group`` field, e.g. ``source.family``) go to one split, chosen by a seeded
      shuffle until each split other than the first holds its fraction; no template is shared across splits.
    """

    by: str = "fraction"
    mapping: dict[str, str] = field(default_factory=dict)
    fractions: dict[str, float] = field(default_factory=lambda: {"train": 1.0})
    stratify: tuple[str, ...] = ()
    group: str | None = None
    seed: int = 0

    @property
    def splits(self) -> tuple[str, ...]:
        """The split names in the order the card lists them."""
        names = self.mapping.values() if self.by == "source_kind" else self.fractions
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class FilterSpec:
    """Keep a record only when ``field`` (a dotted path into its JSON form) passes ``op`` with ``value``."""

    field: str
    op: str
    value: Any
    line: int = 0

    @property
    def reason(self) -> str:
        """What the card says about the records this filter dropped."""
        return f"{self.field} {self.op} {self.value}"


@dataclass(frozen=True)
class SourceSpec:
    """Where a config's records come from: a file (``path``), a generator stage (``cas``), or another
    config of this release (``config``)."""

    kind: str
    path: Path | None = None
    config: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """The source as the manifest and card record it (paths relative to nothing, as written)."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.path is not None:
            out["path"] = str(self.path)
        if self.config is not None:
            out["config"] = self.config
        out.update(self.params)
        return out


@dataclass(frozen=True)
class ConfigSpec:
    """One named table of the release."""

    name: str
    type: str
    source: SourceSpec
    description: str = ""
    filters: tuple[FilterSpec, ...] = ()
    dedup: dict[str, Any] | None = None
    decontam: dict[str, Any] | None = None
    system_prompt: str | None = None
    answer_form: str = "answer"


@dataclass(frozen=True)
class ReleaseSpec:
    """A whole release: metadata for the card, the tokenizer that counts tokens, configs, splits, shards."""

    path: Path
    sha256: str
    name: str
    version: str
    repo_id: str
    license: str
    pretty_name: str
    description: str
    citation: str
    tokenizer: str
    configs: dict[str, ConfigSpec]
    split: SplitPolicy
    shards: ShardPolicy
    language: tuple[str, ...] = ("en",)
    task_categories: tuple[str, ...] = ("question-answering", "text-generation")
    tags: tuple[str, ...] = ()
    limitations: tuple[str, ...] = ()
    leakage_threshold: float = 0.8

    @property
    def problems_config(self) -> ConfigSpec:
        """The config whose problems decide the splits (the first of type ``problems``)."""
        for config in self.configs.values():
            if config.type == "problems":
                return config
        raise SpecError(f"{self.path}: a release needs a config of type problems")


_TOP_KEYS = {
    "name",
    "version",
    "repo_id",
    "license",
    "pretty_name",
    "description",
    "citation",
    "tokenizer",
    "configs",
    "split",
    "shards",
    "language",
    "task_categories",
    "tags",
    "limitations",
    "leakage",
}


def load_spec(path: str | os.PathLike) -> ReleaseSpec:
    """Read and validate a release spec; relative source paths resolve against the spec's folder."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the release spec ({exc.strerror})") from None
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=_SpecLoader)  # noqa: S506 (a SafeLoader subclass)
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path}: not valid UTF-8 ({exc.reason})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}" if mark else str(path)
        raise SpecError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    where = _Where(path)
    if not isinstance(data, _Mapping):
        raise SpecError(f"{path}: a release spec is a YAML mapping with name:, version:, configs: ...")
    _no_unknown_keys(where, data, _TOP_KEYS, "")
    name = _string(where, data, "name", "")
    if not CONFIG_NAME.match(name):
        raise where.error(data, "name", "name", f"{name!r} must be lowercase letters, digits, '-' or '_'")
    repo_id = _string(where, data, "repo_id", "")
    if not REPO_ID.match(repo_id):
        raise where.error(
            data, "repo_id", "repo_id", f"{repo_id!r} is not a Hub repo id; write e.g. org/name"
        )
    split = _split_policy(where, data.get("split"), data)
    configs = _configs(where, data, path.parent)
    leakage = data.get("leakage") or {}
    threshold = leakage.get("threshold", 0.8) if isinstance(leakage, dict) else None
    if not isinstance(threshold, int | float) or not 0 < threshold <= 1:
        raise where.error(leakage or data, "threshold", "leakage.threshold", "must be a number in (0, 1]")
    spec = ReleaseSpec(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        name=name,
        version=str(_required(where, data, "version", "")),
        repo_id=repo_id,
        license=_string(where, data, "license", ""),
        pretty_name=_string(where, data, "pretty_name", ""),
        description=_string(where, data, "description", "", default=""),
        citation=_string(where, data, "citation", "", default=""),
        tokenizer=_string(where, data, "tokenizer", ""),
        configs=configs,
        split=split,
        shards=_shard_policy(where, data.get("shards"), data),
        language=_strings(where, data, "language", ("en",)),
        task_categories=_strings(where, data, "task_categories", ("question-answering", "text-generation")),
        tags=_strings(where, data, "tags", ()),
        limitations=_strings(where, data, "limitations", ()),
        leakage_threshold=float(threshold),
    )
    from curation.records.tokens import TokenizerError, check_tokenizer_name

    try:
        check_tokenizer_name(spec.tokenizer)
    except TokenizerError as exc:
        raise where.error(data, "tokenizer", "tokenizer", str(exc)) from None
    spec.problems_config  # noqa: B018 (raises SpecError when there is none)
    return spec


def _no_unknown_keys(where: _Where, mapping: _Mapping, allowed: set[str], prefix: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise where.error(
                mapping, key, f"{prefix}{key}", f"is not a known key; use one of {', '.join(sorted(allowed))}"
            )


_MISSING = object()


def _required(where: _Where, mapping: _Mapping, key: str, prefix: str) -> Any:
    if key not in mapping or mapping[key] is None:
        raise where.error(mapping, None, f"{prefix}{key}", "is required")
    return mapping[key]


def _string(where: _Where, mapping: _Mapping, key: str, prefix: str, default: Any = _MISSING) -> str:
    if default is not _MISSING and mapping.get(key) is None:
        return default
    value = _required(where, mapping, key, prefix)
    if not isinstance(value, str) or not value.strip():
        raise where.error(mapping, key, f"{prefix}{key}", "must be a non-empty string")
    return value


def _strings(where: _Where, mapping: _Mapping, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = mapping.get(key)
    if value is None:
        return default
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise where.error(mapping, key, key, "must be a list of strings")
    return tuple(value)


def _int(where: _Where, mapping: _Mapping, key: str, prefix: str, parse=parse_count) -> int | None:
    value = mapping.get(key)
    if value is None:
        return None
    try:
        number = parse(value)
    except (ValueError, TypeError):
        kind = "a size; write e.g. 500MB" if parse is parse_size else "a count; write e.g. 5000 or 2M"
        raise where.error(mapping, key, f"{prefix}{key}", f"{value!r} is not {kind}") from None
    if number < 1:
        raise where.error(mapping, key, f"{prefix}{key}", f"must be at least 1, got {value!r}")
    return number


def _shard_policy(where: _Where, data: Any, parent: _Mapping) -> ShardPolicy:
    if data is None:
        return ShardPolicy()
    if not isinstance(data, _Mapping):
        raise where.error(parent, "shards", "shards", "must be a mapping, e.g. {max_bytes: 500MB}")
    keys = {"max_rows", "max_bytes", "max_tokens", "row_group_rows", "row_group_bytes"}
    _no_unknown_keys(where, data, keys, "shards.")
    default = ShardPolicy()
    return ShardPolicy(
        max_rows=_int(where, data, "max_rows", "shards."),
        max_bytes=_int(where, data, "max_bytes", "shards.", parse_size)
        if "max_bytes" in data
        else default.max_bytes,
        max_tokens=_int(where, data, "max_tokens", "shards."),
        row_group_rows=_int(where, data, "row_group_rows", "shards.") or default.row_group_rows,
        row_group_bytes=_int(where, data, "row_group_bytes", "shards.", parse_size)
        or default.row_group_bytes,
    )


def _split_policy(where: _Where, data: Any, parent: _Mapping) -> SplitPolicy:
    if data is None:
        return SplitPolicy()
    if not isinstance(data, _Mapping):
        raise where.error(
            parent, "split", "split", "must be a mapping with by: source_kind | fraction | group"
        )
    _no_unknown_keys(where, data, {"by", "mapping", "fractions", "stratify", "group", "seed"}, "split.")
    by = data.get("by")
    if by not in SPLIT_POLICIES:
        raise where.error(data, "by", "split.by", f"{by!r} is not one of {', '.join(SPLIT_POLICIES)}")
    seed = data.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise where.error(data, "seed", "split.seed", "must be an integer")
    if by == "source_kind":
        mapping = data.get("mapping")
        if not isinstance(mapping, dict) or not mapping:
            raise where.error(
                data, "mapping", "split.mapping", "is required, e.g. {synthetic-cas: train, adapted: test}"
            )
        from curation.records.problem import SOURCE_KINDS

        for kind, split in mapping.items():
            if kind not in SOURCE_KINDS:
                raise where.error(
                    mapping,
                    kind,
                    f"split.mapping.{kind}",
                    f"is not a source kind ({', '.join(SOURCE_KINDS)})",
                )
            _check_split_name(where, mapping, kind, split)
        return SplitPolicy(by=by, mapping=dict(mapping), seed=seed)
    fractions = data.get("fractions")
    if not isinstance(fractions, dict) or not fractions:
        raise where.error(data, "fractions", "split.fractions", "is required, e.g. {train: 0.9, test: 0.1}")
    for split, fraction in fractions.items():
        _check_split_name(where, fractions, split, split)
        if not isinstance(fraction, int | float) or isinstance(fraction, bool) or not 0 < fraction <= 1:
            raise where.error(fractions, split, f"split.fractions.{split}", "must be a number in (0, 1]")
    if abs(sum(fractions.values()) - 1.0) > 1e-9:
        total = sum(fractions.values())
        raise where.error(data, "fractions", "split.fractions", f"must sum to 1, got {total:g}")
    stratify = data.get("stratify") or []
    if isinstance(stratify, str):
        stratify = [stratify]
    if not isinstance(stratify, list) or not all(isinstance(s, str) and s for s in stratify):
        raise where.error(
            data, "stratify", "split.stratify", "must be a list of field names, e.g. [topic, level]"
        )
    group = data.get("group")
    if by == "group" and (not isinstance(group, str) or not group):
        raise where.error(data, None, "split.group", "is required for by: group, e.g. source.family")
    if by == "fraction" and group is not None:
        raise where.error(data, "group", "split.group", "only applies to by: group")
    return SplitPolicy(
        by=by,
        fractions={k: float(v) for k, v in fractions.items()},
        stratify=tuple(stratify),
        group=group,
        seed=seed,
    )


def _check_split_name(where: _Where, mapping: _Mapping, key: str, split: Any) -> None:
    if not isinstance(split, str) or not SPLIT_NAME.match(split):
        raise where.error(
            mapping, key, f"split name {split!r}", "must start with a letter and hold letters, digits or '_'"
        )


def _configs(where: _Where, data: _Mapping, base: Path) -> dict[str, ConfigSpec]:
    configs_data = _required(where, data, "configs", "")
    if not isinstance(configs_data, _Mapping) or not configs_data:
        raise where.error(data, "configs", "configs", "must map config names to their definitions")
    configs: dict[str, ConfigSpec] = {}
    for name, entry in configs_data.items():
        prefix = f"configs.{name}."
        if not isinstance(name, str) or not CONFIG_NAME.match(name):
            raise where.error(
                configs_data, name, f"configs.{name}", "must be lowercase letters, digits, - or _"
            )
        if not isinstance(entry, _Mapping):
            raise where.error(
                configs_data, name, f"configs.{name}", "must be a mapping with type: and source:"
            )
        keys = {
            "type",
            "source",
            "description",
            "filters",
            "dedup",
            "decontam",
            "system_prompt",
            "answer_form",
        }
        _no_unknown_keys(where, entry, keys, prefix)
        type_ = entry.get("type")
        if type_ not in CONFIG_TYPES:
            raise where.error(
                entry, "type", f"{prefix}type", f"{type_!r} is not one of {', '.join(CONFIG_TYPES)}"
            )
        source = _source(where, entry, prefix, base, type_, configs)
        for stage in ("dedup", "decontam"):
            if entry.get(stage) and type_ != "problems":
                raise where.error(
                    entry,
                    stage,
                    f"{prefix}{stage}",
                    "applies to problems configs; curate the problems an sft or traces config is made from",
                )
        answer_form = entry.get("answer_form", "answer")
        if answer_form not in ("answer", "code"):
            raise where.error(entry, "answer_form", f"{prefix}answer_form", "must be answer or code")
        configs[name] = ConfigSpec(
            name=name,
            type=type_,
            source=source,
            description=_string(where, entry, "description", prefix, default=""),
            filters=_filters(where, entry, prefix),
            dedup=_stage_options(where, entry, "dedup", prefix, {"field", "threshold", "ngram", "num_perm"}),
            decontam=_stage_options(
                where, entry, "decontam", prefix, {"registry", "only", "field", "ngram", "minhash_threshold"}
            ),
            system_prompt=_string(where, entry, "system_prompt", prefix, default=None),
            answer_form=answer_form,
        )
    return configs


def _source(
    where: _Where, entry: _Mapping, prefix: str, base: Path, type_: str, earlier: dict[str, ConfigSpec]
) -> SourceSpec:
    source = _required(where, entry, "source", prefix)
    if not isinstance(source, _Mapping):
        raise where.error(
            entry, "source", f"{prefix}source", "must be a mapping: {path: ...}, {cas: ...}, {config: ...}"
        )
    if "sample" in source and "traces" not in source:
        raise where.error(
            source, "sample", f"{prefix}source.sample", "goes with traces: (the folder to sample into)"
        )
    kinds = [k for k in ("path", "cas", "config", "traces") if k in source]
    if len(kinds) != 1:
        raise where.error(
            entry,
            "source",
            f"{prefix}source",
            "needs exactly one of path:, cas: (problems), config: (sft) or traces: (a `vqft traces` folder)",
        )
    kind = kinds[0]
    if kind == "path":
        value = source["path"]
        if not isinstance(value, str) or not value:
            raise where.error(source, "path", f"{prefix}source.path", "must be a file path")
        path = Path(value)
        if not path.is_absolute():
            path = (base / path).resolve()
        if type_ == "sft":
            raise where.error(
                source, "path", f"{prefix}source", "an sft config is made from config: <problems config>"
            )
        return SourceSpec(kind="path", path=path)
    if kind == "traces":
        value = source["traces"]
        if type_ != "traces" or not isinstance(value, str) or not value:
            raise where.error(
                source,
                "traces",
                f"{prefix}source.traces",
                "is a `vqft traces` output folder, for a traces config",
            )
        folder = Path(value) if Path(value).is_absolute() else (base / value).resolve()
        params: dict[str, Any] = {"run": str(folder)}
        sample = source.get("sample")
        if sample is not None:
            # Sample the traces as a build stage: `vqft traces` over the release's curated problems, into `folder`.
            if not isinstance(sample, _Mapping) or not isinstance(sample.get("llm"), _Mapping):
                raise where.error(
                    source, "sample", f"{prefix}source.sample", "must be a mapping with an llm: block, e.g. "
                    "{llm: {model: M, base_url: URL}, samples: 8}",
                )  # fmt: skip
            allowed = {"llm", "samples", "target_tokens", "max_tokens_per_trace", "temperature", "top_p",
                       "keep", "per_problem_cap", "dedup_threshold", "system_prompt", "endpoints"}  # fmt: skip
            _no_unknown_keys(where, sample, allowed, f"{prefix}source.sample.")
            params["sample"] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in sample.items()}
        return SourceSpec(kind="traces", path=folder / "traces.jsonl", params=params)
    if kind == "cas":
        if type_ != "problems":
            raise where.error(
                source, "cas", f"{prefix}source.cas", "makes problems; use it in a problems config"
            )
        params = source["cas"] or {}
        if not isinstance(params, _Mapping):
            raise where.error(
                source, "cas", f"{prefix}source.cas", "must be a mapping, e.g. {n: 2500, seed: 0}"
            )
        _no_unknown_keys(where, params, {"families", "n", "seed", "level"}, f"{prefix}source.cas.")
        n = _int(where, params, "n", f"{prefix}source.cas.") or 100
        families = params.get("families", "all")
        if isinstance(families, list):
            families = ",".join(families)
        from generation.cas import CapacityError, _quotas, resolve_families

        try:
            chosen = resolve_families(families, params.get("level"))
            _quotas(chosen, n)
        except KeyError as exc:
            raise where.error(params, "families", f"{prefix}source.cas", exc.args[0]) from None
        except CapacityError as exc:
            raise where.error(params, "n", f"{prefix}source.cas.n", str(exc)) from None
        clean = {"families": families, "n": n, "seed": int(params.get("seed", 0))}
        if params.get("level") is not None:
            clean["level"] = params["level"]
        return SourceSpec(kind="cas", params=clean)
    target = source["config"]
    if target not in earlier:
        raise where.error(
            source, "config", f"{prefix}source.config", f"{target!r} is not a config defined above this one"
        )
    if type_ != "sft" or earlier[target].type != "problems":
        raise where.error(
            source, "config", f"{prefix}source.config", "only an sft config is made from a problems config"
        )
    return SourceSpec(kind="config", config=target)


def _filters(where: _Where, entry: _Mapping, prefix: str) -> tuple[FilterSpec, ...]:
    items = entry.get("filters") or []
    if not isinstance(items, list):
        raise where.error(
            entry, "filters", f"{prefix}filters", "must be a list, e.g. [{field: level, in: [graduate]}]"
        )
    filters = []
    for i, item in enumerate(items):
        at = f"{prefix}filters.{i}"
        if not isinstance(item, _Mapping) or "field" not in item:
            raise where.error(
                entry, "filters", at, "must be a mapping with field: and one of " + ", ".join(FILTER_OPS)
            )
        ops = [k for k in item if k != "field"]
        if len(ops) != 1 or ops[0] not in FILTER_OPS:
            raise where.error(item, None, at, f"needs exactly one test of {', '.join(FILTER_OPS)}, got {ops}")
        op = ops[0]
        value = item[op]
        if op in ("in", "not_in") and not isinstance(value, list):
            raise where.error(item, op, f"{at}.{op}", "must be a list of values")
        if op in ("min_length", "max_length", "min", "max") and (
            not isinstance(value, int | float) or isinstance(value, bool)
        ):
            raise where.error(item, op, f"{at}.{op}", "must be a number")
        filters.append(FilterSpec(field=str(item["field"]), op=op, value=value, line=item.line))
    return tuple(filters)


def _stage_options(where: _Where, entry: _Mapping, key: str, prefix: str, allowed: set[str]) -> dict | None:
    value = entry.get(key)
    if value is None or value is False:
        return None
    if value is True:
        return {}
    if not isinstance(value, _Mapping):
        raise where.error(entry, key, f"{prefix}{key}", "must be true or a mapping of options")
    _no_unknown_keys(where, value, allowed, f"{prefix}{key}.")
    return dict(value)
