"""Release specs: the shipped demo loads, and every mistake is reported with its file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.spec import ShardPolicy, SpecError, load_spec, parse_count, parse_size
from tests.release.specs import write_spec

DEMO = Path(__file__).resolve().parents[2] / "release" / "specs" / "demo.yaml"


def test_demo_spec_loads_with_problems_and_sft_configs():
    spec = load_spec(DEMO)
    assert list(spec.configs) == ["problems", "sft"]
    assert spec.configs["problems"].source.kind == "cas"
    assert spec.configs["problems"].source.params["n"] >= 2500
    assert spec.configs["sft"].source.config == "problems"
    assert spec.split.splits == ("train", "test")


def test_sizes_and_counts_parse_with_units():
    assert parse_size("500MB") == 500_000_000
    assert parse_size("64MiB") == 64 * 2**20
    assert parse_size(1000) == 1000
    assert parse_count("2M") == 2_000_000
    assert parse_count("200k") == 200_000


def test_default_shard_policy_bounds_bytes():
    assert ShardPolicy().max_bytes == 500 * 10**6


def _error(tmp_path: Path, **options) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(tmp_path, **options))
    return str(info.value)


def test_a_bad_size_names_the_line_and_the_fix(tmp_path):
    message = _error(tmp_path, shards="  max_rows: 12\n  max_bytes: 10XB")
    assert (
        message
        == f"{tmp_path / 'small.yaml'}, line 28: shards.max_bytes '10XB' is not a size; write e.g. 500MB"
    )


def test_an_unknown_key_is_named_with_the_allowed_ones(tmp_path):
    message = _error(tmp_path, shards="  max_rowz: 12")
    assert "line 27: shards.max_rowz is not a known key; use one of max_bytes, max_rows" in message


def test_fractions_must_sum_to_one(tmp_path):
    message = _error(tmp_path, split="  by: fraction\n  fractions: {train: 0.8, test: 0.1}")
    assert "line 23: split.fractions must sum to 1, got 0.9" in message


def test_group_split_needs_a_group(tmp_path):
    message = _error(tmp_path, split="  by: group\n  fractions: {train: 0.8, test: 0.2}")
    assert "split.group is required for by: group" in message


def test_an_unknown_family_is_reported_at_its_line(tmp_path):
    spec = write_spec(tmp_path)
    spec.write_text(spec.read_text().replace("colour_factor", "colour_factr"))
    with pytest.raises(
        SpecError, match=r"line 16: configs\.problems\.source\.cas unknown family 'colour_factr'"
    ):
        load_spec(spec)


def test_asking_more_problems_than_the_families_hold_fails_before_building(tmp_path):
    message = _error(tmp_path, n=100000)
    assert "configs.problems.source.cas.n asked for 100000 problems" in message


def test_an_unknown_tokenizer_name_says_how_to_write_one(tmp_path):
    message = _error(tmp_path, tokenizer="Qwen/Qwen2.5-7B")
    assert "line 8: tokenizer 'Qwen/Qwen2.5-7B' is not a tokenizer name; write hf:" in message


def test_sft_must_come_from_a_problems_config_defined_above(tmp_path):
    spec = write_spec(tmp_path)
    spec.write_text(spec.read_text().replace("source: {config: problems}", "source: {config: problemz}"))
    with pytest.raises(
        SpecError, match="line 20: configs.sft.source.config 'problemz' is not a config defined above"
    ):
        load_spec(spec)


def test_dedup_is_refused_on_an_sft_config(tmp_path):
    spec = write_spec(tmp_path)
    spec.write_text(
        spec.read_text().replace("    description: Chats.\n", "    description: Chats.\n    dedup: true\n")
    )
    with pytest.raises(SpecError, match="configs.sft.dedup applies to problems configs"):
        load_spec(spec)


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nconfigs: [\n")
    with pytest.raises(SpecError, match=r"broken.yaml, line \d+: not valid YAML"):
        load_spec(path)


def test_a_relative_source_path_resolves_against_the_spec_folder(tmp_path):
    extra = "  traces:\n    type: traces\n    source: {path: traces.jsonl}\n"
    spec = load_spec(write_spec(tmp_path, extra_configs=extra))
    assert spec.configs["traces"].source.path == (tmp_path / "traces.jsonl").resolve()
