"""Dedup: normalization, exact and near duplicates, the threshold, the keep policy, the CLI's errors."""

from __future__ import annotations

import json
import random

import pytest

from curation.dedup import MissingFieldError, deduplicate, jaccard
from curation.dedup.minhash import shingles, signatures
from curation.dedup.normalize import normalize_text
from curation.records.answer import NumericAnswer
from curation.records.problem import Problem, Source
from release.cli import main

WORDS = [f"w{i}" for i in range(2000)]


def text(seed: int, length: int = 200) -> str:
    return " ".join(random.Random(seed).choices(WORDS, k=length))


def with_jaccard(base: str, target: float, ngram: int = 5) -> str:
    """``base`` with words replaced, one at a time from the end, until the shingle Jaccard drops to target."""
    words = base.split()
    a = shingles(base, ngram)
    for position in range(len(words) - 1, -1, -1):
        words[position] = f"new{position}"
        if jaccard(a, shingles(" ".join(words), ngram)) <= target:
            return " ".join(words)
    raise AssertionError("unreachable")


def problem(statement: str, kind: str = "synthetic-llm", **fields) -> Problem:
    return Problem.create(statement, NumericAnswer(value=1.0), Source(kind, {}), **fields)


def test_normalization_drops_latex_layout_and_case():
    assert normalize_text(r"Find  $\left( E \right)$ at \,\quad $$M$$") == "find ( e ) at m"


def test_signatures_do_not_depend_on_chunking():
    texts = [text(i) for i in range(5)]
    whole = signatures(texts)
    assert (whole[2:] == signatures(texts[2:])).all()


def test_signatures_do_not_depend_on_where_the_64k_hashing_segments_fall():
    texts = [text(i, length=2000) for i in range(40)] + ["x" * 70_000 + " tail words here now"]
    whole = signatures(texts)
    assert sum(map(len, texts)) > 7 * 65536
    assert all((whole[k] == signatures([t])[0]).all() for k, t in enumerate(texts))


def test_signature_columns_are_the_leading_permutations():
    texts = [text(i) for i in range(3)]
    assert (signatures(texts, columns=98) == signatures(texts)[:, :98]).all()


def test_exact_duplicate_after_normalization_is_removed():
    result = deduplicate(
        [{"id": "a", "statement": text(1)}, {"id": "b", "statement": "  " + text(1).upper()}]
    )
    assert [r["id"] for r in result.kept] == ["a"]
    (removal,) = result.removed
    assert (removal.duplicate_of, removal.similarity, removal.reason) == ("a", 1.0, "exact")


def test_near_duplicate_above_threshold_is_removed_with_its_similarity():
    near = with_jaccard(text(1), 0.9)
    records = [
        {"id": "a", "statement": text(1)},
        {"id": "x", "statement": text(2)},
        {"id": "b", "statement": near},
    ]
    result = deduplicate(records, threshold=0.8)
    assert [r["id"] for r in result.kept] == ["a", "x"]
    (removal,) = result.removed
    assert removal.reason == "near" and removal.duplicate_of == "a"
    assert removal.similarity == pytest.approx(jaccard(shingles(text(1), 5), shingles(near, 5)), abs=1e-6)
    assert 0.8 <= removal.similarity <= 0.9


def test_pair_at_jaccard_0_7_survives_threshold_0_8():
    far = with_jaccard(text(1), 0.7)
    assert jaccard(shingles(text(1), 5), shingles(far, 5)) < 0.8
    result = deduplicate([{"id": "a", "statement": text(1)}, {"id": "b", "statement": far}], threshold=0.8)
    assert len(result.kept) == 2 and result.removed == []


def test_keep_policy_prefers_adapted_then_verified_then_qc_then_first():
    base = text(3)
    synthetic = problem(base)
    adapted = problem(base + " w1", kind="adapted")
    result = deduplicate([synthetic, adapted], threshold=0.8)
    assert result.kept == [adapted]
    verified = problem(base + " w2", solver={"verified": True})
    assert deduplicate([synthetic, verified]).kept == [verified]
    better_qc = problem(base + " w3", qc={"judge": 4.5})
    assert deduplicate([problem(base, qc={"judge": 3.0}), better_qc]).kept == [better_qc]
    assert deduplicate([synthetic, problem(base + " w4")]).kept == [synthetic]


def test_empty_input_gives_empty_result():
    result = deduplicate([])
    assert result.kept == [] and result.removed == []
    assert result.report["counts"] == {"input": 0, "kept": 0, "removed_exact": 0, "removed_near": 0}


def test_missing_field_names_the_record_and_field():
    with pytest.raises(MissingFieldError, match="record 2, field statement"):
        deduplicate([{"statement": "a b"}, {"text": "c"}])


def test_parallel_and_serial_runs_agree():
    records = [{"id": str(i), "statement": text(i % 50)} for i in range(120)]
    records += [{"id": f"near{i}", "statement": with_jaccard(text(i), 0.9)} for i in range(10)]
    serial = deduplicate(records, workers=1, chunk_size=16)
    parallel = deduplicate(records, workers=2, chunk_size=16)
    assert serial.kept == parallel.kept and serial.removed == parallel.removed
    assert len(serial.kept) == 50
    assert sum(r.reason == "near" for r in parallel.removed) == 10


def test_cli_writes_kept_removed_and_report(tmp_path):
    source = tmp_path / "in.jsonl"
    rows = [problem(text(1)).to_dict(), problem(text(2)).to_dict(), problem(text(1) + " ").to_dict()]
    rows[2]["statement"] = "  " + text(1).upper()
    rows[2].pop("id")
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = [str(source), "-o", str(tmp_path / "kept.jsonl"), "--removed", str(tmp_path / "removed.jsonl")]
    assert main(["dedup", *args, "--report", str(tmp_path / "report.json")]) == 0
    assert len((tmp_path / "kept.jsonl").read_text().splitlines()) == 2
    (removed,) = [json.loads(line) for line in (tmp_path / "removed.jsonl").read_text().splitlines()]
    assert removed["duplicate_of"] == rows[0]["id"] and removed["similarity"] == 1.0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["counts"]["removed_exact"] == 1 and report["cluster_sizes"] == {"2": 1}


def test_cli_missing_field_error_names_file_line_and_field(tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text("\n" + json.dumps(problem(text(1)).to_dict()) + "\n")
    assert main(["dedup", str(source), "-o", str(tmp_path / "k.jsonl"), "--field", "nothing"]) == 2
    assert f"{source}, line 2, field nothing:" in capsys.readouterr().err


def test_band_split_makes_pairs_just_above_the_threshold_candidates():
    from curation.dedup.lsh import band_params

    for threshold in (0.5, 0.7, 0.8, 0.9):
        bands, rows = band_params(threshold, 128)
        assert bands * rows <= 128
        assert 1 - (1 - (threshold + 0.05) ** rows) ** bands >= 0.995


def test_text_without_commands_normalizes_like_text_with_them():
    assert normalize_text("a~b $x$ $$y$$") == normalize_text("a~b $x$ $$y$$ \\,") == "a b x y"


def test_near_duplicate_pairs_lists_every_pair_not_just_one_per_cluster():
    from curation.dedup import near_duplicate_pairs

    base = (
        "compute the one loop beta function coefficient of su n yang mills theory with nf dirac fermions " * 2
    )
    texts = [
        base,
        base + "in the fundamental",
        base.upper(),
        "an unrelated statement about partial wave unitarity bounds",
    ]
    pairs = near_duplicate_pairs(texts, threshold=0.8)
    # 0 and 2 are equal after normalization; 1 is near both
    assert [(i, j) for i, j, _ in pairs] == [(0, 1), (0, 2), (1, 2)]
    assert pairs[1][2] == 1.0 and 0.8 <= pairs[0][2] < 1.0


def test_traces_are_deduplicated_within_their_problem_only(tmp_path, capsys):
    from curation.records.io import read_jsonl, write_jsonl
    from curation.records.result import Result
    from curation.records.trace import ChatMessage, Trace
    from release.cli import main

    reasoning = "square the four momentum, use the mass shell condition, then take the positive root " * 3

    def trace(problem: str, tail: str) -> Trace:
        text = reasoning + tail
        return Trace(problem_id=problem, messages=(ChatMessage("user", "Q"), ChatMessage("assistant", text)),
                     model="m", verification=Result(problem, "correct", {}), num_tokens=1, tokenizer="t",
                     reasoning=text, final=text)  # fmt: skip

    traces = [trace("p1", "so E is done"), trace("p1", "so E is done."), trace("p2", "so E is done")]
    write_jsonl(tmp_path / "traces.jsonl", traces)
    code = main(["dedup", str(tmp_path / "traces.jsonl"), "-o", str(tmp_path / "kept.jsonl"), "--type", "trace",
                 "--field", "reasoning", "--group-by", "problem_id"])  # fmt: skip
    assert code == 0
    kept = list(read_jsonl(tmp_path / "kept.jsonl", Trace))
    assert [t.problem_id for t in kept] == ["p1", "p2"]
