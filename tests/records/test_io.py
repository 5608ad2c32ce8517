import gzip
import json
import os
import pickle
import tracemalloc

import pyarrow as pa
import pytest

from curation.records import (
    FieldError,
    JsonlAppender,
    Problem,
    ReadReport,
    RecordError,
    Response,
    Result,
    Seed,
    Trace,
    read_jsonl,
    read_parquet,
    read_records,
    write_jsonl,
    write_parquet,
    write_records,
)
from tests.records import examples as ex

ALL = [
    (Problem, ex.all_problems()),
    (Seed, [ex.seed(), ex.seed_without_solution()]),
    (Trace, [ex.trace()]),
    (Response, [ex.response()]),
    (Result, [ex.result()]),
]
IDS = [record_type.__name__ for record_type, _ in ALL]


def _lines(path):
    return path.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".parquet"])
@pytest.mark.parametrize(("record_type", "records"), ALL, ids=IDS)
def test_records_round_trip_through_files(tmp_path, suffix, record_type, records):
    path = tmp_path / f"records{suffix}"
    assert write_records(path, records, record_type) == len(records)
    assert list(read_records(path, record_type)) == records


def test_jsonl_is_one_object_per_line_with_unicode_kept(tmp_path):
    path = tmp_path / "problems.jsonl"
    write_jsonl(path, ex.all_problems())
    lines = _lines(path)
    assert len(lines) == len(ex.all_problems())
    assert "Källén" in lines[-1]
    assert json.loads(lines[0]) == ex.symbolic_problem().to_dict()


def test_gzip_output_is_reproducible(tmp_path):
    write_jsonl(tmp_path / "a.jsonl.gz", ex.all_problems())
    write_jsonl(tmp_path / "b.jsonl.gz", ex.all_problems())
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()


def _write_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def test_malformed_field_error_names_file_line_and_field(tmp_path):
    bad = ex.tuple_problem().to_dict()
    del bad["id"]
    del bad["answer"]["items"][1]["value"]
    path = tmp_path / "problems.jsonl"
    _write_lines(path, [json.dumps(ex.symbolic_problem().to_dict())] + [""] * 10 + [json.dumps(bad)])
    with pytest.raises(RecordError) as caught:
        list(read_jsonl(path, Problem))
    assert str(caught.value) == f"{path}, line 12, field answer.items.1.value: is required"
    assert (caught.value.line, caught.value.field) == (12, "answer.items.1.value")


def test_invalid_json_error_names_line_and_column(tmp_path):
    path = tmp_path / "problems.jsonl"
    _write_lines(path, [json.dumps(ex.symbolic_problem().to_dict()), "", '{"statement": "x" "answer": 1}'])
    with pytest.raises(RecordError) as caught:
        list(read_jsonl(path, Problem))
    assert str(caught.value) == f"{path}, line 3: not valid JSON (Expecting ',' delimiter at column 19)"


def test_non_object_line_is_reported_without_field(tmp_path):
    path = tmp_path / "results.jsonl"
    _write_lines(path, ["[1, 2]"])
    with pytest.raises(RecordError, match=r"results.jsonl, line 1: a result must be an object, got list$"):
        list(read_jsonl(path, Result))


def test_invalid_utf8_is_reported_with_its_line(tmp_path):
    path = tmp_path / "responses.jsonl"
    path.write_bytes(json.dumps(ex.response().to_dict()).encode() + b'\n{"problem_id": "\xff"}\n')
    with pytest.raises(RecordError, match=r"responses.jsonl, line 2: not valid UTF-8"):
        list(read_jsonl(path, Response))


def _mixed_file(tmp_path):
    good = [json.dumps(p.to_dict()) for p in ex.all_problems()[:3]]
    stale = {**ex.numeric_problem().to_dict(), "statement": "Edited after the id was made."}
    path = tmp_path / "problems.jsonl"
    _write_lines(path, [good[0], "{oops", good[1], json.dumps(stale), good[2]])
    return path


def test_skip_keeps_reading_past_bad_lines_and_counts_them(tmp_path):
    report = ReadReport()
    problems = list(read_jsonl(_mixed_file(tmp_path), Problem, on_error="skip", report=report))
    assert problems == ex.all_problems()[:3]
    assert (report.records, report.skipped, report.errors) == (3, 2, [])


def test_collect_gives_every_error_back(tmp_path):
    report = ReadReport()
    problems = list(read_jsonl(_mixed_file(tmp_path), Problem, on_error="collect", report=report))
    assert len(problems) == 3
    assert [(e.line, e.field) for e in report.errors] == [(2, None), (4, "id")]
    assert not report.ok


def test_collect_without_a_report_is_refused_up_front(tmp_path):
    with pytest.raises(ValueError, match="needs report=ReadReport"):
        read_jsonl(_mixed_file(tmp_path), Problem, on_error="collect")


def test_check_ids_false_reads_stale_ids(tmp_path):
    assert len(list(read_jsonl(_mixed_file(tmp_path), Problem, on_error="skip", check_ids=False))) == 4


def test_missing_file_is_reported_at_call_time(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.jsonl"):
        read_jsonl(tmp_path / "nope.jsonl", Problem)


def test_unknown_suffix_is_refused_with_the_fix(tmp_path):
    with pytest.raises(ValueError, match=r"name it \.jsonl, \.jsonl\.gz or \.parquet"):
        write_records(tmp_path / "problems.csv", [], Problem)


def _failing(records, after):
    for i, record in enumerate(records):
        if i == after:
            raise RuntimeError("generator died")
        yield record


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz", ".parquet"])
def test_failed_write_leaves_no_partial_file(tmp_path, suffix):
    path = tmp_path / f"problems{suffix}"
    with pytest.raises(RuntimeError, match="generator died"):
        write_records(path, _failing(ex.all_problems(), after=3), Problem)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_failed_write_leaves_existing_file_untouched(tmp_path, suffix):
    path = tmp_path / f"problems{suffix}"
    write_records(path, ex.all_problems()[:2], Problem)
    before = path.read_bytes()
    with pytest.raises(RuntimeError):
        write_records(path, _failing(ex.all_problems(), after=4), Problem)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [path.name]


def test_parquet_refuses_a_record_of_another_type(tmp_path):
    with pytest.raises(TypeError, match="record 2 is a Seed, not a problem"):
        write_parquet(tmp_path / "p.parquet", [ex.numeric_problem(), ex.seed()], Problem)
    assert not (tmp_path / "p.parquet").exists()


def test_parquet_is_zstd_with_the_requested_row_groups(tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "responses.parquet"
    write_parquet(path, [ex.response()] * 25, Response, row_group_size=10)
    meta = pq.ParquetFile(path).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [10, 10, 5]
    assert meta.row_group(0).column(0).compression == "ZSTD"
    assert b"huggingface" in meta.metadata


def test_empty_parquet_file_has_the_schema_and_reads_as_nothing(tmp_path):
    path = tmp_path / "traces.parquet"
    assert write_parquet(path, [], Trace) == 0
    assert list(read_parquet(path, Trace)) == []


def test_parquet_row_error_names_the_row(tmp_path):
    import pyarrow.parquet as pq

    from curation.records import PROBLEM_FEATURES, problem_to_row

    rows = [problem_to_row(p) for p in ex.all_problems()]
    rows[4]["answer"]["items"][0]["expr"] = None
    path = tmp_path / "problems.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=PROBLEM_FEATURES.arrow_schema), path)
    with pytest.raises(RecordError) as caught:
        list(read_parquet(path, Problem))
    assert str(caught.value) == f"{path}, row 5, field answer.items.0.expr: is required"


def test_parquet_of_another_record_type_is_refused(tmp_path):
    path = tmp_path / "responses.parquet"
    write_parquet(path, [ex.response()], Response)
    with pytest.raises(RecordError, match="has no column.* not a problem file"):
        list(read_parquet(path, Problem))


def test_file_that_is_not_parquet_is_reported_with_its_path(tmp_path):
    path = tmp_path / "problems.parquet"
    path.write_text('{"statement": "not parquet"}\n', encoding="utf-8")
    with pytest.raises(RecordError, match=r"problems.parquet: not a readable Parquet file"):
        list(read_parquet(path, Problem))


def test_appender_appends_and_survives_reopen(tmp_path):
    path = tmp_path / "log.jsonl"
    with JsonlAppender(path) as log:
        log.append(ex.response())
    with JsonlAppender(path) as log:
        assert log.dropped_bytes == 0
        log.append(ex.result().to_dict())
    assert [json.loads(line) for line in _lines(path)] == [ex.response().to_dict(), ex.result().to_dict()]


def test_appender_drops_a_torn_last_line_on_reopen(tmp_path):
    path = tmp_path / "responses.jsonl"
    first = json.dumps(ex.response().to_dict()) + "\n"
    torn = '{"problem_id": "qft-0'
    path.write_text(first + torn, encoding="utf-8")
    with JsonlAppender(path) as log:
        assert log.dropped_bytes == len(torn)
        log.append(ex.response())
    assert list(read_jsonl(path, Response)) == [ex.response(), ex.response()]


def test_appender_drops_a_file_that_is_only_a_torn_line(tmp_path):
    path = tmp_path / "responses.jsonl"
    path.write_text('{"problem_id"', encoding="utf-8")
    with JsonlAppender(path) as log:
        assert log.dropped_bytes == 13
    assert path.read_bytes() == b""


def test_reader_explains_a_torn_last_line(tmp_path):
    path = tmp_path / "responses.jsonl"
    path.write_text(json.dumps(ex.response().to_dict()) + '\n{"problem_id": "qft-0', encoding="utf-8")
    with pytest.raises(RecordError, match="line 2: not valid JSON .*ends mid-line"):
        list(read_jsonl(path, Response))


def test_second_appender_on_the_same_log_is_refused(tmp_path):
    path = tmp_path / "log.jsonl"
    with JsonlAppender(path):
        with pytest.raises(RuntimeError, match="another process is appending"):
            JsonlAppender(path)


def test_jsonl_reading_is_lazy_on_a_100k_line_file(tmp_path):
    path = tmp_path / "responses.jsonl"
    line = json.dumps(ex.response().to_dict())
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(100_000):
            f.write(line + "\n")
        f.write("{torn")  # A reader that loaded everything first would fail before yielding anything.
    records = read_jsonl(path, Response)
    first = [next(records) for _ in range(10)]
    assert first == [ex.response()] * 10
    records.close()


def test_jsonl_reading_100k_lines_keeps_memory_flat(tmp_path):
    path = tmp_path / "responses.jsonl.gz"
    line = (json.dumps(ex.response().to_dict()) + "\n").encode()
    with gzip.open(path, "wb") as f:
        f.write(line * 100_000)
    tracemalloc.start()
    count = sum(1 for _ in read_jsonl(path, Response))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 100_000
    assert peak < 1_000_000  # the records alone would take ~20 MB


def test_parquet_reading_100k_rows_keeps_memory_flat(tmp_path):
    path = tmp_path / "responses.parquet"
    # 1 kB per row: 100 MB decoded in all, 10 MB per row group.
    response = Response("qft-0123456789abcdef", "The cross section is " + "x" * 1000)
    write_parquet(path, (response for _ in range(100_000)), Response, row_group_size=10_000)
    pool = pa.default_memory_pool()
    arrow_before = pool.bytes_allocated()
    tracemalloc.start()
    count = 0
    arrow_peak = 0
    for _ in read_parquet(path, Response, batch_size=1000):
        count += 1
        if count % 1000 == 0:
            arrow_peak = max(arrow_peak, pool.bytes_allocated() - arrow_before)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 100_000
    assert peak < 5_000_000  # all rows as Python objects would take over 100 MB
    assert arrow_peak < 40_000_000  # the whole decoded table would take over 100 MB


def test_record_errors_survive_pickling():
    error = RecordError("problems.jsonl", 12, "answer.items.1.expr", "is required")
    again = pickle.loads(pickle.dumps(error))
    assert (str(again), again.line, again.field) == (str(error), 12, "answer.items.1.expr")
    field_error = pickle.loads(pickle.dumps(FieldError("answer.expr", "is empty")))
    assert (field_error.path, field_error.message) == ("answer.expr", "is empty")
