import datasets
import pyarrow as pa
import pytest

from curation.records import (
    PROBLEM_FEATURES,
    RESPONSE_FEATURES,
    RESULT_FEATURES,
    SEED_FEATURES,
    TRACE_FEATURES,
    Problem,
    Response,
    Result,
    Seed,
    Trace,
    answer_to_row,
    problem_from_row,
    problem_to_row,
    response_from_row,
    response_to_row,
    result_from_row,
    result_to_row,
    seed_from_row,
    seed_to_row,
    trace_from_row,
    trace_to_row,
    write_parquet,
)
from curation.records.answer import FieldError
from tests.records import examples as ex

CASES = [
    (Problem, ex.all_problems(), PROBLEM_FEATURES, problem_to_row, problem_from_row),
    (Seed, [ex.seed(), ex.seed_without_solution()], SEED_FEATURES, seed_to_row, seed_from_row),
    (Trace, [ex.trace()], TRACE_FEATURES, trace_to_row, trace_from_row),
    (Response, [ex.response()], RESPONSE_FEATURES, response_to_row, response_from_row),
    (Result, [ex.result()], RESULT_FEATURES, result_to_row, result_from_row),
]
IDS = [case[0].__name__ for case in CASES]


@pytest.mark.parametrize(("record_type", "records", "features", "to_row", "from_row"), CASES, ids=IDS)
def test_records_round_trip_through_rows(record_type, records, features, to_row, from_row):
    assert [from_row(to_row(r)) for r in records] == records


@pytest.mark.parametrize(("record_type", "records", "features", "to_row", "from_row"), CASES, ids=IDS)
def test_rows_fit_the_arrow_schema_exactly(record_type, records, features, to_row, from_row):
    table = pa.Table.from_pylist([to_row(r) for r in records], schema=features.arrow_schema)
    assert [from_row(row) for row in table.to_pylist()] == records


@pytest.mark.parametrize(("record_type", "records", "features", "to_row", "from_row"), CASES, ids=IDS)
def test_datasets_from_parquet_keeps_features_and_records(
    tmp_path, record_type, records, features, to_row, from_row
):
    path = tmp_path / "records.parquet"
    write_parquet(path, records, record_type)
    ds = datasets.Dataset.from_parquet(str(path), cache_dir=str(tmp_path / "cache"))
    assert ds.features == features
    assert [from_row(row) for row in ds] == records


def test_load_dataset_parquet_sees_problem_features(tmp_path):
    path = tmp_path / "train.parquet"
    write_parquet(path, ex.all_problems(), Problem)
    ds = datasets.load_dataset(
        "parquet", data_files=str(path), split="train", cache_dir=str(tmp_path / "cache")
    )
    assert ds.features == PROBLEM_FEATURES
    assert [problem_from_row(row) for row in ds] == ex.all_problems()


def test_answer_row_of_numeric_keeps_float_exactly():
    row = answer_to_row(ex.numeric_problem().answer)
    assert row["value"] == "0.868544769821717"
    assert row["unit"] == "nb"
    assert row["expr"] is None and row["test_cases"] is None


def test_answer_row_of_complex_numeric_is_a_complex_string():
    assert answer_to_row(ex.complex_numeric_problem().answer)["value"] == "2j"


def test_answer_row_of_code_holds_inputs_and_outputs_as_json():
    cases = answer_to_row(ex.code_problem().answer)["test_cases"]
    assert cases[0] == {
        "case_id": None,
        "inputs_json": '{"M": 0.13957039, "m1": 0.1056583755, "m2": 0.0}',
        "output_json": "0.02979214090987742",
        "rtol": None,
        "atol": None,
    }
    assert cases[1]["case_id"] == "z" and cases[1]["output_json"] is None


def test_answer_row_of_tuple_nests_scalar_items():
    items = answer_to_row(ex.tuple_problem().answer)["items"]
    assert [item["kind"] for item in items] == ["symbolic", "numeric"]
    assert items[0]["symbols"] == [
        {"name": "alpha", "domain": "positive"},
        {"name": "s", "domain": "positive"},
    ]


def test_problem_row_keeps_provenance_as_json_and_kind_as_column():
    row = problem_to_row(ex.numeric_problem())
    assert row["source"] == {
        "kind": "synthetic-cas",
        "provenance_json": '{"generator": "ee_to_mumu_sigma", "parameters": {"sqrt_s_gev": 10.0}}',
    }
    assert row["qc_json"] is None and row["extra_json"] is None


def test_empty_qc_is_not_confused_with_missing_qc():
    import dataclasses

    problem = dataclasses.replace(ex.numeric_problem(), qc={})
    assert problem_from_row(problem_to_row(problem)).qc == {}


def test_row_with_a_broken_answer_is_rejected_with_the_field_path():
    row = problem_to_row(ex.symbolic_problem())
    row["answer"]["expr"] = None
    with pytest.raises(FieldError) as caught:
        problem_from_row(row)
    assert caught.value.path == "answer.expr"
