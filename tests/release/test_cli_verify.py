"""`vqft verify`: one Result per response line, in order; clear errors for unreadable inputs."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from release.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def results_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def graded_examples(tmp_path_factory) -> tuple[int, list[dict]]:
    out = tmp_path_factory.mktemp("verify") / "results.jsonl"
    code = main(["verify", str(EXAMPLES / "problems.jsonl"), str(EXAMPLES / "responses.jsonl"), "-o", str(out),
                 "--workers", "2", "--timeout", "3", "--quiet"])  # fmt: skip
    return code, results_of(out)


def test_examples_grade_with_exit_status_zero(graded_examples):
    code, _ = graded_examples
    assert code == 0


def test_one_result_per_response_line_in_order(graded_examples):
    _, results = graded_examples
    responses = [json.loads(line) for line in (EXAMPLES / "responses.jsonl").read_text().splitlines()]
    assert [r["problem_id"] for r in results] == [r["problem_id"] for r in responses]


def test_example_verdicts(graded_examples):
    _, results = graded_examples
    assert [r["status"] for r in results] == [
        "correct", "incorrect", "correct",  # e+e- -> mu+mu-: think block, factor 2, Final answer line
        "correct", "incorrect", "incorrect",  # 868.5 pb as nb; fb; GeV (wrong dimension)
        "correct", "incorrect", "no_answer",  # muon width; 96 pi^3; unclosed <think>
        "correct", "incorrect",  # pseudoscalar; axial-vector
        "correct", "incorrect",  # (b0, nf_max) in one box; two boxes with nf_max = 17
        "correct", "incorrect", "error", "timeout",  # Kallen: rewrite, +1e-3, file write, infinite loop
    ]  # fmt: skip


def test_every_result_names_the_verifier_version(graded_examples):
    _, results = graded_examples
    assert all(r["details"]["verifier_version"] for r in results)


def test_malformed_response_line_is_named(tmp_path, capsys):
    responses = tmp_path / "responses.jsonl"
    lines = (EXAMPLES / "responses.jsonl").read_text().splitlines()
    lines[2] = '{"problem_id": "qft-6d02c207f2d967ee", "response": '
    responses.write_text("\n".join(lines) + "\n")
    out = tmp_path / "results.jsonl"
    code = main(["verify", str(EXAMPLES / "problems.jsonl"), str(responses), "-o", str(out), "--quiet"])
    assert code == 2
    assert f"{responses}, line 3: not valid JSON" in capsys.readouterr().err
    assert not out.exists()


def test_unknown_problem_id_is_named(tmp_path, capsys):
    responses = tmp_path / "responses.jsonl"
    responses.write_text(json.dumps({"problem_id": "qft-0000000000000000", "response": "\\boxed{1}"}) + "\n")
    code = main(["verify", str(EXAMPLES / "problems.jsonl"), str(responses), "-o", str(tmp_path / "r.jsonl")])
    assert code == 2
    assert "line 1: problem_id 'qft-0000000000000000' is not in" in capsys.readouterr().err


def test_problem_with_a_bad_field_is_named(tmp_path, capsys):
    problems = tmp_path / "problems.jsonl"
    lines = (EXAMPLES / "problems.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    first["answer"]["symbols"]["alpha"] = "very positive"
    problems.write_text(json.dumps(first) + "\n")
    code = main(["verify", str(problems), str(EXAMPLES / "responses.jsonl"), "-o", str(tmp_path / "r.jsonl")])
    assert code == 2
    assert "line 1, field answer.symbols.alpha: unknown domain 'very positive'" in capsys.readouterr().err


def test_missing_problems_file_is_named(tmp_path, capsys):
    code = main(
        ["verify", str(tmp_path / "nope.jsonl"), str(EXAMPLES / "responses.jsonl"), "-o", str(tmp_path / "r")]
    )
    assert code == 2
    assert "nope.jsonl: no such file" in capsys.readouterr().err


def test_paper_json_folder_is_read_with_format_tpdata(tmp_path):
    from curation.records import Problem, read_records
    from curation.records.interop import problem_to_paper_json

    kallen = [p for p in read_records(EXAMPLES / "problems.jsonl", Problem) if p.answer.kind == "code"][0]
    folder = tmp_path / "tpdata"
    folder.mkdir()
    (folder / "kallen.json").write_text(json.dumps(problem_to_paper_json(kallen)))
    from curation.records.interop import problem_from_paper_json

    imported = problem_from_paper_json(problem_to_paper_json(kallen))
    responses = tmp_path / "responses.jsonl"
    body = "```python\ndef kallen(x, y, z):\n    return (x - y - z)**2 - 4*y*z\n```"
    responses.write_text(json.dumps({"problem_id": imported.id, "response": body}) + "\n")
    out = tmp_path / "results.jsonl"
    assert main(["verify", str(folder), str(responses), "-o", str(out), "--format", "tpdata", "--quiet"]) == 0
    assert results_of(out)[0]["status"] == "correct"


def test_console_script_help_lists_verify():
    vqft = shutil.which("vqft") or str(Path(sys.executable).parent / "vqft")
    out = subprocess.run([vqft, "--help"], capture_output=True, text=True, check=True).stdout
    assert "verify" in out
