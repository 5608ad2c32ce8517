"""`build_release`: layout, determinism, resume after a crash, splits, sft rows that verify, traces that follow
their problem, shard limits and curation counts."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from datasets import load_dataset

from curation.records.io import read_jsonl, write_jsonl
from curation.records.problem import Problem
from curation.records.result import Result
from curation.records.tokens import PretokenCounter
from curation.records.trace import ChatMessage, Trace
from curation.verify import verify_many
from release import shards as shards_module
from release.build import BuildError, build_release
from release.spec import load_spec
from release.tables import SFT_FEATURES
from tests.release.specs import write_spec


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """The small release, built once for the read-only tests of this module."""
    folder = tmp_path_factory.mktemp("small")
    build_release(load_spec(write_spec(folder / "spec")), folder / "release")
    return folder / "release"


def _shard_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted((folder / "data").rglob("*.parquet"))
    }


def test_the_folder_is_laid_out_like_a_hub_dataset_repo(small):
    names = sorted(_shard_files(small))
    # 40 problems, 4 families of 10, 1 family held out (25%), max 12 rows a shard: 30 train rows -> 3 shards
    assert names == [
        "data/problems/test-00000-of-00001.parquet",
        "data/problems/train-00000-of-00003.parquet",
        "data/problems/train-00001-of-00003.parquet",
        "data/problems/train-00002-of-00003.parquet",
        "data/sft/test-00000-of-00001.parquet",
        "data/sft/train-00000-of-00003.parquet",
        "data/sft/train-00001-of-00003.parquet",
        "data/sft/train-00002-of-00003.parquet",
    ]
    assert (small / "README.md").is_file() and (small / "manifest.json").is_file()
    assert sorted(p.name for p in (small / "images").iterdir()) == [
        "answer_kinds.png",
        "problems_per_topic_level.png",
        "token_lengths.png",
    ]


def test_shards_are_zstd_with_bounded_row_groups(small):
    metadata = pq.ParquetFile(small / "data/problems/train-00000-of-00003.parquet").metadata
    assert metadata.num_rows == 12
    assert metadata.row_group(0).column(0).compression == "ZSTD"


def test_manifest_records_every_shard_with_its_checksum_and_tokens(small):
    manifest = json.loads((small / "manifest.json").read_text())
    shard = next(s for s in manifest["shards"] if s["path"] == "data/problems/test-00000-of-00001.parquet")
    assert shard["rows"] == 10
    assert shard["tokens"] == manifest["configs"]["problems"]["splits"]["test"]["tokens"]["total"] > 0
    assert len(shard["sha256"]) == 64
    assert manifest["provenance"]["spec_sha256"] == load_spec(small.parent / "spec" / "small.yaml").sha256
    assert {"datasets", "pyarrow", "verifiable-qft"} <= set(manifest["provenance"]["tools"])


def test_a_problem_and_its_sft_row_are_in_the_same_split(small):
    for split in ("train", "test"):
        problems = load_dataset(str(small), "problems", split=split)
        sft = load_dataset(str(small), "sft", split=split)
        assert sorted(problems["id"]) == sorted(sft["problem_id"])


def test_group_split_holds_out_whole_families(small):
    problems = load_dataset(str(small), "problems")
    families = {
        split: {json.loads(row["source"]["provenance_json"])["family"] for row in problems[split]}
        for split in ("train", "test")
    }
    assert len(families["test"]) == 1 and len(families["train"]) == 3
    assert not families["train"] & families["test"]


def test_sft_rows_are_chats_whose_answer_the_verifier_accepts(small):
    sft = load_dataset(str(small), "sft", split="train")
    assert sft.features == SFT_FEATURES
    problems = {p.id: p for p in read_jsonl(small / ".build/problems/curated.jsonl", Problem)}
    pairs = [(problems[row["problem_id"]], row["messages"][-1]["content"]) for row in sft]
    assert [m["role"] for m in sft[0]["messages"]] == ["user", "assistant"]
    assert Counter(r.status for r in verify_many(pairs, workers=1)) == {"correct": len(pairs)}


def test_the_same_spec_builds_byte_identical_shards(small, tmp_path):
    build_release(load_spec(small.parent / "spec" / "small.yaml"), tmp_path / "again")
    assert _shard_files(tmp_path / "again") == _shard_files(small)


def test_a_build_killed_midway_resumes_without_rewriting_finished_shards(small, tmp_path, monkeypatch):
    spec = load_spec(small.parent / "spec" / "small.yaml")
    finish = shards_module.ShardedTableWriter._finish_part
    calls = {"n": 0}

    def crash_on_third_part(self):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed")
        finish(self)

    monkeypatch.setattr(shards_module.ShardedTableWriter, "_finish_part", crash_on_third_part)
    with pytest.raises(KeyboardInterrupt):
        build_release(spec, tmp_path / "resumed")
    monkeypatch.setattr(shards_module.ShardedTableWriter, "_finish_part", finish)
    assert not list((tmp_path / "resumed").rglob("*.tmp"))
    result = build_release(spec, tmp_path / "resumed")
    assert (result.parts_reused, result.parts_written) == (2, 6)
    assert _shard_files(tmp_path / "resumed") == _shard_files(small)


def test_a_finished_build_rerun_writes_nothing(small, tmp_path):
    spec = load_spec(small.parent / "spec" / "small.yaml")
    build_release(spec, tmp_path / "twice")
    again = build_release(spec, tmp_path / "twice")
    assert (again.parts_written, again.parts_reused) == (0, 8)


def test_a_folder_built_from_another_spec_is_refused(small, tmp_path):
    other = load_spec(write_spec(tmp_path / "other", n=44))
    with pytest.raises(BuildError, match="holds a build of another spec .* pass --overwrite"):
        build_release(other, small)


def test_source_kind_split_sends_each_kind_to_its_split(tmp_path):
    spec = load_spec(write_spec(tmp_path, split="  by: source_kind\n  mapping: {synthetic-cas: train}"))
    manifest = build_release(spec, tmp_path / "out").manifest
    assert list(manifest["configs"]["problems"]["splits"]) == ["train"]
    assert manifest["configs"]["problems"]["splits"]["train"]["rows"] == 40


def test_fraction_split_is_exact_within_each_stratum(tmp_path):
    split = "  by: fraction\n  fractions: {train: 0.8, test: 0.2}\n  stratify: [topic]\n  seed: 3"
    manifest = build_release(load_spec(write_spec(tmp_path, split=split)), tmp_path / "out").manifest
    test_topics = manifest["configs"]["problems"]["splits"]["test"]["counts"]["topic"]
    # 4 topics of 10 problems: exactly 2 of each in test
    assert sorted(test_topics.values()) == [2, 2, 2, 2]


def test_max_tokens_caps_every_shard(tmp_path):
    spec = load_spec(write_spec(tmp_path, shards="  max_tokens: 3000"))
    manifest = build_release(spec, tmp_path / "out").manifest
    problem_shards = [s for s in manifest["shards"] if s["config"] == "problems"]
    assert len(problem_shards) > 2
    assert all(s["tokens"] <= 3000 or s["rows"] == 1 for s in problem_shards)


def test_filters_and_dedup_count_what_they_drop_and_keep_it_aside(tmp_path):
    extra = (
        "    filters:\n      - {field: topic, not_in: [dirac-algebra/traces]}\n    dedup: {threshold: 0.95}\n"
    )
    spec = load_spec(
        write_spec(
            tmp_path, problem_extra=extra, split="  by: source_kind\n  mapping: {synthetic-cas: train}"
        )
    )
    manifest = build_release(spec, tmp_path / "out").manifest
    curation = manifest["configs"]["problems"]["curation"]
    assert curation["filters"] == [
        {"filter": "topic not_in ['dirac-algebra/traces']", "line": 18, "dropped": 10}
    ]
    removed = curation["dedup"]["counts"]["removed_near"] + curation["dedup"]["counts"]["removed_exact"]
    assert curation["output"] == 30 - removed
    dropped = [
        json.loads(line) for line in (tmp_path / "out/.build/problems/dropped.jsonl").read_text().splitlines()
    ]
    assert Counter(d["stage"] for d in dropped) == {"filter": 10, **({"dedup": removed} if removed else {})}
    assert (
        "filter `topic not_in ['dirac-algebra/traces']` dropped 10"
        in (tmp_path / "out/README.md").read_text()
    )


def test_decontam_drops_every_problem_sharing_a_benchmark_problems_template(tmp_path):
    problems = list(small_problems())
    (tmp_path / "spec").mkdir()
    benchmark = tmp_path / "spec" / "bench.jsonl"
    benchmark.write_text(json.dumps({"problem": problems[0].statement}) + "\n")
    (tmp_path / "spec" / "registry.yaml").write_text(
        "benchmarks:\n  - name: held-out\n    path: bench.jsonl\n    columns: [problem]\n"
    )
    extra = "    decontam: {registry: registry.yaml}\n"
    spec = load_spec(write_spec(tmp_path / "spec", problem_extra=extra))
    manifest = build_release(spec, tmp_path / "out").manifest
    decontam = manifest["configs"]["problems"]["curation"]["decontam"]
    # The benchmark holds one two_body_decay problem; its 9 siblings differ only in numbers, which the
    # number-masked n-grams catch too.
    assert decontam["dropped"] == 10 and decontam["by_benchmark"] == {"held-out": 10}
    dropped = [
        json.loads(line) for line in (tmp_path / "out/.build/problems/dropped.jsonl").read_text().splitlines()
    ]
    assert {d["record"]["source"]["family"] for d in dropped} == {"two_body_decay"}
    assert (
        "decontamination against held-out dropped 10 (held-out 10)"
        in (tmp_path / "out/README.md").read_text()
    )


def small_problems():
    from generation.cas import generate

    return generate(["two_body_decay", "colour_factor", "mass_dimension", "dirac_trace"], n=40, seed=0)


def _trace(problem_id: str, final: str, tokenizer: str = "pretokens:gpt2", num_tokens: int = 7) -> Trace:
    return Trace(
        problem_id=problem_id,
        messages=(ChatMessage("user", "Q"), ChatMessage("assistant", f"<think>r</think>{final}")),
        reasoning="r",
        final=final,
        model="teacher",
        sampling={"temperature": 0.6},
        verification=Result(problem_id, "correct", {}),
        num_tokens=num_tokens,
        tokenizer=tokenizer,
        finish_reason="stop",
    )


def test_traces_follow_their_problem_split_and_orphans_are_dropped(tmp_path):
    problems = list(small_problems())
    traces = [_trace(p.id, f"\\boxed{{{i}}}") for i, p in enumerate(problems[:20])]
    traces.append(_trace("qft-0000000000000000", "\\boxed{1}"))
    traces.append(_trace(problems[0].id, "\\boxed{x}", tokenizer="other", num_tokens=999))
    (tmp_path / "spec").mkdir()
    write_jsonl(tmp_path / "spec" / "traces.jsonl", traces)
    extra = (
        "  traces:\n    type: traces\n    description: Teacher traces.\n    source: {path: traces.jsonl}\n"
    )
    manifest = build_release(
        load_spec(write_spec(tmp_path / "spec", extra_configs=extra)), tmp_path / "out"
    ).manifest
    config = manifest["configs"]["traces"]
    assert config["curation"]["output"] == 21
    assert sum(s["rows"] for s in config["splits"].values()) == 21
    split_of = {}
    for split in manifest["configs"]["problems"]["splits"]:
        split_of.update(
            dict.fromkeys(load_dataset(str(tmp_path / "out"), "problems", split=split)["id"], split)
        )
    recounted = []
    for split in config["splits"]:
        rows = load_dataset(str(tmp_path / "out"), "traces", split=split)
        assert {split_of[pid] for pid in rows["problem_id"]} == {split}
        recounted += [r["num_tokens"] for r in rows if r["final"] == "\\boxed{x}"]
    # counted by another tokenizer: recounted on the message contents with the release's
    assert recounted == PretokenCounter().count(["Q\n\n<think>r</think>\\boxed{x}"])
    dropped = (tmp_path / "out/.build/traces/dropped.jsonl").read_text()
    assert "problem qft-0000000000000000 is not in this release" in dropped
