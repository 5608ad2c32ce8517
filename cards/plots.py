"""The dataset card's plots (PNG, matplotlib), drawn from a release manifest.

- ``problems_per_topic_level.png``: problems per topic, stacked by level (all splits of the problems config);
- ``token_lengths.png``: per-row token-length histogram of every config (log-spaced bins);
- ``answer_kinds.png``: problems per answer kind and split.

PNG metadata is stripped, so equal manifests draw equal files with the same matplotlib.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from curation.records.tokens import TOKEN_BIN_EDGES

LEVEL_ORDER = ("advanced undergraduate", "graduate", "advanced graduate", "post-graduate")


def _problems_config(manifest: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in manifest["configs"].values() if c["type"] == "problems"), None)


def _has_problems(manifest: dict[str, Any]) -> bool:
    config = _problems_config(manifest)
    return config is not None and any(s["rows"] for s in config["splits"].values())


PLOTS: dict[str, tuple[str, Callable[[dict[str, Any]], bool]]] = {
    "topic_level": ("problems_per_topic_level.png", _has_problems),
    "token_lengths": ("token_lengths.png", lambda m: any(c["splits"] for c in m["configs"].values())),
    "answer_kinds": ("answer_kinds.png", _has_problems),
}


def _figure(width: float, height: float):
    """A figure on the Agg canvas with one axis. pyplot is not used: it costs a GUI-backend search and ~0.2 s of
    import, and a build machine has no display."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure, figure.subplots()


def _save(figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    figure.savefig(tmp, dpi=110, bbox_inches="tight", metadata={"Software": None})
    tmp.replace(path)


def _topic_level(manifest: dict[str, Any], path: Path) -> None:
    config = _problems_config(manifest)
    assert config is not None
    # Rows per (topic, level) are not in the manifest's one-dimensional counts, so they are read per split from
    # the families' topic/level pairs when there are families, else plotted by topic with level totals.
    topics: Counter[str] = Counter()
    levels: Counter[str] = Counter()
    for split in config["splits"].values():
        topics.update(split["counts"].get("topic", {}))
        levels.update(split["counts"].get("level", {}))
    by_pair: Counter[tuple[str, str]] = Counter()
    for split in config["splits"].values():
        by_pair.update({tuple(k.split("\t")): v for k, v in split["counts"].get("topic_level", {}).items()})
    ordered_levels = [lv for lv in LEVEL_ORDER if lv in levels] + sorted(set(levels) - set(LEVEL_ORDER))
    ordered_topics = [t for t, _ in sorted(topics.items(), key=lambda item: (item[1], item[0]))]
    figure, axis = _figure(8, 0.3 * len(ordered_topics) + 1.5)
    left = [0] * len(ordered_topics)
    for level in ordered_levels:
        widths = [by_pair.get((topic, level), 0) for topic in ordered_topics]
        axis.barh(ordered_topics, widths, left=left, label=level)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    axis.set_xlabel("problems")
    axis.set_title("Problems per topic and level")
    axis.legend(fontsize=8, loc="lower right")
    axis.tick_params(axis="y", labelsize=7)
    _save(figure, path)


def _token_lengths(manifest: dict[str, Any], path: Path) -> None:
    labels = [f"<={edge}" for edge in TOKEN_BIN_EDGES[1:-1]] + [f">{TOKEN_BIN_EDGES[-2]}"]
    figure, axis = _figure(9, 4)
    series = []
    for name, config in manifest["configs"].items():
        histogram = [0] * len(TOKEN_BIN_EDGES)
        for split in config["splits"].values():
            histogram = [a + b for a, b in zip(histogram, split["tokens"]["histogram"], strict=True)]
        # Bin 0 (zero tokens) is merged into the first bar.
        series.append((name, [histogram[0] + histogram[1], *histogram[2:]]))
    width = 0.8 / max(len(series), 1)
    for position, (name, values) in enumerate(series):
        xs = [i + position * width for i in range(len(labels))]
        axis.bar(xs, values, width=width, label=name)
    axis.set_xticks([i + 0.4 - width / 2 for i in range(len(labels))], labels, rotation=45, fontsize=7)
    axis.set_xlabel(f"tokens per row ({manifest['tokenizer']})")
    axis.set_ylabel("rows")
    axis.set_title("Token lengths")
    axis.legend(fontsize=8)
    _save(figure, path)


def _answer_kinds(manifest: dict[str, Any], path: Path) -> None:
    config = _problems_config(manifest)
    assert config is not None
    kinds = sorted({k for s in config["splits"].values() for k in s["counts"].get("answer kind", {})})
    figure, axis = _figure(6, 3.5)
    bottom = [0] * len(kinds)
    for split_name, split in config["splits"].items():
        values = [split["counts"].get("answer kind", {}).get(kind, 0) for kind in kinds]
        axis.bar(kinds, values, bottom=bottom, label=split_name)
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    axis.set_ylabel("problems")
    axis.set_title("Answer kinds")
    axis.legend(fontsize=8)
    _save(figure, path)


_DRAW = {"topic_level": _topic_level, "token_lengths": _token_lengths, "answer_kinds": _answer_kinds}


def draw_plots(manifest: dict[str, Any], images_dir: Path) -> list[Path]:
    """Draw every plot the manifest has data for into ``images_dir``; returns their paths."""
    paths = []
    for name, (filename, wanted) in PLOTS.items():
        if wanted(manifest):
            _DRAW[name](manifest, images_dir / filename)
            paths.append(images_dir / filename)
    return paths
