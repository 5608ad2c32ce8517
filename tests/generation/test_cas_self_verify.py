"""Generated problems verify themselves through the CLI: `vqft generate cas`, then `vqft verify` in both forms."""

import json

from curation.records import Problem, read_records
from generation.cas import FAMILIES
from release.cli import main


def test_generated_problems_self_verify_in_both_answer_forms(tmp_path, capsys):
    problems_path = tmp_path / "cas.jsonl"
    n = 2 * len(FAMILIES)
    assert main(["generate", "cas", "--n", str(n), "--seed", "7", "-o", str(problems_path)]) == 0
    problems = list(read_records(problems_path, Problem))
    boxed = tmp_path / "boxed.jsonl"
    code = tmp_path / "code.jsonl"
    boxed.write_text(
        "".join(
            json.dumps({"problem_id": p.id, "response": f"\\boxed{{{p.answer.expr}}}"}) + "\n"
            for p in problems
        )
    )
    code.write_text(
        "".join(
            json.dumps({"problem_id": p.id, "response": f"```python\n{p.code_answer.reference}\n```"}) + "\n"
            for p in problems
        )
    )
    for responses, form in ((boxed, "answer"), (code, "code")):
        out = tmp_path / f"results-{form}.jsonl"
        argv = [
            "verify",
            str(problems_path),
            str(responses),
            "-o",
            str(out),
            "--answer-form",
            form,
            "--quiet",
        ]
        assert main(argv + ["--workers", "2", "--timeout", "20"]) == 0
        statuses = [json.loads(line)["status"] for line in out.read_text().splitlines()]
        assert statuses == ["correct"] * n, [
            (p.source.provenance["family"], s)
            for p, s in zip(problems, statuses, strict=True)
            if s != "correct"
        ]


def test_code_form_of_a_problem_without_one_is_a_user_error(tmp_path, capsys):
    from pathlib import Path

    examples = Path(__file__).resolve().parents[2] / "examples"
    argv = [
        "verify",
        str(examples / "problems.jsonl"),
        str(examples / "responses.jsonl"),
        "-o",
        str(tmp_path / "r"),
    ]
    assert main(argv + ["--answer-form", "code"]) == 2
    assert "has no code_answer; --answer-form code needs one" in capsys.readouterr().err
