"""`vqft release build|validate` from the command line, the shipped demo spec, and counting with a real tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import load_dataset

from curation.records.tokens import RustTokenizerCounter, TokenizerError, token_counter
from release.build import build_release
from release.cli import main
from release.spec import load_spec
from tests.release.specs import write_spec

DEMO = Path(__file__).resolve().parents[2] / "release" / "specs" / "demo.yaml"


def test_the_demo_release_builds_validates_and_loads(tmp_path, capsys):
    assert main(["release", "build", str(DEMO), "-o", str(tmp_path / "demo"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"problems = load_dataset('{tmp_path / 'demo'}', 'problems')" in out
    assert "FAIL" not in out
    problems = load_dataset(str(tmp_path / "demo"), "problems")
    sft = load_dataset(str(tmp_path / "demo"), "sft")
    assert problems["train"].num_rows + problems["test"].num_rows >= 2500
    assert sft["train"].num_rows == problems["train"].num_rows
    assert [m["role"] for m in sft["train"][0]["messages"]] == ["user", "assistant"]


def test_build_prints_a_table_and_reuses_shards_on_a_second_run(tmp_path, capsys):
    spec = write_spec(tmp_path / "spec")
    assert main(["release", "build", str(spec), "-o", str(tmp_path / "out"), "--quiet", "--no-validate"]) == 0
    first = capsys.readouterr().out
    assert "problems     train          30" in first
    assert "(8 shard(s) written, 0 reused)" in first
    assert main(["release", "build", str(spec), "-o", str(tmp_path / "out"), "--quiet", "--no-validate"]) == 0
    assert "(0 shard(s) written, 8 reused)" in capsys.readouterr().out


def test_a_bad_spec_exits_2_with_the_line(tmp_path, capsys):
    spec = write_spec(tmp_path / "spec", shards="  max_bytes: lots")
    assert main(["release", "build", str(spec), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "line 27: shards.max_bytes 'lots' is not a size; write e.g. 500MB" in err
    assert not (tmp_path / "out").exists()


def test_validate_exits_1_and_names_the_failed_check(tmp_path, capsys):
    build_release(load_spec(write_spec(tmp_path / "spec")), tmp_path / "out")
    (tmp_path / "out" / "data/sft/test-00000-of-00001.parquet").unlink()
    assert main(["release", "validate", str(tmp_path / "out"), "--no-load"]) == 1
    out = capsys.readouterr().out
    assert "FAIL checksums  data/sft/test-00000-of-00001.parquet: missing" in out


def test_validate_of_a_folder_without_manifest_says_how_to_build(tmp_path, capsys):
    assert main(["release", "validate", str(tmp_path)]) == 2
    assert "has no manifest.json; build it with `vqft release build SPEC" in capsys.readouterr().err


def _train_tokenizer(path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=512, special_tokens=["[UNK]"])
    corpus = ["A spinless particle of mass M decays at rest into two particles of masses m1 and m2."] * 50
    tokenizer.train_from_iterator(corpus, trainer)
    tokenizer.save(str(path))


def test_a_tokenizer_file_counts_the_tokens_of_the_release(tmp_path):
    (tmp_path / "spec").mkdir()
    _train_tokenizer(tmp_path / "spec" / "tok.json")
    spec = load_spec(write_spec(tmp_path / "spec", tokenizer="file:tok.json"))
    manifest = build_release(spec, tmp_path / "out").manifest
    sft = load_dataset(str(tmp_path / "out"), "sft", split="test")
    counter = token_counter("file:tok.json", base=tmp_path / "spec")
    assert isinstance(counter, RustTokenizerCounter)
    expected = counter.count(["\n\n".join(m["content"] for m in row["messages"]) for row in sft])
    assert sft["num_tokens"] == expected
    assert manifest["configs"]["sft"]["splits"]["test"]["tokens"]["total"] == sum(expected)
    assert json.loads((tmp_path / "out/manifest.json").read_text())["tokenizer"] == "file:tok.json"


def test_a_missing_tokenizer_file_is_a_clear_error(tmp_path):
    with pytest.raises(TokenizerError, match="no such tokenizer file"):
        token_counter("file:nowhere.json", base=tmp_path)


def test_a_bad_record_in_a_source_file_exits_2_naming_file_line_and_field(tmp_path, capsys):
    from curation.records.io import write_jsonl
    from generation.cas import generate

    spec_dir = tmp_path / "spec"
    spec_dir.mkdir()
    write_jsonl(spec_dir / "problems.jsonl", generate(["two_body_decay"], n=3, seed=0))
    lines = (spec_dir / "problems.jsonl").read_text().splitlines()
    broken = json.loads(lines[1])
    del broken["answer"]["expr"]
    lines[1] = json.dumps(broken)
    (spec_dir / "problems.jsonl").write_text("\n".join(lines) + "\n")
    spec = write_spec(spec_dir, split="  by: source_kind\n  mapping: {synthetic-cas: train}")
    cas = "cas: {families: [two_body_decay, colour_factor, mass_dimension, dirac_trace], n: 40, seed: 0}"
    spec.write_text(spec.read_text().replace(cas, "path: problems.jsonl"))
    assert main(["release", "build", str(spec), "-o", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "problems.jsonl, line 2, field answer.expr: is required" in err
    assert not (tmp_path / "out" / "data").exists()  # nothing half-built under the release's names
