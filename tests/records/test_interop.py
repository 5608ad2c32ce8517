import pytest

from curation.records import (
    CodeArgument,
    CodeTestCase,
    FieldError,
    Problem,
    problem_from_paper_json,
    problem_from_row,
    problem_from_tpbench_row,
    problem_to_paper_json,
    problem_to_row,
    problem_to_tpbench_row,
    read_records,
    write_records,
)
from curation.records.interop import parse_signature
from tests.records import examples as ex


def test_paper_json_round_trips_exactly():
    assert problem_to_paper_json(problem_from_paper_json(ex.paper_doc())) == ex.PAPER_DOC


def test_paper_json_maps_onto_problem_fields():
    problem = problem_from_paper_json(ex.paper_doc())
    details = ex.PAPER_DOC["problem_details"]
    assert problem.statement == details["Problem Statement"]
    assert problem.solution == details["Solution"]
    assert problem.answer_requirements == details["Answer Requirements"]
    assert problem.answer_text == details["Answer"]
    assert problem.topic == "QFT"
    assert problem.source.to_dict() == {"kind": "adapted", "format": "paper-json"}
    assert problem.answer.function_name == "sigma_ee_mumu"
    assert problem.answer.arguments == (CodeArgument("sqrt_s", "float"),)
    assert problem.answer.reference.startswith("import math\n")
    assert not problem.answer.reference.rstrip().endswith("\\end{python}")


def test_paper_tolerance_number_is_rtol_and_object_gives_rtol_and_atol():
    cases = problem_from_paper_json(ex.paper_doc()).answer.test_cases
    assert [(c.case_id, c.rtol, c.atol) for c in cases] == [
        ("1", None, None),
        ("2", 1e-6, None),
        ("3", 1e-6, 1e-12),
        ("4", 1e-3, None),
    ]


def test_paper_stringified_output_is_not_used_as_a_cached_output():
    cases = problem_from_paper_json(ex.paper_doc()).answer.test_cases
    assert cases[0].output is None  # "0.868544769821717" with output_type float: the generator's str(result)
    assert cases[1].output == 0.10327524016905078


def test_paper_metadata_without_a_field_is_kept_in_extra():
    problem = problem_from_paper_json(ex.paper_doc())
    kept = problem.extra["paper_json"]
    assert kept["problem_id"] == "p17"
    assert kept["qc_gradings"] == ex.PAPER_DOC["qc_gradings"]
    assert kept["original_seed"] == ex.PAPER_DOC["original_seed"]
    assert kept["problem_details"]["test"]["tests_passed"] is True
    assert "Problem Statement" not in kept["problem_details"]


def test_paper_problem_survives_jsonl_and_parquet_before_export(tmp_path):
    problem = problem_from_paper_json(ex.paper_doc())
    for name in ("p.jsonl", "p.parquet"):
        write_records(tmp_path / name, [problem], Problem)
        (read_back,) = read_records(tmp_path / name, Problem)
        assert problem_to_paper_json(read_back) == ex.PAPER_DOC
    assert problem_to_paper_json(problem_from_row(problem_to_row(problem))) == ex.PAPER_DOC


def test_edited_paper_problem_exports_its_new_content():
    problem = problem_from_paper_json(ex.paper_doc())
    new_reference = problem.answer.reference.replace("137.035999", "137.036")
    edited = problem.replace(
        statement="Edited statement.",
        answer=problem.answer.__class__(**{**vars(problem.answer), "reference": new_reference}),
    )
    doc = problem_to_paper_json(edited)
    assert doc["problem_details"]["Problem Statement"] == "Edited statement."
    assert doc["problem_details"]["Code"] == "\\begin{python}\n" + new_reference + "\n\\end{python}"
    assert doc["problem_metadata"] == ex.PAPER_DOC["problem_metadata"]


def test_problem_of_our_own_exports_to_paper_json_and_back():
    problem = ex.code_problem()
    doc = problem_to_paper_json(problem)
    assert doc["problem_id"] == problem.id
    assert doc["problem_details"]["test"]["test_cases"][1] == {
        "case_id": "z",
        "inputs": {"M": 91.1876, "m1": 0.1056583755, "m2": 0.1056583755},
        "tolerance": 1e-9,
    }
    assert doc["problem_details"]["test"]["test_cases"][2]["tolerance"] == {"rtol": 1e-8, "atol": 1e-12}
    again = problem_from_paper_json(doc, source=problem.source, task_type=problem.task_type)
    assert (again.id, again.answer, again.statement, again.topic) == (
        problem.id,
        problem.answer,
        problem.statement,
        problem.topic,
    )


def test_paper_argument_type_aliases_are_mapped_and_round_trip():
    doc = ex.paper_doc()
    doc["problem_details"]["test"]["arguments"] = [{"name": "sqrt_s", "type": "np.ndarray"}]
    problem = problem_from_paper_json(doc)
    assert problem.answer.arguments == (CodeArgument("sqrt_s", "array"),)
    assert problem_to_paper_json(problem) == doc


def test_paper_case_ids_given_as_strings_round_trip():
    doc = ex.paper_doc()
    for case in doc["problem_details"]["test"]["test_cases"]:
        case["case_id"] = str(case["case_id"])
    assert problem_to_paper_json(problem_from_paper_json(doc)) == doc


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (lambda d: d["problem_details"].pop("test"), "problem_details.test"),
        (lambda d: d["problem_details"].pop("Code"), "problem_details.Code"),
        (lambda d: d.pop("problem_details"), "problem_details"),
        (
            lambda d: d["problem_details"].update({"Problem Statement": " "}),
            "problem_details.Problem Statement",
        ),
        (
            lambda d: d["problem_details"]["test"]["test_cases"][1].update({"tolerance": "1e-6"}),
            "problem_details.test.test_cases.1.tolerance",
        ),
        (
            lambda d: d["problem_details"]["test"]["test_cases"][2].update({"tolerance": {"rtol": -1.0}}),
            "problem_details.test.test_cases.2.tolerance.rtol",
        ),
        (
            lambda d: d["problem_details"]["test"]["test_cases"][0].update({"inputs": {"s": 100.0}}),
            "problem_details.test.test_cases.0.inputs",
        ),
        (
            lambda d: d["problem_details"]["test"].update({"test_cases": []}),
            "problem_details.test.test_cases",
        ),
        (lambda d: d["problem_details"]["test"].pop("function_name"), "problem_details.test.function_name"),
        (
            lambda d: d["problem_details"].update({"Code": "def sigma(sqrt_s):\n    return 1.0"}),
            "problem_details.Code",
        ),
        (lambda d: d["problem_details"].update({"Code": "def sigma_ee_mumu(:"}), "problem_details.Code"),
    ],
)
def test_malformed_paper_json_names_the_paper_field(edit, path):
    doc = ex.paper_doc()
    edit(doc)
    with pytest.raises(FieldError) as caught:
        problem_from_paper_json(doc)
    assert caught.value.path == path


def test_non_code_problem_cannot_be_exported_to_code_formats():
    for export in (problem_to_paper_json, problem_to_tpbench_row):
        with pytest.raises(FieldError) as caught:
            export(ex.symbolic_problem())
        assert caught.value.path == "answer.kind"


def test_tpbench_row_round_trips_exactly():
    problem = problem_from_tpbench_row(ex.tpbench_row(), test_cases=ex.TPBENCH_CASES)
    assert problem_to_tpbench_row(problem) == ex.TPBENCH_ROW


def test_tpbench_row_maps_onto_problem_fields():
    problem = problem_from_tpbench_row(ex.tpbench_row(), test_cases=ex.TPBENCH_CASES)
    assert problem.statement == ex.TPBENCH_ROW["problem"]
    assert problem.answer_text == "$\\lambda(x,y,z) = x^2+y^2+z^2-2xy-2yz-2zx$"
    assert (problem.topic, problem.level) == ("High Energy Theory", "2")
    assert problem.answer_requirements == ex.TPBENCH_ROW["code_answer_requirements"]
    assert problem.answer.function_name == "kallen"
    assert problem.answer.arguments == tuple(CodeArgument(n, "float") for n in "xyz")
    assert problem.answer.reference.startswith("def kallen(")
    assert problem.answer.test_cases[1] == CodeTestCase(
        {"x": 0.019479893, "y": 0.011163692, "z": 0.0}, rtol=1e-9
    )
    assert problem.extra == {"tpbench": {"problem_id": "qft_7"}}


def test_tpbench_row_without_test_cases_is_refused_with_the_fix():
    with pytest.raises(FieldError) as caught:
        problem_from_tpbench_row(ex.tpbench_row())
    assert caught.value.path == "test_cases"
    assert "TPBench row 'qft_7' has no test cases" in caught.value.message
    assert "kallen(x, y, z)" in caught.value.message


def test_tpbench_test_cases_column_is_used_and_kept():
    row = {
        **ex.tpbench_row(),
        "test_cases": [{"case_id": 1, "inputs": {"x": 4.0, "y": 1.0, "z": 1.0}, "tolerance": 1e-9}],
    }
    problem = problem_from_tpbench_row(row)
    assert problem.answer.test_cases == (
        CodeTestCase({"x": 4.0, "y": 1.0, "z": 1.0}, rtol=1e-9, case_id="1"),
    )
    assert problem_to_tpbench_row(problem) == row


def test_problem_to_tpbench_and_back_with_its_test_cases():
    problem = ex.code_problem()
    row = problem_to_tpbench_row(problem)
    assert row["problem_id"] == problem.id
    assert row["difficulty_level"] == "undergraduate"
    assert row["reference_implementation"] == "\\begin{python}\n" + ex.KALLEN_REFERENCE + "\n\\end{python}"
    assert row["code_answer_requirements"] == (
        problem.answer_requirements
        + "\n\n\\begin{python}\ndef daughter_momentum(M: float, m1: float, m2: float):\n"
        "    ...\n\\end{python}"
    )
    again = problem_from_tpbench_row(row, test_cases=problem.answer.test_cases, source=problem.source)
    assert (again.id, again.answer) == (problem.id, problem.answer)


def test_tpbench_string_difficulty_level_round_trips():
    row = {**ex.tpbench_row(), "difficulty_level": "2"}
    problem = problem_from_tpbench_row(row, test_cases=ex.TPBENCH_CASES)
    assert problem_to_tpbench_row(problem) == row


def test_tpbench_plain_reference_without_wrapper_round_trips():
    row = {
        **ex.tpbench_row(),
        "reference_implementation": "def kallen(x, y, z):\n    return (x - y - z)**2 - 4*y*z\n",
    }
    problem = problem_from_tpbench_row(row, test_cases=ex.TPBENCH_CASES)
    assert problem.answer.reference == row["reference_implementation"]
    assert problem_to_tpbench_row(problem) == row


def test_tpbench_reference_defining_another_function_is_refused():
    row = {**ex.tpbench_row(), "reference_implementation": "def lam(x, y, z):\n    return 0.0"}
    with pytest.raises(FieldError) as caught:
        problem_from_tpbench_row(row, test_cases=ex.TPBENCH_CASES)
    assert caught.value.path == "reference_implementation"
    assert "must define kallen()" in caught.value.message


def test_signature_is_parsed_never_run():
    skeleton = "raise SystemExit('executed!')\n\ndef width(m: float, g: float) -> float:\n    ..."
    assert parse_signature(skeleton, "x") == (
        "width",
        (CodeArgument("m", "float"), CodeArgument("g", "float")),
    )


def test_signature_without_a_body_is_parsed():
    skeleton = "Complete:\n```python\ndef amplitude(s: complex, t: np.ndarray, n):\n    # your code here\n```"
    assert parse_signature(skeleton, "x") == (
        "amplitude",
        (CodeArgument("s", "complex"), CodeArgument("t", "array"), CodeArgument("n", "any")),
    )


def test_signature_with_star_args_is_refused():
    with pytest.raises(FieldError, match="keyword-only"):
        parse_signature("def f(x, *rest):\n    pass", "code_answer_requirements")


def test_requirements_without_a_def_are_refused():
    row = {**ex.tpbench_row(), "code_answer_requirements": "Return the answer as a float."}
    with pytest.raises(FieldError) as caught:
        problem_from_tpbench_row(row, test_cases=ex.TPBENCH_CASES)
    assert caught.value.path == "code_answer_requirements"
