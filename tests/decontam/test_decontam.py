"""Decontamination: exact, near and number-masked copies of benchmark problems are flagged; common formulas,
unrelated problems and clean data are not; unreadable benchmarks and registries fail naming the file."""

import json
from pathlib import Path

import pytest

from curation.decontam import (
    SHIPPED_REGISTRY,
    BenchmarkDoc,
    BenchmarkError,
    BenchmarkIndex,
    check_leakage,
    decontaminate,
    load_registry,
)
from curation.decontam.normalize import words
from curation.records import Problem, Source, answer_from_dict
from release.cli import main

FORMULA = r"the Mandelstam variables $s = (p_1 + p_2)^2$, $t = (p_1 - p_3)^2$ and $u = (p_1 - p_4)^2$ obey"
BENCHMARK = [
    r"A Higgs boson of mass $m_H = 125\,\mathrm{GeV}$ decays to a pair of bottom quarks of mass $m_b$. At tree "
    r"level in the Standard Model, compute the partial width $\Gamma(H \to b\bar b)$ including the colour factor "
    r"and the velocity factor $\beta^3$.",
    r"Take $N = 3$ colours, $n_f = 5$ flavours and $\alpha_s = 0.118$ at the scale $Q = 91$ GeV; use 2 loops and "
    r"evolve to $\mu = 10$ GeV with 4 flavours below threshold at 4.8 GeV, to 1 percent precision and 3 digits.",
    r"In scalar $\phi^4$ theory with coupling $\lambda$, compute the one-loop beta function in dimensional "
    r"regularization with the minimal subtraction scheme, and show that the theory is not asymptotically free.",
] + [f"Problem {i}: for a 2 to 2 scattering of massless particles {FORMULA} a relation; prove item {i}."
     for i in range(6)]  # fmt: skip


def docs(texts=BENCHMARK, name="bench"):
    return [BenchmarkDoc(name, i, f"b{i}", text) for i, text in enumerate(texts)]


@pytest.fixture(scope="module")
def index():
    return BenchmarkIndex.from_docs(docs(), ngram=8, minhash_threshold=0.7)


def methods(flags):
    return {f.method for f in flags}


def test_latex_normalization_ignores_typesetting():
    assert words(r"$\left( m_H = 125\,\mathrm{GeV} \right)$") == words("( m_H = 125 GeV )")


def test_exact_copy_is_flagged_by_every_method(index):
    flags = index.match(BENCHMARK[0])
    assert methods(flags) == {"ngram", "minhash"}  # masked_ngram is implied by ngram, so not repeated
    ngram = next(f for f in flags if f.method == "ngram")
    assert (ngram.benchmark, ngram.doc_index, ngram.doc_id, ngram.similarity) == ("bench", 0, "b0", 1.0)
    assert ngram.span.startswith("a higgs boson of mass")


def test_paraphrase_with_a_long_shared_span_is_flagged_by_ngram(index):
    paraphrase = (
        r"Let us look at Higgs physics. At tree level in the Standard Model, compute the partial width "
        r"$\Gamma(H\to b \bar{b})$ for a 125 GeV Higgs, keeping the quark mass."
    )
    flags = index.match(paraphrase)
    ngram = [f for f in flags if f.method == "ngram"]
    assert [f.doc_id for f in ngram] == ["b0"]
    assert "at tree level in the standard model compute the partial width" in ngram[0].span
    assert "minhash" not in methods(flags)


def test_same_problem_with_other_numbers_is_flagged_only_by_the_masked_method(index):
    renumbered = (
        r"Take $N = 4$ colours, $n_f = 6$ flavours and $\alpha_s = 0.125$ at the scale $Q = 80$ GeV; use 3 loops "
        r"and evolve to $\mu = 12$ GeV with 5 flavours below threshold at 4.2 GeV, to 2 percent precision and 4 "
        r"digits."
    )
    flags = index.match(renumbered)
    assert "ngram" not in methods(flags)
    masked = [f for f in flags if f.method == "masked_ngram"]
    assert [f.doc_id for f in masked] == ["b1"]
    assert masked[0].similarity == 1.0


def test_a_common_formula_shared_with_many_benchmark_docs_is_no_evidence(index):
    problem = f"For Compton scattering at one loop, {FORMULA} the sum rule; derive the amplitude's crossing."
    assert index.match(problem) == []
    assert index.stats["bench"].common_ngrams > 0


def test_an_unrelated_problem_is_kept(index):
    assert index.match("Compute the anomalous magnetic moment of the electron at one loop in QED.") == []


def test_decontaminate_streams_records_with_their_flags(index):
    records = [{"statement": BENCHMARK[2]}, {"statement": "Quantize the free Dirac field."}]
    results = list(decontaminate(records, index))
    assert [bool(flags) for _, flags in results] == [True, False]


def test_train_test_leakage_uses_the_same_machinery():
    test = [{"id": "qft-a", "statement": BENCHMARK[0]}, {"id": "qft-b", "statement": BENCHMARK[2]}]
    train = [{"statement": BENCHMARK[2] + " Explain."}, {"statement": "Quantize the free Dirac field."}]
    leaks = check_leakage(train, test)
    assert len(leaks) == 1
    assert {(f.benchmark, f.doc_id) for f in leaks[0][1]} == {("test", "qft-b")}


def write_registry(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "benchmarks.yaml"
    path.write_text(body)
    return path


def test_a_missing_benchmark_file_is_an_error_naming_it(tmp_path):
    registry = write_registry(
        tmp_path, "benchmarks:\n  - name: gone\n    path: nowhere.jsonl\n    columns: [q]\n"
    )
    with pytest.raises(BenchmarkError, match=r"'gone'.*nowhere\.jsonl: no such file.*line 2"):
        BenchmarkIndex.build(load_registry(registry))


def test_an_unreadable_benchmark_file_is_an_error_naming_it_and_the_line(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"q": "fine"}\n{"q": broken\n')
    registry = write_registry(tmp_path, "benchmarks:\n  - name: bad\n    path: bad.jsonl\n    columns: [q]\n")
    with pytest.raises(BenchmarkError, match=r"'bad'.*bad\.jsonl, line 2: not valid JSON"):
        BenchmarkIndex.build(load_registry(registry))


def test_a_wrong_column_is_an_error_listing_the_columns(tmp_path):
    (tmp_path / "b.jsonl").write_text('{"problem": "x"}\n')
    registry = write_registry(
        tmp_path, "benchmarks:\n  - name: b\n    path: b.jsonl\n    columns: [question]\n"
    )
    with pytest.raises(BenchmarkError, match=r"has no column\(s\) question; it has problem"):
        BenchmarkIndex.build(load_registry(registry))


def test_malformed_registry_yaml_is_an_error_naming_file_and_line(tmp_path):
    registry = write_registry(tmp_path, "benchmarks:\n  - name: a\n    path: [unclosed\n")
    with pytest.raises(BenchmarkError, match=r"benchmarks\.yaml, line \d+: not valid YAML"):
        load_registry(registry)


def test_an_invalid_registry_entry_names_its_line(tmp_path):
    registry = write_registry(tmp_path, "benchmarks:\n  - name: ok\n    path: a.jsonl\n    columns: [q]\n"
                                        "  - name: neither\n    columns: [q]\n")  # fmt: skip
    with pytest.raises(
        BenchmarkError, match=r"benchmarks\.yaml, line 5: benchmark 'neither': needs either hub"
    ):
        load_registry(registry)


def test_the_shipped_registry_lists_the_public_physics_benchmarks():
    names = {b.name for b in load_registry(SHIPPED_REGISTRY)}
    assert {"tpbench", "phybench", "ugphysics", "gpqa-physics", "olympiadbench-physics", "vqft-test"} <= names


def problem(statement: str) -> Problem:
    answer = answer_from_dict({"kind": "symbolic", "expr": "x", "symbols": {"x": "real"}})
    return Problem.create(statement, answer, Source("synthetic-llm"))


def test_cli_end_to_end_with_a_local_jsonl_benchmark(tmp_path, capsys):
    bench = tmp_path / "bench.jsonl"
    bench.write_text(
        "".join(json.dumps({"uid": f"u{i}", "question": t}) + "\n" for i, t in enumerate(BENCHMARK))
    )
    registry = write_registry(
        tmp_path,
        "benchmarks:\n  - name: local\n    path: bench.jsonl\n    columns: [question]\n    id_column: uid\n",
    )
    train = [
        problem(BENCHMARK[0]),
        problem("Quantize the free Dirac field."),
        problem(BENCHMARK[2] + " Why?"),
    ]
    source = tmp_path / "train.jsonl"
    source.write_text("".join(json.dumps(p.to_dict()) + "\n" for p in train))
    out, report, removed = tmp_path / "clean.jsonl", tmp_path / "report.json", tmp_path / "removed.jsonl"
    code = main(["decontam", str(source), "--against", str(registry), "-o", str(out), "--report", str(report),
                 "--removed", str(removed)])  # fmt: skip
    assert code == 0
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [train[1].id]
    data = json.loads(report.read_text())
    assert (data["total"], data["kept"], data["removed"]) == (3, 1, 2)
    assert data["removed_by_benchmark"] == {"local": 2}
    assert data["removed_by_method"]["ngram"] == 2
    assert {e["flags"][0]["doc_id"] for e in data["examples"]["local"]} == {"u0", "u2"}
    assert [json.loads(line)["id"] for line in removed.read_text().splitlines()] == [train[0].id, train[2].id]
    assert "benchmark local" in capsys.readouterr().out


def test_cli_reports_an_unreadable_benchmark_with_exit_status_2(tmp_path, capsys):
    registry = write_registry(
        tmp_path, "benchmarks:\n  - name: gone\n    path: nowhere.jsonl\n    columns: [q]\n"
    )
    source = tmp_path / "train.jsonl"
    source.write_text(json.dumps(problem("Anything.").to_dict()) + "\n")
    code = main(["decontam", str(source), "--against", str(registry), "-o", str(tmp_path / "clean.jsonl")])
    assert code == 2
    assert "nowhere.jsonl: no such file" in capsys.readouterr().err
    assert not (tmp_path / "clean.jsonl").exists()
