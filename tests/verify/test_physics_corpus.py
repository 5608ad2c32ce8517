"""The labelled physics-answer corpus (tests/corpus/physics_answers.yaml): every case gets its labelled status.

Each case is an AnswerSpec dict, a model response and the status DESIGN.md's grading rules give it. A spec that
``answer_from_dict`` rejects counts as ``invalid_problem``, as it does in the verifier's task runner.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from curation.records.answer import FieldError, answer_from_dict
from curation.verify import verify_answer

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "physics_answers.yaml"
LABELS = ("correct", "incorrect", "no_answer", "unparseable", "invalid_problem")
FIELDS = {"id", "note", "answer", "response", "expected"}


def load_corpus() -> list[dict]:
    with CORPUS.open(encoding="utf-8") as fh:
        cases = yaml.safe_load(fh)
    assert isinstance(cases, list), f"{CORPUS} must hold a list of cases"
    return cases


CASES = load_corpus()


def grade(case: dict) -> tuple[str, dict]:
    try:
        spec = answer_from_dict(case["answer"])
    except FieldError as exc:
        return "invalid_problem", {"reason": str(exc)}
    result = verify_answer(spec, case["response"])
    return result.status, dict(result.details)


@pytest.mark.parametrize("case", CASES, ids=[str(case.get("id")) for case in CASES])
def test_physics_answer(case):
    status, details = grade(case)
    assert status == case["expected"], (
        f"{case['id']}: expected {case['expected']}, got {status}\n"
        f"  note: {case['note']}\n"
        f"  answer: {case['answer']}\n"
        f"  details: {details}"
    )


def test_corpus_is_large_balanced_and_well_formed():
    assert len(CASES) >= 150
    for case in CASES:
        assert isinstance(case, dict) and set(case) == FIELDS, (
            f"case fields {sorted(case)} != {sorted(FIELDS)}"
        )
        assert isinstance(case["id"], str) and case["id"], case
        assert isinstance(case["note"], str) and case["note"].strip(), case["id"]
        assert isinstance(case["response"], str), case["id"]
        assert isinstance(case["answer"], dict), case["id"]
        assert case["expected"] in LABELS, case["id"]

    ids = [case["id"] for case in CASES]
    duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
    assert not duplicates, f"duplicate ids: {duplicates}"

    counts = Counter(case["expected"] for case in CASES)
    # Both labels that matter for rewards are well represented, and neither swamps the other.
    assert counts["correct"] >= 0.3 * len(CASES), counts
    assert counts["incorrect"] >= 0.3 * len(CASES), counts
    for label in ("no_answer", "unparseable", "invalid_problem"):
        assert counts[label] >= 3, counts


def test_every_spec_outside_invalid_problem_is_accepted():
    for case in CASES:
        if case["expected"] != "invalid_problem":
            answer_from_dict(case["answer"])  # raises FieldError with the field path
