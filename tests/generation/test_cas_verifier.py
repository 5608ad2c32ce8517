"""Every family's reference answer grades correct through the real verifier, in both forms, and a perturbed
answer grades incorrect."""

import pytest

from curation.verify import verify_many
from generation.cas import FAMILIES


def _samples():
    for family in FAMILIES.values():
        for index in (0, family.capacity() // 2):
            yield family.build(family.parameters_at(index))


PROBLEMS = list(_samples())


def _perturbed_code(reference: str) -> str:
    head, body = reference.rsplit("return ", 1)
    # Off by 0.1% plus one: never equal to the reference, not even where it is 0 or a constant.
    return f"{head}return 1.001 * ({body.strip()}) + 1\n"


@pytest.fixture(scope="module")
def verdicts():
    pairs = []
    for problem in PROBLEMS:
        code = problem.code_form()
        reference = code.answer.reference
        pairs += [
            (problem, f"The result is \\boxed{{{problem.answer.expr}}}"),
            (problem, f"\\boxed{{({problem.answer.expr}) + 1}}"),
            (code, f"```python\n{reference}\n```"),
            (code, f"```python\n{_perturbed_code(reference)}\n```"),
        ]
    results = verify_many(pairs, workers=2, timeout=20)
    return [results[i : i + 4] for i in range(0, len(results), 4)]


@pytest.mark.parametrize("index", range(len(PROBLEMS)), ids=[p.source.provenance["family"] for p in PROBLEMS])
def test_reference_is_correct_and_perturbation_incorrect_in_both_forms(verdicts, index):
    symbolic, symbolic_wrong, code, code_wrong = verdicts[index]
    assert symbolic.status == "correct", symbolic.details
    assert symbolic_wrong.status == "incorrect", symbolic_wrong.details
    assert code.status == "correct", code.details
    assert code_wrong.status == "incorrect", code_wrong.details


def test_latex_answer_text_grades_correct():
    problem = PROBLEMS[0]
    (result,) = verify_many([(problem, "\\boxed{" + problem.answer_text.strip("$").split(" = ", 1)[1] + "}")])
    assert result.status == "correct", result.details
