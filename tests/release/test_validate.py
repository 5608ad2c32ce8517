"""`validate_release` and the card: a good build passes every check; each kind of damage fails its check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from huggingface_hub import DatasetCard

from release.build import build_release
from release.spec import load_spec
from release.validate import validate_release
from tests.release.specs import write_spec


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("validate")
    build_release(load_spec(write_spec(folder / "spec")), folder / "release")
    return folder / "release"


@pytest.fixture
def copy(built, tmp_path) -> Path:
    """A private copy of the release to damage."""
    target = tmp_path / "copy"
    shutil.copytree(built, target)
    return target


def _failures(folder: Path, **options) -> dict[str, str]:
    report = validate_release(folder, **options)
    return {check.name: check.message for check in report.checks if not check.ok}


def test_a_fresh_build_passes_every_check(built):
    report = validate_release(built)
    assert [(c.name, c.ok) for c in report.checks] == [
        ("manifest", True),
        ("checksums", True),
        ("load", True),
        ("counts", True),
        ("leakage", True),
        ("card", True),
    ]


def test_a_changed_shard_fails_the_checksum(copy):
    shard = copy / "data/sft/test-00000-of-00001.parquet"
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF
    shard.write_bytes(bytes(data))
    assert _failures(copy, load=False)["checksums"] == (
        "data/sft/test-00000-of-00001.parquet: SHA-256 differs from the manifest's (the file changed after the build)"
    )


def test_a_stray_shard_is_reported(copy):
    shutil.copy(copy / "data/sft/test-00000-of-00001.parquet", copy / "data/sft/test-extra.parquet")
    assert "data/sft/test-extra.parquet: not in the manifest" in _failures(copy, load=False)["checksums"]


def test_a_missing_shard_fails_checksums_and_load(copy):
    (copy / "data/problems/train-00001-of-00003.parquet").unlink()
    failures = _failures(copy)
    assert failures["checksums"] == "data/problems/train-00001-of-00003.parquet: missing"
    assert "load_dataset(" in failures["load"]


def test_a_hand_edited_card_is_reported_with_its_first_differing_line(copy):
    card = copy / "README.md"
    card.write_text(card.read_text().replace("| problems | train | 30 |", "| problems | train | 31 |"))
    message = _failures(copy, load=False)["card"]
    assert message.startswith("README.md differs from the card the manifest renders, first at line")
    assert "| problems | train | 31 |" in message


def test_manifest_counts_that_disagree_with_the_data_are_reported(copy):
    manifest = json.loads((copy / "manifest.json").read_text())
    level = manifest["configs"]["sft"]["splits"]["test"]["counts"]["level"]
    key = next(iter(level))
    level[key] += 1
    (copy / "manifest.json").write_text(json.dumps(manifest))
    message = _failures(copy, load=False)["counts"]
    assert message.startswith(
        f"sft/test: counts by level are {{'{key}': 10}} in the data but {{'{key}': 11}}"
    )


def test_templated_problems_split_at_random_are_caught_as_leakage(tmp_path):
    split = "  by: fraction\n  fractions: {train: 0.8, test: 0.2}\n  seed: 0"
    build_release(load_spec(write_spec(tmp_path, split=split)), tmp_path / "out")
    message = _failures(tmp_path / "out", load=False)["leakage"]
    assert message.startswith("near-duplicate statements across splits (Jaccard")
    assert "cross-split near-duplicate pairs in all" in message


def test_the_card_front_matter_is_a_hub_dataset_card(built):
    card = DatasetCard((built / "README.md").read_text())
    data = card.data.to_dict()
    assert data["license"] == "apache-2.0"
    assert data["configs"][0] == {
        "config_name": "problems",
        "data_files": [
            {"split": "train", "path": "data/problems/train-*.parquet"},
            {"split": "test", "path": "data/problems/test-*.parquet"},
        ],
        "default": True,
    }
    splits = {s["name"]: s["num_examples"] for s in data["dataset_info"][1]["splits"]}
    assert splits == {"train": 30, "test": 10}
    assert data["size_categories"] == ["n<1K"]


def test_the_card_shows_how_to_load_each_config(built):
    text = (built / "README.md").read_text()
    assert 'problems = load_dataset("test-org/qft-small", "problems")' in text
    assert 'sft = load_dataset("test-org/qft-small", "sft")' in text


def test_the_card_reports_token_statistics_from_the_manifest(built):
    manifest = json.loads((built / "manifest.json").read_text())
    tokens = manifest["configs"]["problems"]["splits"]["test"]["tokens"]
    row = (
        f"| problems | test | 10 | {tokens['total']:,} | {tokens['mean']} | {tokens['min']} | {tokens['p50']} | "
        f"{tokens['p90']} | {tokens['p99']} | {tokens['max']} |"
    )
    assert row in (built / "README.md").read_text()
    assert sum(tokens["histogram"]) == 10
